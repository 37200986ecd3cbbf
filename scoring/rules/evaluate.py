"""Which categories of a rule set (:mod:`.model`) one analysed call matches, with the evidence:
the utterances (indices into the call's utterances, and their times in seconds) that made each
condition hold. Works on the stored analysis alone (no audio, no models): re-scoring a call
with another rule set costs milliseconds."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from callscope.scoring.rules.model import Condition, RuleSet, Said
from callscope.scoring.rules.patterns import compiled

if TYPE_CHECKING:  # the analysis as the pipeline returns and the service stores it
    from callscope.analysis.schema import CallAnalysis


@dataclass(frozen=True)
class Match:
    """A category the call matched: ``evidence`` utterance indices, ``times`` (start, end) in
    seconds of what made it hold (utterances, a silence), ``detail`` in words, and
    ``unreliable_share``: the share of the evidence's words in utterances whose transcript is
    unreliable (None without utterance evidence); when it is half or more, the detail says so."""

    category: str
    evidence: tuple[int, ...]
    times: tuple[tuple[float, float], ...]
    detail: str
    unreliable_share: float | None = None


@dataclass
class _Hit:
    ok: bool
    evidence: list[int]
    times: list[tuple[float, float]]
    detail: list[str]


_NO = _Hit(False, [], [], [])


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'").replace("‘", "'").lower()).strip()


@cache
def _phrase(phrase: str) -> re.Pattern:
    words = [re.escape(w) for w in _norm(phrase).split()]
    return re.compile(r"(?<![\w\[])" + r"\W+".join(words) + r"(?![\w\]])")


class _Call:
    """The parts of an analysis the conditions read, with roles resolved."""

    def __init__(self, call: "CallAnalysis", metadata: Mapping[str, str | None]) -> None:
        self.call = call
        scores = call.call_scores
        self.roles: dict[str, str] = dict(scores.roles) if scores else {}
        self.texts = [_norm(u.text) for u in call.utterances]
        self.metadata = {**{"language": call.language}, **{k: v for k, v in metadata.items() if v is not None}}

    def role_of(self, speaker: str) -> str:
        return self.roles.get(speaker, "unknown")

    def speakers(self, role: str):
        return [s for s in self.call.speaker_scores if role == "any" or s.role == role]

    def times(self, evidence: Sequence[int]) -> list[tuple[float, float]]:
        us = self.call.utterances
        return [(us[i].start, us[i].end) for i in evidence if 0 <= i < len(us)]


def _said(c: _Call, said: Said) -> _Hit:
    lo, hi = said.within.bounds(c.call.duration_s) if said.within else (0.0, float("inf"))
    hits, details = [], []
    for i, u in enumerate(c.call.utterances):
        if said.by != "any" and c.role_of(u.speaker) != said.by:
            continue
        if u.end < lo or u.start > hi:
            continue
        found = [p for p in said.phrases if _phrase(p).search(c.texts[i])]
        found += [r for r in said.regex if compiled(r).search(u.text)]
        if found:
            hits.append(i)
            details.append(f'"{found[0]}" at {u.start:.0f} s')
    return _Hit(bool(hits), hits, c.times(hits), details[:3])


def _sentiment(c: _Call, cond) -> _Hit:
    for s in c.speakers(cond.role):
        if cond.measure.startswith("q"):
            k = int(cond.measure[1]) - 1
            value = s.sentiment_by_quarter[k] if k < len(s.sentiment_by_quarter) else None
            d = c.call.duration_s
            evidence = [i for i, u in enumerate(c.call.utterances)
                        if u.speaker == s.speaker and k * d / 4 <= u.start < (k + 1) * d / 4]
        else:
            score = getattr(s, f"sentiment_{cond.measure}")
            value = score.value if isinstance(score.value, (int, float)) else None
            evidence = list(score.evidence)
        if cond.holds(value):
            return _Hit(True, evidence, c.times(evidence), [f"{s.role} sentiment {cond.measure} {value:+.2f}"])
    return _NO


def _emotion(c: _Call, cond) -> _Hit:
    for s in c.speakers(cond.role):
        share = s.emotion_shares.get(cond.label, 0.0)
        if cond.share.holds(share):
            evidence = [i for i, u in enumerate(c.call.utterances)
                        if u.speaker == s.speaker and u.emotion is not None and u.emotion.label == cond.label]
            return _Hit(True, evidence, c.times(evidence), [f"{s.role} {cond.label} {share:.0%} of speaking time"])
    return _NO


def _silence(c: _Call, cond) -> _Hit:
    s = c.call.call_scores
    if s is None:
        return _NO
    checks = [(cond.total_s, s.silence_s, f"silence {s.silence_s:.0f} s"),
              (cond.share, s.silence_share, f"silence {s.silence_share:.0%} of the call"),
              (cond.longest_s, s.longest_silence_s, f"longest silence {s.longest_silence_s:.0f} s")]
    if not all(r.holds(v) for r, v, _ in checks if r is not None):
        return _NO
    times = [(s.longest_silence_at_s, s.longest_silence_at_s + s.longest_silence_s)] if s.longest_silence_at_s is not None else []
    return _Hit(True, [], times, [d for r, _, d in checks if r is not None])


def _interruptions(c: _Call, cond) -> _Hit:
    s = c.call.call_scores
    if s is None:
        return _NO
    cut = [x for x in s.interruptions if cond.by == "any" or c.role_of(x.by) == cond.by]
    if not cond.count.holds(len(cut)):
        return _NO
    evidence = sorted({i for x in cut for i in x.evidence})
    return _Hit(True, evidence, [(x.at_s, x.at_s + x.overlap_s) for x in cut], [f"{len(cut)} interruption(s) by {cond.by}"])


def _talk_share(c: _Call, cond) -> _Hit:
    for s in c.speakers(cond.role):
        if cond.holds(s.talk_share):
            return _Hit(True, [], [], [f"{s.role} talked {s.talk_share:.0%} of the time"])
    return _NO


def check(c: _Call, cond: Condition) -> _Hit:
    """Whether ``cond`` holds for the call, and why."""
    if cond.all is not None:
        parts = [check(c, x) for x in cond.all]
        if not all(p.ok for p in parts):
            return _NO
        return _Hit(True, sorted({i for p in parts for i in p.evidence}), [t for p in parts for t in p.times],
                    [d for p in parts for d in p.detail])
    if cond.any is not None:
        return next((p for p in (check(c, x) for x in cond.any) if p.ok), _NO)
    if cond.not_ is not None:
        said = cond.not_.said
        if said is not None and said.by != "any" and not any(r == said.by for r in c.roles.values()):
            # "the agent never said …" cannot be claimed of a call in which nobody was taken for
            # the agent (a one-speaker call left 'unknown'): not matched, until a reviewer says who is who
            return _NO
        inner = check(c, cond.not_)
        return _NO if inner.ok else _Hit(True, [], [], [])
    kind = next(k for k in _LEAVES if getattr(cond, k) is not None)  # the model allows exactly one
    return _LEAVES[kind](c, getattr(cond, kind))


def _duration(c: _Call, r) -> _Hit:
    d = c.call.duration_s
    return _Hit(True, [], [], [f"{d:.0f} s long"]) if r.holds(d) else _NO


def _metadata(c: _Call, m) -> _Hit:
    value = c.metadata.get(m.field)
    return _Hit(True, [], [], [f"{m.field} {value}"]) if value in m.in_ else _NO


#: the conditions that read the call, by their key
_LEAVES = {"said": _said, "sentiment": _sentiment, "emotion": _emotion, "silence": _silence,
           "interruptions": _interruptions, "talk_share": _talk_share, "duration_s": _duration, "metadata": _metadata}


def evaluate(rules: RuleSet, call: "CallAnalysis", metadata: Mapping[str, str | None] | None = None) -> list[Match]:
    """The categories of ``rules`` that ``call`` matches, in the rule set's order. ``metadata``:
    the call's queue, team, product, agent_id, direction (what the upload gave)."""
    c = _Call(call, metadata or {})
    out = []
    for cat in rules.categories:
        hit = check(c, cat.when)
        if hit.ok:
            doubtful = _unreliable_share(call, hit.evidence)
            detail = "; ".join(dict.fromkeys(hit.detail))
            if doubtful is not None and doubtful >= 0.5:
                detail += f"; {100 * doubtful:.0f}% of it in passages whose transcript is unreliable"
            out.append(Match(cat.name, tuple(hit.evidence), tuple((round(a, 2), round(b, 2)) for a, b in hit.times),
                             detail, doubtful))
    return out


