"""Recordings sealed at rest: the unredacted original of a call whose deployment must keep it
(``CALLSCOPE_KEEP_ORIGINAL``), encrypted with AES-256-GCM under ``CALLSCOPE_ORIGINAL_KEY``
(``cryptography``'s AESGCM) in chunks of 1 MiB, so sealing and reading back take bounded memory.

A sealed file is ``MAGIC``, then per chunk: ciphertext length (4 bytes, big-endian), a final flag
(1 byte), a random 96-bit nonce, and the ciphertext with its tag. Each chunk's associated data
binds it to its file (the audio key), its position and whether it is the last, so chunks cannot
be swapped between files, reordered or cut off without :class:`SealError`.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"callscope-sealed/1\n"
CHUNK = 1 << 20  # bytes of plaintext per chunk
_HEAD = struct.Struct(">IB12s")


class SealError(ValueError):
    """A sealed file that is not one, was cut off, or does not open with this key."""


def parse_key(text: str) -> bytes:
    """The 32-byte key from its URL-safe base64 form (what ``CALLSCOPE_ORIGINAL_KEY`` holds; make
    one with ``python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"``).
    ValueError if it is not 32 bytes of base64."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not URL-safe base64") from exc
    if len(key) != 32:
        raise ValueError(f"{len(key)} bytes; a 32-byte (256-bit) key is needed")
    return key


def _aad(label: str, index: int, final: bool) -> bytes:
    return f"{label}:{index}:{int(final)}".encode()


def seal(source: Path, target: Path, key: bytes, label: str) -> None:
    """Write ``source`` sealed to ``target`` (atomically: a partial file never has the name)."""
    aes = AESGCM(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".sealing")
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            out.write(MAGIC)
            chunk, index = src.read(CHUNK), 0
            while True:
                following = src.read(CHUNK)
                final = not following
                nonce = os.urandom(12)
                sealed = aes.encrypt(nonce, chunk, _aad(label, index, final))
                out.write(_HEAD.pack(len(sealed), final, nonce) + sealed)
                if final:
                    break
                chunk, index = following, index + 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def unseal(path: Path, key: bytes, label: str) -> Iterator[bytes]:
    """The plaintext of a sealed file, chunk by chunk; SealError when it does not open whole."""
    aes = AESGCM(key)
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise SealError("not a sealed callscope file")
        index = 0
        while True:
            head = f.read(_HEAD.size)
            if len(head) < _HEAD.size:
                raise SealError("the sealed file is cut off")
            size, final, nonce = _HEAD.unpack(head)
            if size > CHUNK + 16:
                raise SealError("a chunk larger than any sealed one")
            sealed = f.read(size)
            try:
                yield aes.decrypt(nonce, sealed, _aad(label, index, bool(final)))
            except InvalidTag as exc:
                raise SealError("the sealed file does not open with this key, or was changed") from exc
            if final:
                if f.read(1):
                    raise SealError("bytes after the last chunk")
                return
            index += 1
