"""Service core: the deployment's settings, API keys, intake of calls, workers and their
supervised pool, the feed and the metrics; used by the API, the CLI and the backfill alike."""
