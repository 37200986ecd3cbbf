"""What search by meaning stores of each utterance: a short binary code in the clear, to find
candidates fast, and the full sentence vector quantised to int8, to rank them (sealed by the
caller under the call's key).

The code is the sign of the vector's projection onto :data:`CODE_BITS` random directions
(sign random projection, an LSH for cosine similarity): two vectors at angle θ differ in an
expected ``CODE_BITS × θ / π`` bits. 256 bits of a 384-dimensional vector hold far less than the
vector (no magnitude, no exact direction), which is why only the code is kept unsealed: an index
has to read it without opening every call's key. The projection is fixed by :data:`SEED`, so
codes stay comparable across processes and versions of the library.
"""

from __future__ import annotations

import base64

import numpy as np

CODE_BITS = 256
CODE_BYTES = CODE_BITS // 8
DIMENSIONS = 384
SEED = 20261206
VERSION = f"srp{CODE_BITS}-seed{SEED}+int8"


def _projection() -> np.ndarray:
    return np.random.default_rng(SEED).standard_normal((DIMENSIONS, CODE_BITS)).astype(np.float32)


PROJECTION = _projection()


def codes(vectors: np.ndarray) -> np.ndarray:
    """(n, :data:`CODE_BYTES`) uint8 sign codes of (n, 384) vectors."""
    return np.packbits((np.asarray(vectors, dtype=np.float32) @ PROJECTION) > 0, axis=1)


def as_words(packed: np.ndarray) -> np.ndarray:
    """Packed codes (n, 32) uint8 viewed as (n, 4) uint64 for fast Hamming distances."""
    return np.ascontiguousarray(packed).view(np.uint64).reshape(len(packed), CODE_BYTES // 8)


def hamming(query: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Bits (0..256) in which each row of ``words`` (n, 4 uint64) differs from ``query`` (4 uint64)."""
    return np.bitwise_count(words ^ query).sum(axis=1, dtype=np.int32)


def pack_vectors(vectors: np.ndarray) -> str:
    """Unit vectors (n, 384) as text: a float32 scale per row, then the rows as int8, base64."""
    v = np.asarray(vectors, dtype=np.float32)
    scale = np.maximum(np.abs(v).max(axis=1), 1e-9) / 127.0
    q = np.round(v / scale[:, None]).astype(np.int8)
    return base64.b64encode(len(v).to_bytes(4, "little") + scale.astype("<f4").tobytes() + q.tobytes()).decode()


def unpack_vectors(text: str) -> np.ndarray:
    """The (n, 384) float32 unit vectors of :func:`pack_vectors` (re-normalised)."""
    raw = base64.b64decode(text)
    n = int.from_bytes(raw[:4], "little")
    scale = np.frombuffer(raw[4:4 + 4 * n], dtype="<f4")
    q = np.frombuffer(raw[4 + 4 * n:], dtype=np.int8).reshape(n, DIMENSIONS).astype(np.float32)
    v = q * scale[:, None]
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