def _unreliable_share(call: "CallAnalysis", evidence: Sequence[int]) -> float | None:
    """The share of the evidence utterances' words in unreliable utterances (None: no evidence,
    or an analysis from before transcript reliability)."""
    us = [call.utterances[i] for i in evidence if 0 <= i < len(call.utterances)]
    words = sum(len(u.words) for u in us if u.reliability is not None)
    if not words:
        return None
    return round(sum(len(u.words) for u in us if u.reliability is not None and not u.reliability.reliable) / words, 4)




def find_said(call: "CallAnalysis", said: Said) -> tuple[bool, list[int], list[str]]:
    """Whether ``said`` holds in ``call`` (roles as the call's scores give them): (found,
    utterance indices, up to three details such as ``"hello" at 3 s``)."""
    hit = _said(_Call(call, {}), said)
    return hit.ok, hit.evidence, hit.detail


def condition_holds(call: "CallAnalysis", cond: Condition,
                    metadata: Mapping[str, str | None] | None = None) -> tuple[bool, list[int], list[str]]:
    """Whether ``cond`` holds in ``call``: (holds, evidence utterance indices, up to three details)."""
    hit = check(_Call(call, metadata or {}), cond)
    return hit.ok, hit.evidence, list(dict.fromkeys(hit.detail))[:3]
