"""``callscope worker --ray``: the service's database queue drained by a pool of Ray actors.

Each actor runs one ordinary service worker (:class:`~callscope.service.worker.Worker`): it claims
jobs with leases, analyses in its own watched child process (memory cap, cancellation on
erasure), stores results and sends alerts, exactly as ``callscope worker`` does on one machine.
Ray only places the workers on the cluster and restarts one that dies; the queue's leases make
a job that a dead worker held claimable again, so nothing is lost or done twice. Every node
needs the database (``CALLSCOPE_DATABASE_URL``, PostgreSQL on a cluster) and the audio store
(``CALLSCOPE_AUDIO_STORE`` on a shared file system) under the same URL and path.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any


class QueueWorker:
    """A Ray actor holding one service worker built from ``settings`` (the driver's
    :class:`~callscope.service.config.ServiceSettings`) that analyses with ``analysis`` (the
    deployment's :class:`~callscope.analysis.pipeline.AnalysisSettings` for this actor's device and CPUs)."""

    def __init__(self, settings, analysis) -> None:
        from callscope.alerts.delivery import Dispatcher
        from callscope.service.worker import Worker

        os.umask(0o077)
        self.worker = Worker(settings, worker_id=f"ray:{socket.gethostname()}:{os.getpid()}", analysis=analysis)
        self.worker.load()  # models loaded once, before taking work
        threading.Thread(target=Dispatcher.for_settings(self.worker.sessions, settings).run_forever,
                         name="callscope-alerts", daemon=True).start()

    def where(self) -> dict:
        import ray

        return {"worker_id": self.worker.worker_id, "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}

    def run(self) -> str:
        """Take jobs until :meth:`stop`; returns the worker id."""
        self.worker.stop.clear()
        self.worker.run_forever()
        return self.worker.worker_id

    def stop(self) -> None:
        """Let :meth:`run` return after the job at hand."""
        self.worker.stop.set()


def run_on_ray(settings, n: int, options: dict, device: str, cpus_per_actor: float, say=print) -> None:
    """Start ``n`` :class:`QueueWorker` actors (Ray ``options``: CPUs, GPU share) and keep each
    taking jobs until Ctrl-C; a worker that dies is restarted by Ray and set to work again."""
    import ray

    from callscope.backfill.cluster import for_actor
    from callscope.backfill.pool import is_actor_death
    from callscope.service.worker import analysis_settings

    remote: Any = ray.remote(QueueWorker).options(max_restarts=-1, max_task_retries=0, max_concurrency=2, **options)
    analysis = for_actor(analysis_settings(settings), device, cpus_per_actor)
    pool = [remote.remote(settings, analysis) for _ in range(n)]
    for place in ray.get([a.where.remote() for a in pool]):
        say(f"worker {place['worker_id']} ready on node {place['node'][:12]}")
    running = {a.run.remote(): i for i, a in enumerate(pool)}
    try:
        while running:
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                i = running.pop(ref)
                try:
                    ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a dead worker is set to work again
                    if not is_actor_death(exc):
                        raise
                    say(f"worker {i} died ({type(exc).__name__}); Ray restarts it, its job is taken over when "
                        "its lease runs out")
                    running[pool[i].run.remote()] = i
    except KeyboardInterrupt:
        say("stopping: each worker finishes the job at hand")
        ray.get([a.stop.remote() for a in pool], timeout=60)
        ray.wait(list(running), num_returns=len(running), timeout=settings.lease_s * 2)
