"""Workers: take jobs from the queue, analyse the call, store the result.

Each worker runs calls one at a time (queued text interactions up to :data:`TEXT_BATCH` at
once, their sentences in one encoder pass) in its own analysis child process
(:class:`~callscope.analysis.child_process.AnalysisProcess`: models loaded once, memory capped at
``CALLSCOPE_WORKER_MEMORY_MB``), so one bad file fails alone, with a reason, and never takes
the API server down. A heartbeat thread renews the lease while a job runs, so a long call is not
taken over, and a dead worker's job is. A job that stops being this worker's (its call was
erased, or its lease was taken over) is cancelled within a second: the child is killed and its
data dropped.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

from callscope.analysis.call_settings import CallSettings
from callscope.analysis.child_process import AnalysisCancelled, AnalysisProcess, AnalysisStopped, TextItem
from callscope.errors import AudioInputError
from callscope.privacy.call_keys import check_keyring, open_value
from callscope.service.config import ServiceSettings
from callscope.store import jobs
from callscope.store.audio_refs import redact_audio
from callscope.store.audio_store import AudioStore
from callscope.store.db import Call, make_engine, session_factory, utcnow

log = logging.getLogger("callscope.worker")

#: text interactions scored together by one worker (their sentences in one encoder pass)
TEXT_BATCH = 32
#: ... and at most about this many characters of messages (JSON) in one batch: a few long e-mail
#: threads go alone rather than together past the worker's memory limit
TEXT_BATCH_CHARS = 200_000


@dataclass(frozen=True)
class _Job:
    """A claimed job's call: where its audio is (a call) or its messages (a text interaction)."""

    claim: jobs.Claim
    audio_key: str | None
    name: str | None
    settings: CallSettings | None
    source: str | None


