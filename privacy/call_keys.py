"""Crypto-shredding: a call's personal text is stored encrypted under a key of its own, and
erasing the call destroys that key.

Each call gets a random 256-bit data key the first time something of it is sealed. The data key
is kept in the table ``call_keys``, wrapped (AES-256-GCM) under a key-encryption key from the
deployment's keyring, a file outside the database (``CALLSCOPE_KEYRING``, by default
``<data_dir>/call-keys.keyring``, 0600).
What is sealed under it: the file name, the analysis result (transcript, scores), the words kept
for search, the matched text of categories, and the corrections' values, reasons and display
names. A sealed value is
``cs1:`` and the URL-safe base64 of a random 96-bit nonce and the ciphertext; its associated
data is the call id and the column, so a value cannot be moved to another call or column.

So a database file, index, WAL segment, statistics page or backup holds the text only as
ciphertext. Erasure deletes the call's key row; on SQLite (``secure_delete``) its bytes are
overwritten at once. On PostgreSQL the deleted key row may stay on disk and in backups until its
space is reused, but it is wrapped: :func:`rotate` (``callscope rotate-keyring``) re-wraps every
live key under a new key-encryption key and removes the old one from the keyring, after which no
copy of an erased call's key, anywhere, can be opened. A value stored before encryption (no
prefix) is read as it is and sealed by :func:`seal_existing` at the service's start.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from callscope.privacy.secret_box import SecretBoxError, open_text, seal_text

PREFIX = "cs1:"
KEYRING_NAME = "call-keys.keyring"
#: Data keys held in memory per process (about 250 bytes each with the bookkeeping, so 16 MB at
#: most; erasure also drops the key here). Large enough that the list's transcript search over
#: tens of thousands of calls unwraps each key once per process, not at every search.
CACHE_SIZE = 65_536


class CallKeyError(RuntimeError):
    """A sealed value that cannot be opened: its call's key is gone (erased) or was wrapped under a
    key-encryption key this keyring no longer holds, or the value was changed."""


class CallErased(CallKeyError):
    """The call's key is gone: the call was erased after its row was read (the API answers 404)."""

    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id} has no key (erased)")
        self.call_id = call_id


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


class Keyring:
    """The deployment's key-encryption keys, in one JSON file: ``{"current": id, "keys": {id:
    base64}}``. Made on first use (0600). Every process reads it again when the file changed
    since it last read it (a rotation replaces it), so a rotated-out key leaves memory too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._current = ""
        self._keys: dict[str, bytes] = {}

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Keyring:
        return cls(data_dir / KEYRING_NAME)

    def _write(self, current: str, keys: dict[str, bytes]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"current": current, "keys": {k: _b64(v) for k, v in keys.items()}}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def _read(self) -> None:
        if not self.path.exists():
            kek_id = secrets.token_hex(4)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:  # made once: a second process racing here reads the first one's file
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    json.dump({"current": kek_id, "keys": {kek_id: _b64(os.urandom(32))}}, f)
                    f.flush()
                    os.fsync(f.fileno())
        for _ in range(50):  # a file created a moment ago may still be empty
            raw = self.path.read_text()
            if raw:
                break
            time.sleep(0.01)
        data = json.loads(raw)
        st = self.path.stat()
        self._stamp = (st.st_mtime_ns, st.st_ino)
        self._current = data["current"]
        self._keys = {k: _unb64(v) for k, v in data["keys"].items()}

    def _fresh(self) -> None:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp is None or stamp != self._stamp:
            self._read()

    def current(self) -> tuple[str, bytes]:
        """The id and key that new data keys are wrapped under (the file is checked for a rotation)."""
        with self._lock:
            self._fresh()
            return self._current, self._keys[self._current]

    def get(self, kek_id: str) -> bytes | None:
        """The key-encryption key ``kek_id``; None once it has been rotated out (the file is checked
        each time: a data key is unwrapped once per call and process, then cached)."""
        with self._lock:
            self._fresh()
            return self._keys.get(kek_id)

    def ids(self) -> list[str]:
        with self._lock:
            self._fresh()
            return list(self._keys)

    def add(self) -> str:
        """A new key-encryption key, made current (the old ones stay until :meth:`keep_only`)."""
        with self._lock:
            self._fresh()
            kek_id = secrets.token_hex(4)
            while kek_id in self._keys:
                kek_id = secrets.token_hex(4)
            self._write(kek_id, {**self._keys, kek_id: os.urandom(32)})
            self._read()
            return kek_id

    def keep_only(self, kek_id: str) -> None:
        """Forget every key-encryption key but ``kek_id`` (the file is replaced, not edited)."""
        with self._lock:
            self._fresh()
            self._write(kek_id, {kek_id: self._keys[kek_id]})
            self._read()


@dataclass(frozen=True)
class Wrapped:
    """A data key as stored: the key-encryption key's id and the wrapped bytes (base64)."""

    kek_id: str
    wrapped: str


