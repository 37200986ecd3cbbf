"""Sentence vectors for the insight modules: one shared encoder (multilingual e5, 384
dimensions, unit length, :mod:`callscope.scoring.text_encoder`), prototype sets embedded once
per process, and a call's utterances embedded once per call."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from callscope.analysis.schema import CallAnalysis


class Encoder(Protocol):
    """What the insight modules need of an encoder: unit-length vectors, one row per text."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


@lru_cache(maxsize=1)
def shared_encoder() -> Encoder:
    """The process's encoder (loaded on first use, ~0.3 s)."""
    from callscope.scoring.text_encoder import TextEncoder

    return TextEncoder()


class PrototypeCache:
    """Embeddings of fixed sentence sets (cues, a taxonomy's examples), computed once per set."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self._cache: dict[tuple[str, ...], np.ndarray] = {}

    def __call__(self, texts: tuple[str, ...]) -> np.ndarray:
        got = self._cache.get(texts)
        if got is None:
            if len(self._cache) > 256:  # many rule-set versions in one process: start again
                self._cache.clear()
            got = self._cache[texts] = self.encoder.encode(list(texts))
        return got


def utterance_vectors(call: "CallAnalysis", encoder: Encoder) -> np.ndarray:
    """(utterances, 384) unit vectors of the call's utterance texts (placeholders such as
    ``[name]`` left as they are: the redacted text is what is stored)."""
    return encoder.encode([u.text for u in call.utterances])


def nearest(vectors: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """For each row of ``vectors``, its cosine similarity to the nearest prototype (-1..1)."""
    if len(vectors) == 0 or len(prototypes) == 0:
        return np.full(len(vectors), -1.0, dtype=np.float32)
    return (vectors @ prototypes.T).max(axis=1)
