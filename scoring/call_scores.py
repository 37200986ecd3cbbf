"""Speaker- and call-level scores: sentiment over the call, talk and silence, overlaps and
interruptions (the level: :mod:`callscope.scoring.escalation`)."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from callscope.scoring.emotion import LABELS
from callscope.scoring.results import Interruption, Score, SpeakerScores, UtteranceScores
from callscope.scoring.sentences import SENTENCE_END, sentence_units
from callscope.transcription.reliability import is_unreliable, reliability_weight
from callscope.transcription.types import SpeakerTurn, Utterance

CALL_RULES_VERSION = "call-scores/4"
#: Weight of an utterance with no opinion (sign confidence 0.5: "my username is user101") relative
#: to a clear one (confidence 1.0) in speaker means: business talk must not dilute what was felt.
NEUTRAL_WEIGHT = 0.1
#: The least weight an unreliable utterance keeps (its reliability score is the factor otherwise).
MIN_RELIABILITY_WEIGHT = 0.05
#: A passage (one scored sentence unit: :func:`~callscope.scoring.sentences.sentence_units`) weighs
#: its sentences, each one opinion however many words it has, and at most this many: a long
#: passage counts like a few sentences, not like its words ("there's no taxes to pay, ..." over
#: 86 words no longer outweighs "Good. Thanks so much."). The same passage said again by the same
#: speaker (a looping transcript, a repeated line) shares one weight among its copies.
MAX_SENTENCES_PER_PASSAGE = 3
#: Start and end sentiment: the speaker's first (last) utterances up to this many words …
WINDOW_WORDS = 25
#: … or this many seconds of their speech, whichever comes first, and never more than half of the
#: speaker's words (so start and end are read from different speech). A window with fewer words
#: than :data:`WINDOW_WORDS` is thin evidence: its confidence drops in proportion, and a level
#: read from it says so.
WINDOW_S = 15.0
#: A level whose evidence has at least this share of its words in unreliable utterances says so.
UNRELIABLE_LEVEL_SHARE = 0.5
INTERRUPTION_RULES_VERSION = "interruptions/2"
#: An interruption's words: fewer is a backchannel ("mm-hmm", "yeah, right"), not a cut-in.
MIN_CUT_IN_WORDS = 3
#: Words of the interrupted utterance: fewer is a fragment, not a turn.
MIN_TURN_WORDS = 3
#: A cut-in starts at least this far (seconds) into the other's utterance …
CUT_IN_AFTER_S = 0.5
#: … and overlaps it at least this long (seconds).
MIN_CUT_IN_OVERLAP_S = 0.3
#: Mono: the next speaker starts within this many seconds of an unfinished sentence.
CUT_OFF_GAP_S = 0.2


def union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merged, sorted intervals (seconds)."""
    merged: list[list[float]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def covered(intervals: list[tuple[float, float]]) -> float:
    return sum(e - s for s, e in union(intervals))


def sentence_count(text: str) -> int:
    """Sentences in ``text``: its sentence ends (. ? ! …), and one more for an unfinished tail (≥ 1)."""
    tokens = text.split()
    ends = sum(t.endswith(SENTENCE_END) for t in tokens)
    return max(1, ends + (0 if tokens and tokens[-1].endswith(SENTENCE_END) else 1))


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def passage_weights(utterances: list[Utterance]) -> list[float]:
    """Each utterance's share of its passage's weight, before clarity and reliability: the
    passage's sentences (at most :data:`MAX_SENTENCES_PER_PASSAGE`), divided among the
    passage's utterances by their words and among the speaker's copies of the same passage."""
    units = sentence_units(utterances)
    joined = [" ".join(utterances[i].text for i in unit) for unit in units]
    texts = [_normalised(text) for text in joined]
    copies = Counter((utterances[unit[0]].speaker, text) for unit, text in zip(units, texts))
    weights = [0.0] * len(utterances)
    for unit, text, whole in zip(units, texts, joined):
        sentences = sentence_count(whole)
        passage = min(sentences, MAX_SENTENCES_PER_PASSAGE) / copies[(utterances[unit[0]].speaker, text)]
        words = sum(max(len(utterances[i].words), 1) for i in unit)
        for i in unit:
            weights[i] = passage * max(len(utterances[i].words), 1) / words
    return weights


def utterance_weight(passage: float, confidence: float, reliability: float = 1.0) -> float:
    """An utterance's weight in a speaker's sentiment means: its share of its passage's weight
    (:func:`passage_weights`) times how clearly it is positive or negative,
    ``max(2 * confidence - 1, NEUTRAL_WEIGHT)`` (sign confidence 0.5..1), times how reliable its
    transcript is (0..1, at least :data:`MIN_RELIABILITY_WEIGHT`)."""
    return passage * max(2.0 * confidence - 1.0, NEUTRAL_WEIGHT) * max(reliability, MIN_RELIABILITY_WEIGHT)


def _weighted_mean(idx: list[int], utterances: list[Utterance], scores: list[UtteranceScores],
                   passages: list[float]) -> float | None:
    if not idx:
        return None
    w = np.array([utterance_weight(passages[i], scores[i].sentiment.confidence, reliability_weight(utterances[i]))
                  for i in idx], dtype=float)
    v = np.array([scores[i].sentiment.score for i in idx])
    return float(np.sum(w * v) / np.sum(w))


def _words(idx: list[int], utterances: list[Utterance]) -> int:
    return sum(len(utterances[i].words) for i in idx)


def evidence_reliability(idx: list[int], utterances: list[Utterance]) -> float:
    """The word-weighted mean reliability of the utterances ``idx`` (1 when they carry none)."""
    n = _words(idx, utterances)
    if n == 0:
        return 1.0
    return sum(len(utterances[i].words) * reliability_weight(utterances[i]) for i in idx) / n


def _confidence(idx: list[int], utterances: list[Utterance], scores: list[UtteranceScores]) -> float:
    """How far a sentiment score read from the utterances ``idx`` holds: their mean sentiment
    confidence (word-weighted), times their transcript's reliability, times the evidence's size
    (its words over :data:`WINDOW_WORDS`, at most 1)."""
    n = _words(idx, utterances)
    if not idx or n == 0:
        return 0.0
    mean = sum(len(utterances[i].words) * scores[i].sentiment.confidence for i in idx) / n
    return round(mean * evidence_reliability(idx, utterances) * min(1.0, n / WINDOW_WORDS), 3)


def edge_window(idx: list[int], utterances: list[Utterance], from_end: bool) -> list[int]:
    """The speaker's first (``from_end``: last) utterances of ``idx`` (time order) up to
    :data:`WINDOW_WORDS` words or :data:`WINDOW_S` seconds, never more than half their words
    (at least one utterance)."""
    half = _words(idx, utterances) / 2
    out: list[int] = []
    words, seconds = 0, 0.0
    for i in (reversed(idx) if from_end else idx):
        n = len(utterances[i].words)
        if out and (words >= WINDOW_WORDS or seconds >= WINDOW_S or words + n > half):
            break
        out.append(i)
        words += n
        seconds += utterances[i].end - utterances[i].start
    return sorted(out)


def _quarter(u: Utterance, duration: float) -> int:
    mid = (u.start + u.end) / 2
    return min(3, int(4 * mid / duration)) if duration > 0 else 0


def speaker_scores(
    speaker: str,
    role: str,
    acoustic: bool,
    utterances: list[Utterance],
    scores: list[UtteranceScores],
    talk_time: float,
    total_talk: float,
    duration: float,
    version: str,
    arousal_baseline: str | None = None,
    passages: list[float] | None = None,
) -> SpeakerScores:
    """One speaker's scores. ``passages``: :func:`passage_weights` of ``utterances``, when the
    caller scores several speakers of the call (computed here otherwise)."""
    idx = [i for i, u in enumerate(utterances) if u.speaker == speaker]
    passages = passage_weights(utterances) if passages is None else passages
    quarters = [[i for i in idx if _quarter(utterances[i], duration) == q] for q in range(4)]
    by_quarter = [None if (m := _weighted_mean(q, utterances, scores, passages)) is None else round(m, 4)
                  for q in quarters]

    def score(value, evidence, detail=None):
        n = _words(evidence, utterances)
        doubtful = sum(len(utterances[i].words) for i in evidence if is_unreliable(utterances[i]))
        return Score(value=None if value is None else round(value, 4), confidence=_confidence(evidence, utterances, scores),
                     evidence=evidence, version=version, detail=detail, evidence_words=n,
                     unreliable_share=round(doubtful / n, 4) if n else None)

    def window_detail(evidence: list[int], which: str) -> str:
        n = _words(evidence, utterances)
        thin = f"; fewer than {WINDOW_WORDS} words: thin evidence" if n < WINDOW_WORDS else ""
        return f"the speaker's {which} {n} words (utterances {evidence[0]}-{evidence[-1]}){thin}" if evidence else which

    sentiments = {i: scores[i].sentiment.score for i in idx}
    lo = min(idx, key=lambda i: sentiments[i]) if idx else None
    hi = max(idx, key=lambda i: sentiments[i]) if idx else None
    first, last = edge_window(idx, utterances, False), edge_window(idx, utterances, True)
    start, end = _weighted_mean(first, utterances, scores, passages), _weighted_mean(last, utterances, scores, passages)
    trend = None if start is None or end is None or first == last else end - start
    label_time = {label: 0.0 for label in LABELS}
    for i in idx:
        label_time[scores[i].emotion.label] += utterances[i].end - utterances[i].start
    spoken_time = sum(label_time.values())
    words = sum(len(utterances[i].words) for i in idx)
    utt_time = sum(utterances[i].end - utterances[i].start for i in idx)
    levels = [level for i in idx if (level := scores[i].features.loudness_dbfs) is not None]
    return SpeakerScores(
        speaker=speaker, role=role, acoustic_emotion=acoustic,
        talk_time_s=round(talk_time, 3), talk_share=round(talk_time / total_talk, 4) if total_talk else 0.0,
        words_per_minute=round(60 * words / utt_time, 1) if utt_time > 0 else None,
        loudness_dbfs=round(float(np.median(levels)), 1) if levels else None,
        sentiment_mean=score(_weighted_mean(idx, utterances, scores, passages), idx),
        sentiment_min=score(sentiments[lo] if lo is not None else None, [lo] if lo is not None else []),
        sentiment_max=score(sentiments[hi] if hi is not None else None, [hi] if hi is not None else []),
        sentiment_start=score(start, first, window_detail(first, "first")),
        sentiment_end=score(end, last, window_detail(last, "last")),
        sentiment_trend=score(trend, sorted(set(first + last)), "end minus start"),
        sentiment_by_quarter=by_quarter,
        emotion_shares={k: round(v / spoken_time, 4) for k, v in label_time.items()} if spoken_time else {k: 0.0 for k in LABELS},
        arousal_baseline=arousal_baseline if acoustic else None,
        empathy_statements=sum(scores[i].emotion.label == "empathetic" for i in idx),
    )


def silence(turns: list[SpeakerTurn], duration: float) -> tuple[float, float, float | None]:
    """(time nobody speaks, longest silence, its start) in seconds; leading and trailing silence count."""
    speech = union([(t.start, t.end) for t in turns])
    gaps, pos = [], 0.0
    for s, e in speech:
        if s > pos:
            gaps.append((pos, s))
        pos = max(pos, e)
    if duration > pos:
        gaps.append((pos, duration))
    if not gaps:
        return 0.0, 0.0, None
    longest = max(gaps, key=lambda g: g[1] - g[0])
    return sum(e - s for s, e in gaps), longest[1] - longest[0], longest[0]


def overlap_time(turns: list[SpeakerTurn]) -> float:
    """Seconds in which two or more speakers talk at once."""
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for t in turns:
        by_speaker.setdefault(t.speaker, []).append((t.start, t.end))
    per_speaker = sum(covered(v) for v in by_speaker.values())
    return max(0.0, per_speaker - covered([(t.start, t.end) for t in turns]))


def _continues_sentence(u: Utterance) -> bool:
    """The utterance's first word starts in lower case: the transcript continues a sentence."""
    first = next((ch for ch in u.words[0].word if ch.isalpha()), "") if u.words else ""
    return first.islower()


def interruptions(utterances: list[Utterance]) -> list[Interruption]:
    """Real cut-ins only (rules ``interruptions/2``, thresholds below).

    * Overlapping speech (dual-channel calls): B starts while A is mid-utterance, at least
      :data:`CUT_IN_AFTER_S` into it; they overlap at least :data:`MIN_CUT_IN_OVERLAP_S`.
    * Mono calls have no overlapping utterances; there, B taking over within
      :data:`CUT_OFF_GAP_S` of A's last word while A's sentence is unfinished (no . ? ! …) is a
      cut-off, if B starts a sentence of their own (a capital letter, or no letter). B's words
      starting in lower case continue A's sentence in the transcript ("The video is" | "taking
      now."): that is a word-timing slip at the speaker change, not a cut-off.

    Either way both are turns, not fragments: B says at least :data:`MIN_CUT_IN_WORDS` words
    (fewer is a backchannel: "mm-hmm", "yeah, right") and A's interrupted utterance has at least
    :data:`MIN_TURN_WORDS` (a one- or two-word fragment, often a word-timing slip at a speaker
    change, is not a turn that can be interrupted).
    """
    found: list[Interruption] = []
    for j, b in enumerate(utterances):
        if len(b.words) < MIN_CUT_IN_WORDS:
            continue
        for i, a in enumerate(utterances):
            if a.speaker == b.speaker or i == j or len(a.words) < MIN_TURN_WORDS:
                continue
            overlap = min(a.end, b.end) - max(a.start, b.start)
            cut_in = a.start + CUT_IN_AFTER_S <= b.start < a.end and overlap >= MIN_CUT_IN_OVERLAP_S
            cut_off = (
                i == j - 1 and 0.0 <= b.start - a.end < CUT_OFF_GAP_S
                and not a.words[-1].word.endswith(SENTENCE_END) and not _continues_sentence(b)
            )
            if cut_in or cut_off:
                found.append(Interruption(by=b.speaker, of=a.speaker, at_s=round(b.start, 3),
                                          overlap_s=round(max(overlap, 0.0), 3), evidence=[i, j]))
                break
    return found
