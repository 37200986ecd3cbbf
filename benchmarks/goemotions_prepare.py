"""Builds ``benchmarks/data/goemotions/`` from a clone of monologg/GoEmotions-pytorch (run once; the result is committed).

GoEmotions (Demszky et al., ACL 2020): 58k English Reddit comments, each labelled by raters with
27 emotions or Neutral (examples with at least two raters agreeing). Source of the text and the
emotion labels: google-research/google-research @ 2adf640a14f1 : goemotions/data/{train,dev,test}.tsv,
under that repository's Apache-2.0 licence (LICENSE at its root; the goemotions directory states
no other terms). The copy read here is monologg/GoEmotions-pytorch @ b75f9d3 : data/original/
(byte for byte the same rows; Apache-2.0), whose data/group/ holds the paper's own sentiment
grouping of the emotions (positive, negative, ambiguous, neutral); this script derives that
grouping itself from the emotion ids and checks it against data/group/.

Written: ``{train,dev,test}.tsv.gz`` (text TAB emotion names TAB sentiment groups, one comment a
line, the corpus's own splits) and ``LICENSE.txt``. Nothing is relabelled.

    .venv/bin/python benchmarks/goemotions_prepare.py /path/to/GoEmotions-pytorch
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
from pathlib import Path

COMMIT = "b75f9d3"
OUT = Path(__file__).resolve().parent / "data" / "goemotions"
EMOTIONS = ("admiration amusement anger annoyance approval caring confusion curiosity desire disappointment disapproval "
            "disgust embarrassment excitement fear gratitude grief joy love nervousness optimism pride realization relief "
            "remorse sadness surprise neutral").split()
#: The GoEmotions paper's sentiment grouping (its section 3.3; data/group/ of the copy).
GROUP = {**{e: "positive" for e in "admiration amusement approval caring desire excitement gratitude joy love optimism "
                                  "pride relief".split()},
         **{e: "negative" for e in "anger annoyance disappointment disapproval disgust embarrassment fear grief "
                                  "nervousness remorse sadness".split()},
         **{e: "ambiguous" for e in "confusion curiosity realization surprise".split()}, "neutral": "neutral"}
GROUP_IDS = ("ambiguous", "negative", "neutral", "positive")  # data/group/labels.txt


def _show(clone: Path, path: str) -> str:
    return subprocess.run(["git", "-C", str(clone), "show", f"{COMMIT}:{path}"], check=True, capture_output=True,
                          text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clone", type=Path)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        original = [line.split("\t") for line in _show(args.clone, f"data/original/{split}.tsv").splitlines()]
        group = [line.split("\t") for line in _show(args.clone, f"data/group/{split}.tsv").splitlines()]
        lines = []
        for (text, ids, cid), (text_g, gids, cid_g) in zip(original, group, strict=True):
            assert (text, cid) == (text_g, cid_g)
            emotions = [EMOTIONS[int(i)] for i in ids.split(",")]
            groups = sorted({GROUP[e] for e in emotions})
            assert groups == sorted({GROUP_IDS[int(i)] for i in gids.split(",")}), (text, emotions, gids)
            lines.append(f"{text}\t{','.join(emotions)}\t{','.join(groups)}")
        with gzip.open(OUT / f"{split}.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as f:
            f.write("\n".join(lines) + "\n")
        print(f"{split}: {len(lines)} comments")
    (OUT / "LICENSE.txt").write_text(_show(args.clone, "LICENSE"))


if __name__ == "__main__":
    main()
