"""Redaction of a transcript: each finding's words become one placeholder word (``[CARD]``,
``[EMAIL]``, …) spanning their time, so the text, the word list and everything computed from
them (sentiment, roles, the feed, the QA app) never carry the value. What was redacted is kept
as :class:`Redaction` records (kind, time span, speaker, channel, utterance): no value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from callscope.transcription.redaction import KINDS
from callscope.transcription.redaction.detect import DETECT_VERSION, Finding, detect
from callscope.transcription.types import Utterance, Word

REDACT_VERSION = f"redact/1+{DETECT_VERSION}"


@dataclass(frozen=True)
class RedactionPolicy:
    """What to do with personal data in transcripts: ``enabled`` (default on) redacts every kind
    but those in ``keep``."""

    enabled: bool = True
    keep: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = set(self.keep) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kind(s) of personal data {sorted(unknown)}; choose from {', '.join(KINDS)}")

    @classmethod
    def keeping(cls, names, enabled: bool = True) -> "RedactionPolicy":
        """A policy keeping the kinds ``names`` (any case, each may be comma separated: ``"phone,EMAIL"``);
        ValueError naming an unknown kind."""
        return cls(enabled=enabled, keep=frozenset(k.strip().upper() for n in names for k in n.split(",") if k.strip()))


@dataclass(frozen=True)
class Redaction:
    """One redacted piece of personal data: ``kind``, ``subtype``, its time span (seconds), who
    said it, the channel it was heard on (dual-channel calls) and the utterance now holding its
    placeholder."""

    kind: str
    subtype: str | None
    start: float
    end: float
    speaker: str
    channel: int | None
    utterance: int


def placeholder(kind: str) -> str:
    return f"[{kind}]"


def redact(utterances: Sequence[Utterance], language: str | None,
           policy: RedactionPolicy) -> tuple[list[Utterance], list[Redaction]]:
    """The utterances with personal data replaced by placeholders, and what was replaced. A
    finding said over several utterances (a number read in two goes) leaves a placeholder in
    each; another speaker's "mm" in between stays. Utterances left without words are dropped."""
    if not policy.enabled:
        return list(utterances), []
    findings = [f for f in detect(utterances, language) if f.kind not in policy.keep]
    if not findings:
        return list(utterances), []
    head: dict[tuple[int, int], tuple[Finding, list[Word]]] = {}  # first word of each part -> (finding, its words)
    gone: set[tuple[int, int]] = set()
    for f in findings:
        parts: dict[int, list[int]] = {}
        for ui, wi in f.words:
            if utterances[ui].speaker in f.speakers:
                parts.setdefault(ui, []).append(wi)
        for ui, wis in parts.items():
            head[(ui, wis[0])] = (f, [utterances[ui].words[w] for w in wis])
            gone.update((ui, w) for w in wis)
    out, records, pending = [], [], []
    for ui, u in enumerate(utterances):
        words: list[Word] = []
        for wi, w in enumerate(u.words):
            if (ui, wi) in head:
                f, part = head[(ui, wi)]
                start, end = min(x.start for x in part), max(x.end for x in part)
                words.append(replace(w, word=placeholder(f.kind), start=start, end=end, probability=1.0))
                pending.append(Redaction(f.kind, f.subtype, round(start, 3), round(end, 3), u.speaker,
                                         w.channel, len(out)))
            elif (ui, wi) not in gone:
                words.append(w)
        if words:
            out.append(Utterance(speaker=u.speaker, start=u.start, end=u.end, words=words))
            records += pending
        pending = []
    return out, records
