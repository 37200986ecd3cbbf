"""Content-addressed audio store: a file is kept under the SHA-256 of its bytes, never under a
name a user chose, so uploads cannot overwrite each other or escape the store.

An upload streams into a private temporary file (``.upload-*``, mode 0600) with a hard byte
cap. It becomes a content-addressed file only in :func:`callscope.store.audio_refs.hold`, inside
the database transaction that records the call, while that transaction holds the file's
``audio_files`` row: uploads and erasures of the same bytes are serialised there, so a file is
never deleted while a call that holds it is being committed. A rejected upload only ever
removes its own temporary files.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path


class TooLarge(Exception):
    """The stream was longer than the limit (bytes)."""


TEMP_PREFIX = ".upload-"


class PendingFile:
    """One upload being received: bytes go to a temporary file as they arrive, hashed on the way.

    Attributes:
        path: the temporary file.
        size: bytes received so far.
        head: the first 64 bytes (to recognise the container).
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        fd, tmp = tempfile.mkstemp(dir=root, prefix=TEMP_PREFIX)  # mode 0600
        self._file = os.fdopen(fd, "wb")
        self.path = Path(tmp)
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""
        self._digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``; raises :class:`TooLarge` (the caller discards) past ``max_bytes``."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(self.size)
        if len(self.head) < 64:
            self.head += chunk[: 64 - len(self.head)]
        self._digest.update(chunk)
        self._file.write(chunk)

    def finish(self) -> str:
        """Close the file; its SHA-256 (hex)."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        return self._digest.hexdigest()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class AudioStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        if self.root.stat().st_uid == os.getuid():  # a shared store may belong to another account
            self.root.chmod(0o700)

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path(self, key: str) -> Path:
        return self.root / key

    def original_path(self, key: str) -> Path:
        """Where the sealed unredacted original of ``key`` is kept, if the deployment keeps one
        (:mod:`callscope.privacy.sealed`); outside the content-addressed tree."""
        return self.root / "originals" / key

    def receive(self, max_bytes: int) -> PendingFile:
        """A new temporary file for an upload of at most ``max_bytes``."""
        return PendingFile(self.root, max_bytes)

    def place(self, pending: Path, key: str) -> None:
        """Move a finished upload to its content address (atomic; replaces identical bytes).
        Call only while holding the key's ``audio_files`` row (see :mod:`callscope.store.audio_refs`)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(pending, target)

    def head(self, key: str, n: int = 64) -> bytes:
        with open(self.path(key), "rb") as f:
            return f.read(n)

    def delete(self, key: str) -> None:
        """Remove a stored file and its sealed original. Call only while holding its ``audio_files`` row."""
        self.path(key).unlink(missing_ok=True)
        self.original_path(key).unlink(missing_ok=True)

    def keys(self) -> list[str]:
        """Every content-addressed file in the store."""
        return [str(p.relative_to(self.root)) for p in self.root.glob("??/??/*") if p.is_file()]

    def sweep_stale_uploads(self, older_than_s: float) -> int:
        """Remove temporary upload files untouched for ``older_than_s`` seconds (left by a crash
        mid-upload); returns how many."""
        cutoff = time.time() - older_than_s
        n = 0
        for p in self.root.glob(f"{TEMP_PREFIX}*"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
                    n += 1
            except FileNotFoundError:
                pass
        return n
