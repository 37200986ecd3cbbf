"""Backfill results into the service (``--into-service``): each analysed recording becomes a
call exactly as an upload plus a worker would have made it, in one transaction.

The call row (:func:`~callscope.service.intake.call_values`: metadata, keyed hashes of customer ids),
the audio in the store (held by reference count, redacted as the worker redacts it, the original
sealed when the deployment keeps originals), a finished job, the score columns, the categories
under the active rule set and the alerts' outbox rows: all are committed together, or none.
The driver is the only writer, and a call is looked up by (content SHA-256, external id) before
its recording is analysed and again when it is written, so a re-run skips it and none is stored
twice. The database is ``CALLSCOPE_DATABASE_URL`` and the store ``CALLSCOPE_AUDIO_STORE``: on a
cluster, PostgreSQL and a directory on a shared file system that the service sees too.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

from sqlalchemy import select

from callscope.alerts import outbox as alerts
from callscope.analysis.schema import CallAnalysis
from callscope.qa import categories, journeys
from callscope.service.config import ServiceSettings
from callscope.service.intake import UploadMeta, call_values, insert_call
from callscope.store.audio_refs import hold, write_redacted
from callscope.store.audio_store import TEMP_PREFIX, AudioStore
from callscope.store.call_columns import final_status, write_scores
from callscope.store.db import AudioFile, Call, Job, make_engine, migrate, session_factory, utcnow


class ServiceSink:
    """Writes backfilled calls into the database and audio store of ``settings``."""

    def __init__(self, settings: ServiceSettings) -> None:
        from callscope.privacy.pseudonyms import deployment_secret

        migrate(settings.database_url)
        self.settings = settings
        self.journey_rules = settings.journey_rules
        self.engine = make_engine(settings.database_url)
        self.sessions = session_factory(self.engine, keyring_file=settings.keyring_file)
        self.store = AudioStore(settings.audio_dir)
        self.secret = deployment_secret(settings)
        self.worker_id = f"backfill:{socket.gethostname()}:{os.getpid()}"

    def _existing(self, session, sha256: str, external_id: str | None) -> str | None:
        same = Call.external_id.is_(None) if external_id is None else Call.external_id == external_id
        return session.execute(select(Call.id).where(Call.sha256 == sha256, same).limit(1)).scalar_one_or_none()

    def is_done(self, sha256: str, external_id: str | None) -> bool:
        """Whether the service holds a call with this content and external id (in any state: an
        uploaded call still queued is the service's to analyse)."""
        with self.sessions() as s:
            return self._existing(s, sha256, external_id) is not None

    def _stored_copy(self, source: Path, result: CallAnalysis, key: str) -> Path:
        """A copy of ``source`` in the store's temporary area, redacted as the worker redacts
        (what was redacted in the text is silenced), ready to be placed at ``key``."""
        fd, tmp = tempfile.mkstemp(dir=self.store.root, prefix=TEMP_PREFIX)  # mode 0600
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            spans = [(r.start, r.end, r.channel) for r in result.redactions]
            if spans and self.settings.redact_audio:
                write_redacted(self.store, key, source, tmp_path, spans, self.settings.max_duration_s,
                               self.settings.sealing_key)
            else:
                shutil.copyfile(source, tmp_path)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        return tmp_path

    def write(self, sha256: str, size_bytes: int, path: Path, meta: UploadMeta, result: CallAnalysis) -> str | None:
        """Store one analysed recording as a call; its id, or None when the service already held
        a call with this content and external id (nothing is written then). The audio is copied
        (and redacted) before the transaction, so the database is locked only for the rows."""
        key = self.store.key_for(sha256)
        pending = None if self.store.path(key).is_file() else self._stored_copy(path, result, key)
        try:
            with self.sessions() as s:
                if self._existing(s, sha256, meta.external_id) is not None:
                    return None
                values = call_values(meta, sha256=sha256, key=key, filename=path.name[:255], size_bytes=size_bytes,
                                     secret=self.secret, status="running", stage="done")
                call_id = insert_call(s, values)
                if call_id is None:  # another writer stored the pair meanwhile
                    s.rollback()
                    return None
                held = s.execute(select(AudioFile.refs).where(AudioFile.key == key)).scalar_one_or_none()
                if held and self.store.path(key).is_file():
                    hold(s, self.store, key, None)  # the bytes are stored already: one more call holds them
                else:
                    if pending is None:  # erased since we looked: store them again
                        pending = self._stored_copy(path, result, key)
                    hold(s, self.store, key, pending)
                s.add(Job(call_id=call_id, status="done", attempts=1, worker_id=self.worker_id, next_run_at=utcnow()))
                s.flush()
                row = s.get(Call, call_id)
                active = categories.active(s)
                final = categories.scored(s, row, result, active)
                call, matches, version = write_scores(s, call_id, final, under=active, status=final_status(result), stage="done",
                                                      progress=1.0, error=None, result_json=result.model_dump_json())
                alerts.on_call_done(s, call, call.escalation, matches, version.rules, version.label)
                journeys.refresh(s, [call.customer_key], self.journey_rules)
                s.commit()
                return call_id
        finally:
            if pending is not None:
                pending.unlink(missing_ok=True)  # moved into place already, or not needed
