"""What the tests share (and the benchmarks that drive the same real components): a real server
and its workers (:mod:`.server`), a throw-away PostgreSQL cluster (:mod:`.postgres`), a local Ray
cluster (:mod:`.ray_cluster`), a webhook receiver (:mod:`.webhooks`), the worker pool's processes
(:mod:`.workers`) and rule sets written for the shared calls (:mod:`.rules`)."""