class Worker:
    """One worker; :meth:`run_forever` until ``stop`` is set, or :meth:`run_once`."""

    def __init__(self, settings: ServiceSettings, worker_id: str | None = None, analysis=None) -> None:
        """``analysis``: the :class:`~callscope.analysis.pipeline.AnalysisSettings` to analyse with
        (default: the deployment's, :func:`analysis_settings`)."""
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions: sessionmaker = session_factory(self.engine, keyring_file=settings.keyring_file)
        self.store = AudioStore(settings.audio_dir)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.analysis = AnalysisProcess(analysis or analysis_settings(settings), settings.worker_memory_mb)
        self.stop = threading.Event()
        self._topics_next = 0.0  # time.monotonic() from which the daily topic run is looked for

    def load(self) -> None:
        """Check the keyring (:func:`~callscope.privacy.call_keys.check_keyring`: a wrong one is refused
        before any key is made under it), then start the analysis process and load its models
        (otherwise done on the first job)."""
        check_keyring(self.sessions)
        self.analysis.start()

    def _progress(self, call_id: str, stage: str) -> None:
        from callscope.analysis.pipeline import STAGES

        with self.sessions() as s:
            s.execute(update(Call).where(Call.id == call_id).values(stage=stage, progress=round(STAGES.index(stage) / len(STAGES), 3)))
            s.commit()

    def run_once(self) -> bool:
        """Run one job if there is one (a text interaction with up to :data:`TEXT_BATCH` − 1 more
        queued ones, scored together); True if a job was run."""
        st = self.settings
        claim = jobs.claim(self.sessions, self.worker_id, st.lease_s, st.max_attempts)
        if claim is None:
            return self._rescore() or self._topics()
        try:
            job = self._load(claim)
        except Exception as exc:  # noqa: BLE001 - the job is retried, then recorded
            log.exception("job %s failed", claim.job_id)
            jobs.fail(self.sessions, claim, self.worker_id, f"{type(exc).__name__}: {exc}", st.max_attempts, st.retry_backoff_s)
            return True
        if job is None:  # erased between the claim and now
            return True
        if job.source is not None:  # a text interaction (service/interactions.py)
            self._run_texts([job, *self._more_texts(TEXT_BATCH - 1, TEXT_BATCH_CHARS - len(job.source))])
            return True
        with self._beating([claim]):
            self._guarded(claim, lambda: self._run_call(job))
        return True

    def _load(self, claim: jobs.Claim) -> _Job | None:
        with self.sessions() as s:
            call = s.get(Call, claim.call_id)
            if call is None:
                return None
            name, settings_json = open_value(s, call.id, "filename", call.filename), call.settings_json
            source = open_value(s, call.id, "source_json", call.source_json) if call.source_json else None
            return _Job(claim, call.audio_key, name,
                        CallSettings.model_validate_json(settings_json) if settings_json else None, source)

    def _more_texts(self, n: int, chars: int) -> list[_Job]:
        """Up to ``n`` more queued text interactions, claimed, until their stored messages pass
        ``chars`` characters (the last one may pass it)."""
        st, more = self.settings, list[_Job]()
        while len(more) < n and chars > 0:
            claim = jobs.claim(self.sessions, self.worker_id, st.lease_s, st.max_attempts, text_only=True)
            if claim is None:
                break
            try:
                job = self._load(claim)
            except Exception as exc:  # noqa: BLE001 - as in run_once
                log.exception("job %s failed", claim.job_id)
                jobs.fail(self.sessions, claim, self.worker_id, f"{type(exc).__name__}: {exc}", st.max_attempts,
                          st.retry_backoff_s)
                continue
            if job is not None:
                more.append(job)
                chars -= len(job.source or "")
        return more

    @contextmanager
    def _beating(self, claims: list[jobs.Claim]) -> Iterator[None]:
        """Renew the claims' leases every third of a lease while the block runs."""
        st, stop = self.settings, threading.Event()

        def beat() -> None:
            alive = list(claims)
            while alive and not stop.wait(st.lease_s / 3):
                alive = [c for c in alive if jobs.heartbeat(self.sessions, c, self.worker_id, st.lease_s)]

        threading.Thread(target=beat, daemon=True).start()
        try:
            yield
        finally:
            stop.set()

    def _still_mine(self, claims: list[jobs.Claim]) -> Callable[[], bool]:
        """A ``cancelled`` test: true once none of ``claims`` is this worker's to run any more."""
        return lambda: not any(jobs.still_running(self.sessions, c, self.worker_id) for c in claims)

    def _guarded(self, claim: jobs.Claim, work: Callable[[], None]) -> None:
        """Run ``work`` for ``claim``; a failure is recorded on its job (retried or not, with the reason)."""
        st = self.settings
        try:
            work()
        except AnalysisCancelled:
            log.warning("job %s (call %s) was cancelled while running (erased or taken over); its data is dropped",
                        claim.job_id, claim.call_id)
        except AudioInputError as exc:
            jobs.fail(self.sessions, claim, self.worker_id, exc.reason, st.max_attempts, st.retry_backoff_s, permanent=True)
        except AnalysisStopped as exc:
            log.warning("job %s: %s", claim.job_id, exc.reason)
            jobs.fail(self.sessions, claim, self.worker_id, exc.reason, st.max_attempts, st.retry_backoff_s,
                      permanent=exc.permanent)
        except Exception as exc:  # noqa: BLE001 - any other failure is retried, then recorded
            log.exception("job %s failed", claim.job_id)
            jobs.fail(self.sessions, claim, self.worker_id, f"{type(exc).__name__}: {exc}", st.max_attempts, st.retry_backoff_s)

    def _run_call(self, job: _Job) -> None:
        st, claim = self.settings, job.claim
        assert job.audio_key is not None
        # the stored file has no name of the user's: the decoder probes its content
        result = self.analysis.analyze(self.store.path(job.audio_key), job.settings,
                                       on_stage=lambda stage: self._progress(claim.call_id, stage),
                                       cancelled=self._still_mine([claim]))
        if result.redactions and st.redact_audio:  # what was redacted in the text is silenced in the stored audio
            redact_audio(self.sessions, self.store, job.audio_key, [(r.start, r.end, r.channel) for r in result.redactions],
                         st.max_duration_s, st.sealing_key)
        self._store_result(job, result)

    def _run_texts(self, batch: list[_Job]) -> None:
        """Score text interactions together in the child (one encoder pass for all their sentences)
        and store each; when the batch fails as a whole, each is run again alone, so that one
        failure is recorded on its own job only."""
        claims = [job.claim for job in batch]
        with self._beating(claims):
            items = []
            for job in batch:
                thread = json.loads(job.source or "{}")
                items.append(TextItem(thread["channel"], json.dumps(thread["messages"]), job.name or "", job.settings))
            if len(batch) == 1:
                self._guarded(claims[0], lambda: self._store_result(
                    batch[0], self.analysis.analyze_texts(items, cancelled=self._still_mine(claims))[0]))
                return
            try:
                results = self.analysis.analyze_texts(items, cancelled=self._still_mine(claims))
            except AnalysisCancelled:
                log.warning("a batch of %d text interactions was cancelled (all erased or taken over)", len(batch))
                return
            except Exception as exc:  # noqa: BLE001 - each is tried alone below
                log.warning("a batch of %d text interactions failed (%s: %s); each is scored alone",
                            len(batch), type(exc).__name__, exc)
                results = None
        if results is None:
            for job in batch:
                self._run_texts([job])
            return
        log.info("%d text interactions scored together", len(batch))
        for job, result in zip(batch, results):
            self._guarded(job.claim, functools.partial(self._store_result, job, result))

    def _store_result(self, job: _Job, result) -> None:
        """Store ``result`` as ``job``'s call's analysis and close the job (dropped if the job is no
        longer this worker's)."""
        from callscope.qa import insights

        st, claim = self.settings, job.claim
        result.file = job.name if job.name is not None else result.file
        ready = insights.precompute(self.sessions, claim.call_id, result)  # outside the write transaction
        if not jobs.complete(self.sessions, claim, self.worker_id, result, st.review_delays, ready, st.journey_rules):
            log.warning("job %s was taken over while running; result dropped", claim.job_id)
            return
        log.info("call %s analysed: %.1f s of audio, %d utterances, %d redactions", claim.call_id,
                 result.duration_s, len(result.utterances), len(result.redactions))
        if st.summary_model is not None and result.status == "analysed":
            self._generated_summary(claim.call_id, result)

    def _generated_summary(self, call_id: str, result) -> None:
        """The call's summary from the deployment's local model, from the analysis just stored
        (its text redacted as stored); the call is already done, so a slow model delays only the
        next job, by at most the budget."""
        from callscope.qa import generated_summaries

        st = self.settings
        assert st.summary_model is not None
        made = generated_summaries.make(self.sessions, call_id, result, st.summary_model, st.summary_budget_s)
        if made.text is None:
            log.warning("call %s: no generated summary (%s); the extractive summary stands", call_id, made.fallback)
        else:
            log.info("call %s: summary written by %s in %.1f s", call_id, made.model, made.seconds)

    def _rescore(self) -> bool:
        """Take a queued re-scoring run (no analysis is waiting) and do it; True if one was done.
        Analyses wait for it: a run goes at the database's speed (about 200 calls a second)."""
        from callscope.qa import rescoring

        run_id = rescoring.claim(self.sessions, self.worker_id, self.settings.lease_s)
        if run_id is None:
            return False
        try:
            rescoring.run(self.sessions, run_id, worker_id=self.worker_id, lease_s=self.settings.lease_s,
                          journey_rules=self.settings.journey_rules)
        except rescoring.TakenOver:
            log.warning("re-scoring run %d was taken over by another worker", run_id)
        except rescoring.Cancelled:
            log.warning("re-scoring run %d was cancelled", run_id)
        except Exception:  # noqa: BLE001 - recorded on the run by rescoring.run
            log.exception("re-scoring run %d failed", run_id)
        return True

    def _topics(self) -> bool:
        """Yesterday's topic run, once a day, when nothing else waits (checked every ten
        minutes); True if one was made. A day with too few statements is skipped quietly."""
        if not self.settings.topics_daily or time.monotonic() < self._topics_next:
            return False
        self._topics_next = time.monotonic() + 600
        from sqlalchemy.exc import IntegrityError

        from callscope.qa import topics

        with self.sessions() as s:
            day = topics.due(s, utcnow().date())
            if day is None:
                return False
            try:
                made = topics.run(s, day, day, "worker", auto=True)
                s.commit()
                log.info("topic run %d of %s: %d topics", made.id, day, len(json.loads(made.topics_json)["topics"]))
            except topics.TopicsError as exc:
                log.info("no topic run of %s: %s", day, exc)
            except IntegrityError:  # another worker made it
                s.rollback()
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
        self.analysis.close()


def analysis_settings(settings: ServiceSettings):
    """The deployment's :class:`~callscope.analysis.pipeline.AnalysisSettings` (a call's own settings go on top),
    from the same builder as ``callscope analyze``."""
    from callscope.analysis.pipeline import build_analysis_settings

    return build_analysis_settings(
        model=settings.whisper_model, model_dir=str(settings.model_dir) if settings.model_dir else None,
        model_dirs=settings.language_model_dirs, language=settings.language, languages=settings.allowed_languages,
        unsupported_language=settings.unsupported_language, redaction=settings.redaction,
        max_duration_s=settings.max_duration_s, agent_acoustic_emotion=settings.agent_acoustic_emotion,
        correct_channel_map=settings.correct_channel_map, lone_speaker_role=settings.lone_speaker_role,
        reasons_language=settings.reasons_language,
        sentiment_head=str(settings.sentiment_head) if settings.sentiment_head else None,
        arousal_population=settings.arousal_population,
        arousal_population_path=str(settings.data_dir / "arousal-population.json"))
