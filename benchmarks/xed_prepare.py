"""Builds ``benchmarks/data/xed/`` from a clone of Helsinki-NLP/XED (run once; the result is committed).

XED (Öhman et al., COLING 2020): movie-subtitle lines from OPUS OpenSubtitles annotated with
Plutchik's emotions or neutral, in English and Finnish, projected to aligned subtitles in other
languages. Source: Helsinki-NLP/XED @ 76666d25 (licence: CC BY 4.0, stated in its README; cite
Öhman et al. 2020). Written (nothing relabelled):

* ``pairs.tsv.gz``: language TAB English line TAB the aligned line, 800 pairs per language for
  da, sv, no, fi, de, fr, es, pl, drawn with seed 0 from ``subtitle-retrieval/students/pairs-<lang>.txt``
  (the English↔language subtitle alignments the projections were made from; rows aligning two
  other languages are left out). Used without their
  labels, to measure where each language sits in the sentence encoder's space (the neutral
  gate's language centring, ``scoring/train_sentiment.py``). Finnish lines that are in the shared
  ``fi_xed.tsv`` evaluation set are left out.
* ``neutral_{en,fi}.tsv.gz``: 800 lines each that XED's annotators labelled neutral
  (``AnnotatedData/neu_{en,fi}.txt``, seed 1): evaluation only (``benchmarks/neutral.py``).

    .venv/bin/python benchmarks/xed_prepare.py /path/to/XED [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import gzip
import random
import subprocess
from pathlib import Path

COMMIT = "76666d2"
OUT = Path(__file__).resolve().parent / "data" / "xed"
LANGUAGES = ("da", "sv", "no", "fi", "de", "fr", "es", "pl")
PAIRS = 800
NEUTRAL = 800


def _show(clone: Path, path: str) -> list[str]:
    return subprocess.run(["git", "-C", str(clone), "show", f"{COMMIT}:{path}"], check=True, capture_output=True,
                          text=True).stdout.splitlines()


def _clean(text: str) -> str:
    return " ".join(text.strip().strip('"').split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clone", type=Path)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    held_out = {_clean(line.split("\t", 1)[1]) for line in
                (args.shared / "multilingual" / "text" / "fi_xed.tsv").read_text(encoding="utf-8").splitlines() if "\t" in line}
    lines = []
    for lang in LANGUAGES:
        rows = [r.split("\t") for r in _show(args.clone, f"subtitle-retrieval/students/pairs-{lang}.txt")]
        pairs = sorted({(_clean(r[4]), _clean(r[5])) for r in rows
                        if len(r) >= 6 and r[0].startswith("en/") and r[1].startswith(f"{lang}/") and _clean(r[4]) and _clean(r[5])})
        pairs = [p for p in pairs if p[1] not in held_out]
        random.Random(0).shuffle(pairs)
        lines += [f"{lang}\t{en}\t{other}" for en, other in pairs[:PAIRS]]
        print(f"{lang}: {min(PAIRS, len(pairs))} of {len(pairs)} pairs")
    with gzip.open(OUT / "pairs.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(lines) + "\n")
    for lang, column in (("en", -1), ("fi", 1)):
        rows = [r.split("\t") for r in _show(args.clone, f"AnnotatedData/neu_{lang}.txt") if "\t" in r]
        texts = sorted({_clean(r[column]) for r in rows if _clean(r[column])})
        random.Random(1).shuffle(texts)
        with gzip.open(OUT / f"neutral_{lang}.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as f:
            f.write("\n".join(texts[:NEUTRAL]) + "\n")
        print(f"neutral {lang}: {min(NEUTRAL, len(texts))} of {len(texts)}")


if __name__ == "__main__":
    main()
