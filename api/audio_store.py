"""Content-addressed audio store: a file is kept under the SHA-256 of its bytes, never under a
name a user chose, so uploads cannot overwrite each other or escape the store."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO


class TooLarge(Exception):
    """The stream was longer than the limit (bytes)."""


class AudioStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, stream: BinaryIO, max_bytes: int) -> tuple[str, str, int]:
        """Copy ``stream`` into the store: (key, sha256, size in bytes). Raises :class:`TooLarge`
        (and keeps nothing) past ``max_bytes``. Writing is atomic: a half file is never visible."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(size)
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            key = f"{sha[:2]}/{sha[2:4]}/{sha}"
            target = self.path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, target)
            return key, sha, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def head(self, key: str, n: int = 64) -> bytes:
        with open(self.path(key), "rb") as f:
            return f.read(n)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def copy_out(self, key: str, dest: Path) -> None:
        shutil.copyfile(self.path(key), dest)
