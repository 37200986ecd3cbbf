"""How many calls hold each stored audio file, and the lock that guards the file.

Every change to a content-addressed file happens inside a database transaction that first
writes the file's ``audio_files`` row: :func:`hold` (an upload places the file), :func:`release`
(an erasure removes it when no call holds it any more) and :func:`sweep_orphans`. The row write
takes the row's lock (PostgreSQL) or the database's write lock (SQLite) until the transaction
ends, so these never interleave for one file: an erasure cannot delete a file that an upload of
the same bytes is committing, and two uploads never lose each other's reference.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from callscope.store.audio_store import AudioStore
from callscope.store.db import AudioFile, insert_for


def hold(session: Session, store: AudioStore, key: str, pending: Path | None) -> None:
    """One more call holds ``key``: count it, then (under the row's lock) put the uploaded bytes
    at their address. The caller commits."""
    stmt = insert_for(session, AudioFile).values(key=key, refs=1)
    session.execute(stmt.on_conflict_do_update(index_elements=[AudioFile.key], set_={"refs": AudioFile.refs + 1}))
    if pending is not None:
        store.place(pending, key)


def release(session: Session, store: AudioStore, key: str) -> bool:
    """One call less holds ``key``; when none does, the file is deleted (under the row's lock,
    before the caller commits). True if the file was deleted."""
    refs = session.execute(update(AudioFile).where(AudioFile.key == key).values(refs=AudioFile.refs - 1)
                           .returning(AudioFile.refs)).scalar_one_or_none()
    if refs is not None and refs > 0:
        return False
    session.execute(delete(AudioFile).where(AudioFile.key == key))
    store.delete(key)
    return True


def _lock(session: Session, key: str) -> int | None:
    """Take the row lock of ``key``'s file (a no-op write); its reference count, None if no row."""
    return session.execute(update(AudioFile).where(AudioFile.key == key).values(refs=AudioFile.refs)
                           .returning(AudioFile.refs)).scalar_one_or_none()


def write_redacted(store: AudioStore, key: str, source: Path, target: Path,
                   spans: list[tuple[float, float, int | None]], max_duration_s: float,
                   sealing_key: bytes | None = None) -> None:
    """Write ``source`` (the recording stored at ``key``) to ``target`` with ``spans`` (start s,
    end s, channel) silenced (:func:`callscope.audio.silence.silence`). With ``sealing_key`` the
    unredacted ``source`` is first sealed (:mod:`callscope.privacy.sealed`) at
    :meth:`AudioStore.original_path`, unless an earlier redaction sealed it already."""
    from callscope.audio.silence import silence
    from callscope.privacy.sealed import seal

    if sealing_key is not None and not store.original_path(key).exists():  # the first redaction had the original
        seal(source, store.original_path(key), sealing_key, key)
    silence(source, target, spans, max_duration_s=max_duration_s)


def redact_audio(sessions: sessionmaker, store: AudioStore, key: str, spans: list[tuple[float, float, int | None]],
                 max_duration_s: float, sealing_key: bytes | None = None) -> bool:
    """Replace the stored file at ``key`` by a copy with ``spans`` (start s, end s, channel)
    silenced (:func:`callscope.audio.silence.silence`), under the row's lock. The unredacted
    bytes are not kept, unless ``sealing_key`` is given: then they are first sealed
    (:mod:`callscope.privacy.sealed`) at :meth:`AudioStore.original_path`. False if no call holds the
    file any more (erased meanwhile)."""
    with sessions() as s:
        refs = _lock(s, key)
        path = store.path(key)
        if not refs or not path.is_file():
            s.rollback()
            return False
        tmp = path.with_name(path.name + ".redacting")
        try:
            write_redacted(store, key, path, tmp, spans, max_duration_s, sealing_key)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        s.commit()
    return True


def sweep_orphans(sessions: sessionmaker, store: AudioStore) -> int:
    """Delete stored files that no call holds (left when a process died between placing a file
    and committing its call). Each is checked and removed under its row's lock; returns how many."""
    with sessions() as s:
        known = set(s.execute(select(AudioFile.key).where(AudioFile.refs > 0)).scalars())
    n = 0
    for key in store.keys():
        if key in known:
            continue
        with sessions() as s:
            s.execute(insert_for(s, AudioFile).values(key=key, refs=0).on_conflict_do_nothing(index_elements=[AudioFile.key]))
            if (_lock(s, key) or 0) <= 0:
                s.execute(delete(AudioFile).where(AudioFile.key == key))
                store.delete(key)
                n += 1
            s.commit()
    return n
