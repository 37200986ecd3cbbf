"""Workers: take jobs from the queue, analyse the call, store the result.

Each worker loads the models once and runs jobs one at a time; a heartbeat thread renews the
lease while a job runs, so a long call is not taken over, and a dead worker's job is.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

from callscope.api import jobs
from callscope.api.audio_store import AudioStore
from callscope.api.config import ServiceSettings
from callscope.api.db import Call, make_engine, session_factory
from callscope.errors import AudioInputError

log = logging.getLogger("callscope.worker")


class Worker:
    """One worker; :meth:`run_forever` until ``stop`` is set, or :meth:`run_once`."""

    def __init__(self, settings: ServiceSettings, analyzer=None, worker_id: str | None = None) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions: sessionmaker = session_factory(self.engine)
        self.store = AudioStore(settings.audio_dir)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._analyzer = analyzer
        self.stop = threading.Event()

    @property
    def analyzer(self):
        if self._analyzer is None:
            from callscope.pipeline import Analyzer

            self._analyzer = Analyzer()
        return self._analyzer

    def _progress(self, call_id: str, stage: str) -> None:
        from callscope.pipeline import STAGES

        with self.sessions() as s:
            s.execute(update(Call).where(Call.id == call_id).values(stage=stage, progress=round(STAGES.index(stage) / len(STAGES), 3)))
            s.commit()

    def run_once(self) -> bool:
        """Run one job if there is one; True if a job was run."""
        st = self.settings
        claim = jobs.claim(self.sessions, self.worker_id, st.lease_s, st.max_attempts)
        if claim is None:
            return False
        beating = threading.Event()

        def beat() -> None:
            while not beating.wait(st.lease_s / 3):
                if not jobs.heartbeat(self.sessions, claim, self.worker_id, st.lease_s):
                    return

        threading.Thread(target=beat, daemon=True).start()
        try:
            with self.sessions() as s:
                call = s.get(Call, claim.call_id)
                key, name = call.audio_key, call.filename
            # the stored file has no name of the user's: the decoder probes its content
            result = self.analyzer.analyze(self.store.path(key), on_stage=lambda stage: self._progress(claim.call_id, stage))
            result.file = name
            if not jobs.complete(self.sessions, claim, self.worker_id, result):
                log.warning("job %s was taken over while running; result dropped", claim.job_id)
        except AudioInputError as exc:
            jobs.fail(self.sessions, claim, self.worker_id, exc.reason, st.max_attempts, st.retry_backoff_s, permanent=True)
        except Exception as exc:  # noqa: BLE001 - any other failure is retried, then recorded
            log.exception("job %s failed", claim.job_id)
            jobs.fail(self.sessions, claim, self.worker_id, f"{type(exc).__name__}: {exc}", st.max_attempts, st.retry_backoff_s)
        finally:
            beating.set()
        return True

    def run_forever(self, idle_s: float = 0.5) -> None:
        """Take jobs until ``stop`` is set. A database hiccup is logged and retried, never fatal:
        a dead worker thread would leave every call queued."""
        while not self.stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # noqa: BLE001
                log.exception("worker %s: could not take a job; retrying", self.worker_id)
                ran = False
            if not ran:
                self.stop.wait(idle_s)
