"""Sentiment is scored on whole sentences, never on a fragment.

An utterance can end in the middle of a sentence: the speaker paused longer than the hard pause,
or the other party's backchannel cut the turn ("…is not" / "available in your country."). Scored
alone, each fragment can flip polarity. So before sentiment, an utterance that does not end a
sentence (no . ? ! …) is joined by the same speaker's next utterance, if that starts within
``MAX_JOIN_GAP_S``; the joined text is scored once and every fragment carries that score.
"""

from __future__ import annotations

from collections.abc import Sequence

from callscope.transcription import alignment
from callscope.transcription.types import Utterance

SENTENCE_RULES_VERSION = "sentences/1"
#: the ends alignment splits utterances at, and the single-character ellipsis
SENTENCE_END = alignment.SENTENCE_END + ("…",)
#: A sentence is not continued by the same speaker after this many seconds (a new start, not a
#: continuation).
MAX_JOIN_GAP_S = 10.0


def sentence_units(utterances: Sequence[Utterance], max_gap_s: float = MAX_JOIN_GAP_S) -> list[list[int]]:
    """Groups of utterance indices (each group one speaker's, in time order) that make whole
    sentences; every utterance is in exactly one group."""
    units: list[list[int]] = []
    open_unit: dict[str, int] = {}  # speaker -> index of the unit still waiting for its sentence end
    for i, u in enumerate(utterances):
        k = open_unit.get(u.speaker)
        if k is not None and u.start - utterances[units[k][-1]].end <= max_gap_s:
            units[k].append(i)
        else:
            units.append([i])
            k = len(units) - 1
        if u.text.rstrip().endswith(SENTENCE_END):
            open_unit.pop(u.speaker, None)
        else:
            open_unit[u.speaker] = k
    return units


def unit_texts(utterances: Sequence[Utterance], units: list[list[int]]) -> list[str]:
    """The joined text of each unit."""
    return [" ".join(utterances[i].text for i in unit).strip() for unit in units]
