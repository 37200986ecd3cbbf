"""Service core, storage: the database (models, engine, migrations), the job queue, the audio store
and its references, derived columns and the shared rate-limit counters."""
