"""Redaction of a transcript: each finding's words become one placeholder word (``[CARD]``,
``[EMAIL]``, …, or ``[EMAIL:3f9a1c2b7d]`` for a kind the policy pseudonymises) spanning their time, so the text, the word list and everything computed from
them (sentiment, roles, the feed, the QA app) never carry the value. What was redacted is kept
as :class:`Redaction` records (kind, time span, speaker, channel, utterance): no value."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from callscope.transcription.redaction import KINDS
from callscope.transcription.redaction.detect import DETECT_VERSION, Finding, detect
from callscope.transcription.redaction.numbers import NumberReader, digits_of
from callscope.transcription.redaction.tokens import bare
from callscope.transcription.types import Utterance, Word

REDACT_VERSION = f"redact/1+{DETECT_VERSION}"


@dataclass(frozen=True)
class RedactionPolicy:
    """What to do with each kind of personal data in transcripts: ``enabled`` (default on) redacts
    every kind but those in ``keep`` (left in clear) and ``pseudonymise`` (replaced by a keyed
    pseudonym, ``[KIND:<10 hex>]``: HMAC-SHA256 of the value under ``secret``, the deployment's
    key, so the same e-mail address gives the same token in every call and nothing else can)."""

    enabled: bool = True
    keep: frozenset[str] = field(default_factory=frozenset)
    pseudonymise: frozenset[str] = field(default_factory=frozenset)
    secret: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = (set(self.keep) | set(self.pseudonymise)) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kind(s) of personal data {sorted(unknown)}; choose from {', '.join(KINDS)}")
        if set(self.keep) & set(self.pseudonymise):
            raise ValueError(f"kind(s) {sorted(set(self.keep) & set(self.pseudonymise))} both kept and pseudonymised")
        if self.pseudonymise and self.enabled and not self.secret:
            raise ValueError("pseudonymising personal data needs the deployment's secret (CALLSCOPE_PSEUDONYM_KEY)")

    @classmethod
    def keeping(cls, names, enabled: bool = True, pseudonymise=(), secret: bytes | None = None) -> "RedactionPolicy":
        """A policy keeping the kinds ``names`` and pseudonymising those in ``pseudonymise`` (any
        case, each item may be comma separated: ``"phone,EMAIL"``); ValueError naming an unknown kind."""
        return cls(enabled=enabled, keep=_kinds(names), pseudonymise=_kinds(pseudonymise), secret=secret)

    def token(self, kind: str, value: str) -> str:
        """The pseudonym of ``value`` (normalised, see :func:`normalised`) of ``kind``: 10 hex digits."""
        return hmac.new(self.secret or b"", f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:10]


def _kinds(names) -> frozenset[str]:
    return frozenset(k.strip().upper() for n in names for k in n.split(",") if k.strip())


def normalised(words: Sequence[Word], language: str | None) -> str:
    """A finding's value as one string that does not depend on how it was said: number words as
    digits as the detector reads them ("forty five" is 45, "double seven" 77), letters lower case,
    no spaces or punctuation ("oh seven oh, 123" and "070123" agree)."""
    reader = NumberReader(language or "en")
    out, numbers = [], []
    for w in words:
        n = reader.read(w.word)
        if n is not None:
            numbers.append(n)
            continue
        out += [digits_of(numbers), "".join(c for c in bare(w.word) if c.isalnum())]
        numbers = []
    return "".join(out) + digits_of(numbers)


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
    pseudonym: str | None = None


def placeholder(kind: str, pseudonym: str | None = None) -> str:
    return f"[{kind}:{pseudonym}]" if pseudonym else f"[{kind}]"


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
    tokens: dict[int, str] = {}  # id(finding) -> its pseudonym, for the kinds pseudonymised
    for f in findings:
        if f.kind in policy.pseudonymise:
            tokens[id(f)] = policy.token(f.kind, normalised([utterances[u].words[w] for u, w in f.words
                                                             if utterances[u].speaker in f.speakers], language))
        parts: dict[int, list[int]] = {}
        for ui, wi in f.words:
            if utterances[ui].speaker in f.speakers:
                parts.setdefault(ui, []).append(wi)
        for ui, wis in parts.items():
            head[(ui, wis[0])] = (f, [utterances[ui].words[w] for w in wis])
            gone.update((ui, w) for w in wis)
    out: list = []
    records: list = []
    pending: list = []
    for ui, u in enumerate(utterances):
        words: list[Word] = []
        for wi, w in enumerate(u.words):
            if (ui, wi) in head:
                f, part = head[(ui, wi)]
                start, end = min(x.start for x in part), max(x.end for x in part)
                token = tokens.get(id(f))
                words.append(replace(w, word=placeholder(f.kind, token), start=start, end=end, probability=1.0))
                pending.append(Redaction(f.kind, f.subtype, round(start, 3), round(end, 3), u.speaker,
                                         w.channel, len(out), token))
            elif (ui, wi) not in gone:
                words.append(w)
        if words:
            out.append(replace(u, words=words))  # the utterance keeps its reliability
            records += pending
        pending = []
    return out, records
