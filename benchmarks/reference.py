"""Readers for the reference labels in ../shared/data and accuracy measures used by benchmarks and tests."""

from __future__ import annotations

import csv
import os
import re
from itertools import permutations
from pathlib import Path

DATA = Path(os.environ.get("CALLSCOPE_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
AUDIO = DATA / "audio"


def normalise_text(text: str) -> str:
    """Lower-case, punctuation removed, whitespace collapsed (for WER)."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


def rttm_turns(path: Path, uri: str | None = None) -> list[tuple[str, float, float]]:
    """(speaker, start s, end s) from an RTTM file, optionally only for ``uri``."""
    turns = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER" and (uri is None or f[1] == uri):
            start, dur = float(f[3]), float(f[4])
            turns.append((f[7], start, start + dur))
    return turns


def tsv_turns(path: Path) -> list[tuple[str, float, float]]:
    """(speaker, start s, end s) from callytics' hand-timed turns.tsv."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [(r["speaker"], float(r["start_s"]), float(r["end_s"])) for r in rows]


def spokenwoz_customer_turns(path: Path, sample_rate: int = 8000) -> list[tuple[float, float]]:
    """Customer-turn (start s, end s) of the SpokenWOZ sample CSV (boundaries are 8 kHz sample indices)."""
    with open(path, newline="") as f:
        return [(int(r["start"]) / sample_rate, int(r["end"]) / sample_rate) for r in csv.DictReader(f)]


def word_attribution_accuracy(
    words: list[tuple[str, float, float]], reference: list[tuple[str, float, float]]
) -> float:
    """Share of words (speaker, start, end) whose speaker matches the reference turn at the
    word's midpoint, under the best one-to-one mapping of hypothesis to reference speakers.
    Words at no reference turn are left out."""
    pairs = []
    for spk, s, e in words:
        mid = (s + e) / 2
        refs = [r for r, rs, re_ in reference if rs <= mid <= re_]
        if len(refs) == 1:
            pairs.append((spk, refs[0]))
    if not pairs:
        return 0.0
    hyp = sorted({h for h, _ in pairs})
    ref = sorted({r for _, r in pairs})
    best = 0
    pad = ref + [None] * max(0, len(hyp) - len(ref))
    for perm in permutations(pad, len(hyp)):
        mapping = dict(zip(hyp, perm))
        best = max(best, sum(mapping[h] == r for h, r in pairs))
    return best / len(pairs)


def reference_interruptions(turns: list[tuple[str, float, float]], texts: list[str] | None = None,
                            min_overlap_s: float = 0.3, cut_off_gap_s: float = 0.2) -> list[tuple[str, float]]:
    """(speaker who cut in, time s) from reference turns: a turn that starts inside another
    speaker's turn (at least 0.5 s into it) and overlaps it by ``min_overlap_s``; with the
    turns' ``texts``, also a turn that starts within ``cut_off_gap_s`` of the previous
    speaker's turn whose text does not end a sentence. Same thresholds as the product's rules."""
    out = []
    for j, (b, bs, be) in enumerate(turns):
        for i, (a, as_, ae) in enumerate(turns):
            if a == b or i == j:
                continue
            overlap = min(ae, be) - max(as_, bs)
            cut_in = as_ + 0.5 <= bs < ae and overlap >= min_overlap_s
            cut_off = (texts is not None and i == j - 1 and 0.0 <= bs - ae < cut_off_gap_s
                       and not texts[i].rstrip().endswith((".", "?", "!", "…")))
            if cut_in or cut_off:
                out.append((b, bs))
                break
    return out


def speaker_mapping(result, reference: list[tuple[str, float, float]]) -> dict[str, str]:
    """Each speaker of an analysis ``result`` → the reference speaker its turns overlap most
    (speakers that overlap no reference turn are left out)."""
    mapping = {}
    for sp in result.speakers:
        overlap: dict[str, float] = {}
        for t in result.turns:
            if t.speaker == sp.id:
                for ref, rs, re_ in reference:
                    overlap[ref] = overlap.get(ref, 0.0) + max(0.0, min(t.end, re_) - max(t.start, rs))
        if overlap and max(overlap.values()) > 0:
            mapping[sp.id] = max(overlap, key=overlap.get)
    return mapping
