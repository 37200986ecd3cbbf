"""Analysis orchestration: the pipeline that runs audio → transcription → scoring on one call, the
watched child process it runs in, per-call settings, output formats and the timeline plot."""
