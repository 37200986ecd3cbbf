"""Call01's hand-made reference transcript scored by the real scorer (no ASR): what the signal
tests read sentiment, weights and levels from."""

from __future__ import annotations

import csv

from benchmarks.reference import AUDIO
from callscope.scoring.roles import RoleAssignment
from callscope.scoring.scorer import CallScorer
from callscope.transcription.types import SpeakerTurn, Utterance, Word


def reference_call(path=AUDIO / "callytics" / "Call01.turns.tsv") -> tuple[list[Utterance], dict[str, str]]:
    """Call01's hand-timed reference turns as utterances (words spread evenly over each turn)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    utterances = []
    for r in rows:
        start, end, tokens = float(r["start_s"]), float(r["end_s"]), r["text"].split()
        step = (end - start) / len(tokens)
        words = [Word(t, start + k * step, start + (k + 1) * step, 1.0) for k, t in enumerate(tokens)]
        utterances.append(Utterance(r["speaker"], start, end, words))
    return utterances, {"CSR": "agent", "Customer": "customer"}


def score_reference(scorer: CallScorer, utterances: list[Utterance], roles: dict[str, str], duration: float):
    """``scorer``'s scores of ``utterances`` with the roles given (as a channel map gives them)."""
    speakers = sorted(roles)
    turns = [SpeakerTurn(u.speaker, u.start, u.end) for u in utterances]
    talk = {sp: sum(u.end - u.start for u in utterances if u.speaker == sp) for sp in speakers}
    return scorer.score(utterances, turns, speakers, talk, duration, {sp: None for sp in speakers},
                        RoleAssignment(roles=roles, source="channel_map", confidence=1.0))