def wrap(data_key: bytes, kek: bytes, kek_id: str, call_id: str) -> Wrapped:
    nonce = os.urandom(12)
    return Wrapped(kek_id, _b64(nonce + AESGCM(kek).encrypt(nonce, data_key, f"call-key:{call_id}".encode())))


def unwrap(stored: Wrapped, kek: bytes, call_id: str) -> bytes:
    raw = _unb64(stored.wrapped)
    try:
        return AESGCM(kek).decrypt(raw[:12], raw[12:], f"call-key:{call_id}".encode())
    except InvalidTag as exc:
        raise CallKeyError(f"the key of call {call_id} does not open with key-encryption key {stored.kek_id}") from exc


class CallCrypt:
    """Seals and opens one deployment's per-call values. Thread-safe; data keys are cached in
    memory (at most :data:`CACHE_SIZE`)."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, call_id: str) -> bytes | None:
        with self._lock:
            key = self._cache.get(call_id)
            if key is not None:
                self._cache.move_to_end(call_id)
            return key

    def _remember(self, call_id: str, key: bytes) -> None:
        with self._lock:
            self._cache[call_id] = key
            self._cache.move_to_end(call_id)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def forget(self, call_id: str) -> None:
        """Drop a call's data key from this process's memory (after its erasure)."""
        with self._lock:
            self._cache.pop(call_id, None)

    def _stored(self, session: Session, call_id: str) -> Wrapped | None:
        from callscope.store.db import CallKey

        row = session.execute(select(CallKey.kek_id, CallKey.wrapped).where(CallKey.call_id == call_id)).first()
        return Wrapped(row[0], row[1]) if row else None

    def _open_stored(self, stored: Wrapped, call_id: str) -> bytes:
        kek = self.keyring.get(stored.kek_id)
        if kek is None:
            raise CallKeyError(f"the key of call {call_id} is wrapped under key-encryption key {stored.kek_id}, "
                               f"which the keyring {self.keyring.path} no longer holds")
        return unwrap(stored, kek, call_id)

    def key(self, session: Session, call_id: str, *, create: bool = False) -> bytes | None:
        """The data key of ``call_id``: from memory, else the database; with ``create`` a new one
        is made (in the session's transaction) when the call has none. None: the call has no key."""
        key = self._cached(call_id)
        if key is not None:
            return key
        stored = self._stored(session, call_id)
        if stored is None and create:
            from callscope.store.db import CallKey, insert_for

            kek_id, kek = self.keyring.current()
            made = wrap(os.urandom(32), kek, kek_id, call_id)
            session.execute(insert_for(session, CallKey).values(call_id=call_id, kek_id=made.kek_id, wrapped=made.wrapped)
                            .on_conflict_do_nothing(index_elements=[CallKey.call_id]))
            stored = self._stored(session, call_id)  # another process may have made it first: theirs
        if stored is None:
            return None
        key = self._open_stored(stored, call_id)
        self._remember(call_id, key)
        return key

    def seal(self, session: Session, call_id: str, field: str, plain: str | None) -> str | None:
        """``plain`` sealed under the call's key (made if the call has none yet); None stays None."""
        if plain is None:
            return None
        key = self.key(session, call_id, create=True)
        assert key is not None
        return seal_text(plain, key, f"{call_id}:{field}", prefix=PREFIX)

    def seal_plain(self, session: Session, call_id: str, field: str, value: str | None) -> str | None:
        """As :meth:`seal` for a value stored before encryption; None and sealed values as they are."""
        return value if value is None or value.startswith(PREFIX) else self.seal(session, call_id, field, value)

    def open(self, session: Session, call_id: str, field: str, stored: str | None) -> str | None:
        """The plaintext of a value from :meth:`seal`; a value stored before encryption is returned
        as it is. CallKeyError when the call's key is gone or the value was changed."""
        if stored is None or not stored.startswith(PREFIX):
            return stored
        key = self.key(session, call_id)
        if key is None:
            raise CallErased(call_id)
        try:
            return open_text(stored, key, f"{call_id}:{field}", prefix=PREFIX)
        except SecretBoxError as exc:
            raise CallKeyError(f"the {field} of call {call_id} does not open with its key") from exc


class KeyringMismatch(RuntimeError):
    """The keyring a process was given does not hold the keys this database's calls are wrapped
    under: a wrong ``CALLSCOPE_KEYRING`` (or a lost file). Refused at start, before any key is made
    under a keyring nobody else reads."""


def check_keyring(sessions: sessionmaker) -> None:
    """Refuse to run against a database whose call keys this keyring cannot open (no key file
    where keys exist, or none of the database's key-encryption keys in it). A fresh database
    (no call keys) passes, and its keyring is made on first use."""
    from sqlalchemy import func, inspect

    from callscope.store.db import CallKey

    crypt: CallCrypt = sessions.kw["info"]["call_crypt"]
    if not inspect(sessions.kw["bind"]).has_table("call_keys"):  # not migrated yet: nothing sealed
        return
    with sessions() as s:
        stored = set(s.execute(select(CallKey.kek_id).group_by(CallKey.kek_id).limit(100)).scalars())
        count = s.execute(select(func.count()).select_from(CallKey)).scalar_one() if stored else 0
    if not stored:
        return
    path = crypt.keyring.path
    if not path.exists():
        raise KeyringMismatch(f"{path}: no keyring, but {count} call keys in the database are wrapped under one "
                              f"({', '.join(sorted(stored))}); set CALLSCOPE_KEYRING to the deployment's keyring file "
                              "(restore it from its backup if it was lost)")
    if not stored & set(crypt.keyring.ids()):
        raise KeyringMismatch(f"{path}: this keyring holds none of the keys the database's calls are wrapped under "
                              f"({', '.join(sorted(stored))}); set CALLSCOPE_KEYRING to the deployment's keyring file")


def crypt_of(session: Session) -> CallCrypt:
    """The :class:`CallCrypt` of the deployment a session belongs to (see
    :func:`callscope.store.db.session_factory`)."""
    crypt = session.info.get("call_crypt")
    if crypt is None:
        raise RuntimeError("this session was made without the deployment's keyring (session_factory(engine, keyring_file=...))")
    return crypt


def destroy(session: Session, call_id: str) -> None:
    """Delete a call's data key (in the session's transaction) and drop it from memory."""
    from callscope.store.db import CallKey

    session.execute(delete(CallKey).where(CallKey.call_id == call_id))
    crypt = session.info.get("call_crypt")
    if crypt is not None:
        crypt.forget(call_id)


def rotate(sessions: sessionmaker, *, settle_s: float = 2.0, batch: int = 500) -> dict:
    """Re-wrap every call's data key under a new key-encryption key, then remove the old ones from
    the keyring: copies of erased calls' keys left in database files, WAL or backups can no longer
    be opened by anyone. Safe while the service runs (keys made meanwhile under an old key are
    re-wrapped too before the old key goes). A report: the new key's id, keys re-wrapped."""
    from callscope.store.db import CallKey

    crypt = sessions.kw["info"]["call_crypt"]
    keyring: Keyring = crypt.keyring
    new_id = keyring.add()
    new_kek = keyring.get(new_id)
    assert new_kek is not None
    rewrapped = 0
    for settle in (False, True):
        if settle:  # a process that read the keyring just before the rotation may still commit a key under the old one
            time.sleep(settle_s)
        while True:
            with sessions() as s:
                rows = s.execute(select(CallKey.call_id, CallKey.kek_id, CallKey.wrapped)
                                 .where(CallKey.kek_id != new_id).limit(batch)).all()
                for call_id, kek_id, wrapped in rows:
                    data_key = crypt._open_stored(Wrapped(kek_id, wrapped), call_id)
                    made = wrap(data_key, new_kek, new_id, call_id)
                    s.execute(update(CallKey).where(CallKey.call_id == call_id, CallKey.wrapped == wrapped)
                              .values(kek_id=made.kek_id, wrapped=made.wrapped))
                s.commit()
            rewrapped += len(rows)
            if len(rows) < batch:
                break
    keyring.keep_only(new_id)
    return {"key_encryption_key": new_id, "keys_rewrapped": rewrapped}


def seal_existing(sessions: sessionmaker, *, batch: int = 200) -> int:
    """Seal the values stored before encryption (file names, results, search words, corrections);
    how many rows were changed. Run at the service's start; cheap when there is nothing left."""
    from callscope.store.db import Call, CallCategory, Correction

    changed = 0

    def not_sealed(col):
        return col.is_not(None) & col.not_like(PREFIX + "%")

    while True:
        with sessions() as s:
            crypt = crypt_of(s)
            calls = s.execute(select(Call.id, Call.filename, Call.result_json, Call.transcript_text)
                              .where(not_sealed(Call.filename) | not_sealed(Call.result_json)
                                     | not_sealed(Call.transcript_text)).limit(batch)).all()
            for cid, name, result, words in calls:  # only if unchanged since read: a worker may be writing a new result
                same = [col.is_(None) if v is None else col == v
                        for col, v in ((Call.filename, name), (Call.result_json, result), (Call.transcript_text, words))]
                s.execute(update(Call).where(Call.id == cid, *same).values(
                    filename=crypt.seal_plain(s, cid, "filename", name),
                    result_json=crypt.seal_plain(s, cid, "result_json", result),
                    transcript_text=crypt.seal_plain(s, cid, "transcript_text", words)))
            fixes = s.execute(select(Correction.id, Correction.call_id, Correction.original, Correction.value,
                                     Correction.reason, Correction.display_name)
                              .where(not_sealed(Correction.original) | not_sealed(Correction.value)
                                     | not_sealed(Correction.reason) | not_sealed(Correction.display_name))
                              .limit(batch)).all()
            for row_id, cid, original, value, reason, shown in fixes:
                s.execute(update(Correction).where(Correction.id == row_id).values(
                    **seal_correction(s, cid, original=original, value=value, reason=reason, display_name=shown)))
            details = s.execute(select(CallCategory.call_id, CallCategory.rules_version, CallCategory.category,
                                       CallCategory.detail).where(not_sealed(CallCategory.detail)).limit(batch)).all()
            for cid, number, name, detail in details:
                s.execute(update(CallCategory).where(CallCategory.call_id == cid, CallCategory.rules_version == number,
                                                     CallCategory.category == name)
                          .values(detail=crypt.seal(s, cid, "category.detail", detail)))
            s.commit()
        changed += len(calls) + len(fixes) + len(details)
        if len(calls) < batch and len(fixes) < batch and len(details) < batch:
            return changed


CORRECTION_FIELDS = ("original", "value", "reason", "display_name")


def seal_correction(session: Session, call_id: str, **values: str | None) -> dict[str, str | None]:
    """A correction's text columns sealed under its call's key (values already sealed are kept)."""
    crypt = crypt_of(session)
    return {k: crypt.seal_plain(session, call_id, f"correction.{k}", v) for k, v in values.items()}


def seal_value(session: Session, call_id: str, field: str, plain: str | None) -> str | None:
    """``plain`` sealed under the call's key (see :meth:`CallCrypt.seal`)."""
    return crypt_of(session).seal(session, call_id, field, plain)


def open_value(session: Session, call_id: str, field: str, stored: str | None) -> str | None:
    """The plaintext of a stored value (see :meth:`CallCrypt.open`)."""
    if stored is None or not stored.startswith(PREFIX):
        return stored
    return crypt_of(session).open(session, call_id, field, stored)


def open_unless_erased(session: Session, call_id: str, field: str, stored: str | None) -> str | None:
    """As :func:`open_value`, but None for a call erased since its row was read (lists and
    searches leave it out instead of failing)."""
    try:
        return open_value(session, call_id, field, stored)
    except CallErased:
        return None


CALL_FIELDS = ("filename", "result_json", "transcript_text", "source_json")


def readable(session: Session, call):
    """``call`` (a :class:`~callscope.store.db.Call` of this session) taken out of the session with
    its sealed columns opened: what is read from it is plaintext, and nothing set on it is written
    back. None stays None."""
    if call is None:
        return None
    if call in session:
        session.expunge(call)
    for field in CALL_FIELDS:
        setattr(call, field, open_value(session, call.id, field, getattr(call, field)))
    return call


def readable_correction(session: Session, correction):
    """A :class:`~callscope.store.db.Correction` out of the session with its text opened."""
    if correction in session:
        session.expunge(correction)
    for field in CORRECTION_FIELDS:
        setattr(correction, field, open_value(session, correction.call_id, f"correction.{field}", getattr(correction, field)))
    return correction
