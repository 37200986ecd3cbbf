"""Bulk backfills on Ray: years of recordings analysed by a pool of actors that each load the
models once (``callscope backfill``). The database job queue stays the single-machine default;
this is how the analysis uses more than one machine.

- :mod:`.source`: what to analyse (a directory, or a CSV/Parquet manifest with the upload's
  metadata), each recording named by its content SHA-256 and external id.
- :mod:`.actor`: the Ray actor (one :class:`~callscope.analysis.pipeline.Analyzer` per actor).
- :mod:`.pool`: hands recordings to the actors, retries a recording whose actor died (a bounded
  number of times), and reports each outcome to the driver.
- :mod:`.file_sink` / :mod:`.service_sink`: where results go (JSON files and a Parquet feed, or
  the service's database and audio store); both are written by the driver alone, keyed by
  content hash and external id, so a recording is stored once however often it was analysed.
"""
