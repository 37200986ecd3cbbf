"""How far a transcript can be trusted as evidence, per utterance and per call.

Whisper writes fluent text whether or not it heard the words, so a passage it was unsure of
looks like any other. What it leaves behind is measurable, and each utterance gets these
measurements (``features``, all from the decoder and the words, nothing else):

* ``word_confidence``: the mean of the words' probabilities (0..1);
* ``low_confidence_share``: the share of words with probability below :data:`LOW_WORD_PROBABILITY`;
* ``decoder_logprob``: the mean log-probability of the tokens of the decoder windows the words
  came from (word-weighted; ≤ 0);
* ``compression_ratio``: how well those windows' text compresses (above ~2.4 it repeats itself);
* ``no_speech``: the decoder's probability that those windows held no speech (0..1);
* ``zero_duration_share``: the share of words the aligner gave no duration (a pile of words on one
  instant: text the audio does not hold);
* ``repeat_share``: the share of words inside a run of :data:`LOOP_NGRAM` words said again, by the
  same channel, within :data:`LOOP_WINDOW_S` seconds (Whisper's loops);
* ``words_per_second``: words over the utterance's span.

The **score** is the expected share of the utterance's words that are right, an estimate of
1 − WER calibrated against reference transcripts: a logistic model on those measurements
(``transcription/models/reliability.json``, fitted by ``analysis/fit_reliability.py`` on
read and acted speech with references, as recorded and as G.711 telephone copies, decoded in
their language and in a wrong one; data, licences, split and seed in its version). An utterance
under the model's threshold is **unreliable**: marked in the output, weighed less in every score
built on it, and said so where a level rests on it. Words in a loop or without duration are
counted as wrong whatever the model says (the model saw few loops; these words are wrong by
construction).

The **call**'s reliability is the expected share of right words over the words written *plus*
the words the speech without any word would have held (speech the decoder skipped, at the
calibration data's speaking rate): a transcript that left half the call out is not reliable
however good its words are.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from callscope.transcription.types import Reliability, Utterance, Word

MODEL_PATH = Path(__file__).resolve().parent / "models" / "reliability.json"
#: A word Whisper gives less than this probability counts as low-confidence.
LOW_WORD_PROBABILITY = 0.5
#: A word shorter than this (seconds) has no duration: the aligner put it on an instant.
ZERO_DURATION_S = 0.02
#: Words in a run that repeats (a loop): runs of this many words …
LOOP_NGRAM = 5
#: … said again by the same channel within this many seconds.
LOOP_WINDOW_S = 60.0
#: Speech with no word within this many seconds of it counts as speech without words.
COVERAGE_PAD_S = 0.5
#: Pieces of speech without words shorter than this (seconds) are left out (pauses, breaths).
MIN_UNCOVERED_S = 1.0
#: What a word without decoder statistics (a word from a stored result or a test) is taken to have.
NEUTRAL_WINDOW = {"decoder_logprob": -0.4, "compression_ratio": 1.2, "no_speech": 0.05}
FEATURES = ("word_confidence", "low_confidence_share", "decoder_logprob", "compression_ratio", "no_speech",
            "zero_duration_share", "repeat_share", "words_per_second")
#: Marks shown to reviewers, from the features (feature, test, words).
MARKS = (
    ("repeat_share", lambda v: v >= 0.2, "repeats itself (a decoder loop)"),
    ("zero_duration_share", lambda v: v >= 0.2, "words without duration"),
    ("compression_ratio", lambda v: v > 2.4, "repetitive decoding window"),
    ("low_confidence_share", lambda v: v >= 0.5, "most words uncertain"),
    ("no_speech", lambda v: v >= 0.6, "the decoder doubted there was speech"),
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ReliabilityModel:
    """A logistic model from standardised inputs (:func:`inputs`) to the expected share of right
    words, and the threshold under which an utterance is unreliable."""

    version: str
    intercept: float
    weights: dict[str, float]
    mean: dict[str, float]
    scale: dict[str, float]
    threshold: float
    words_per_second: float

    def score(self, features: dict[str, float]) -> float:
        """The expected share of right words, 0..1, before loops and dimensionless words."""
        x = inputs(features)
        z = self.intercept + sum(w * (x[k] - self.mean[k]) / self.scale[k] for k, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    @classmethod
    def load(cls, path: str | Path) -> "ReliabilityModel":
        data = json.loads(Path(path).read_text())
        return cls(data["version"], data["intercept"], data["weights"], data["mean"], data["scale"],
                   data["threshold"], data["words_per_second"])

    def to_json(self) -> dict:
        return {"version": self.version, "intercept": self.intercept, "weights": self.weights, "mean": self.mean,
                "scale": self.scale, "threshold": self.threshold, "words_per_second": self.words_per_second}


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> ReliabilityModel:
    """The shipped model, or the one at ``path``."""
    return ReliabilityModel.load(path or MODEL_PATH)


def inputs(features: dict[str, float]) -> dict[str, float]:
    """The model's inputs from an utterance's features: the log-odds of the word confidence, the
    log of the compression ratio and of the speaking rate's distance from 2.5 words a second;
    the rest as they are."""
    p = min(max(features["word_confidence"], 0.01), 0.99)
    return {
        "word_confidence": math.log(p / (1 - p)),
        "low_confidence_share": features["low_confidence_share"],
        "decoder_logprob": max(features["decoder_logprob"], -3.0),
        "compression_ratio": math.log(max(features["compression_ratio"], 0.1)),
        "no_speech": features["no_speech"],
        "zero_duration_share": features["zero_duration_share"],
        "repeat_share": features["repeat_share"],
        "words_per_second": abs(math.log(max(features["words_per_second"], 0.1) / 2.5)),
    }


def _tokens(word: str) -> str:
    return "".join(_WORD.findall(word.lower()))


def word_marks(words: Sequence[Word]) -> tuple[list[bool], list[bool]]:
    """(no duration, inside a loop) for each of ``words``, one channel's words in time order.

    A word is inside a loop when it belongs to a run of :data:`LOOP_NGRAM` words whose text
    occurs again within :data:`LOOP_WINDOW_S` seconds (both runs are marked)."""
    zero = [w.end - w.start < ZERO_DURATION_S for w in words]
    looped = [False] * len(words)
    toks = [_tokens(w.word) for w in words]
    seen: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(words) - LOOP_NGRAM + 1):
        gram = tuple(toks[i:i + LOOP_NGRAM])
        if any(not t for t in gram):
            continue
        for j in seen.get(gram, []):
            if words[i].start - words[j].start <= LOOP_WINDOW_S:
                for k in range(LOOP_NGRAM):
                    looped[i + k] = looped[j + k] = True
        seen.setdefault(gram, []).append(i)
    return zero, looped


def utterance_features(words: Sequence[Word], zero: Sequence[bool], looped: Sequence[bool]) -> dict[str, float]:
    """The features (see the module doc) of one utterance's ``words`` and their marks."""
    n = len(words)
    if n == 0:
        return {k: 0.0 for k in FEATURES}
    window = [w.window for w in words]
    span = max(words[-1].end - words[0].start, 0.25)

    def mean_of(attr: str, neutral: float) -> float:
        return sum(getattr(x, attr) if x is not None else neutral for x in window) / n

    return {
        "word_confidence": round(sum(w.probability for w in words) / n, 4),
        "low_confidence_share": round(sum(w.probability < LOW_WORD_PROBABILITY for w in words) / n, 4),
        "decoder_logprob": round(mean_of("avg_logprob", NEUTRAL_WINDOW["decoder_logprob"]), 4),
        "compression_ratio": round(mean_of("compression_ratio", NEUTRAL_WINDOW["compression_ratio"]), 4),
        "no_speech": round(mean_of("no_speech_prob", NEUTRAL_WINDOW["no_speech"]), 4),
        "zero_duration_share": round(sum(zero) / n, 4),
        "repeat_share": round(sum(looped) / n, 4),
        "words_per_second": round(n / span, 4),
    }


def assess(features: dict[str, float], model: ReliabilityModel) -> Reliability:
    """An utterance's :class:`Reliability` from its features."""
    suspect = max(features["zero_duration_share"], features["repeat_share"])
    score = model.score(features) * (1.0 - suspect)
    marks = tuple(text for key, test, text in MARKS if test(features[key]))
    if score < model.threshold and not marks:
        marks = ("the decoder was unsure of these words",)
    return Reliability(round(score, 4), score >= model.threshold, marks, features)


@dataclass(frozen=True)
class TranscriptReliability:
    """The call's transcript as evidence.

    Attributes:
        score: the expected share of right words over the words written plus the words the
            speech without any word would have held, 0..1.
        unreliable_share: the share of the words that are in unreliable utterances.
        speech_without_words_s: seconds of speech (VAD) with no word near them.
        threshold: the utterance threshold used.
        version: the model's version.
    """

    score: float | None
    unreliable_share: float
    speech_without_words_s: float
    threshold: float
    version: str


def uncovered_speech(regions: Sequence[tuple[float, float]], words: Sequence[Word]) -> float:
    """Seconds of ``regions`` (speech, seconds) farther than :data:`COVERAGE_PAD_S` from every
    word, counting only pieces of at least :data:`MIN_UNCOVERED_S`."""
    spans = sorted((w.start - COVERAGE_PAD_S, w.end + COVERAGE_PAD_S) for w in words)
    total = 0.0
    first = 0  # spans before it end before the current region starts (regions are in time order)
    for a, b in sorted(regions):
        while first < len(spans) and spans[first][1] <= a:
            first += 1
        pos = a
        for k in range(first, len(spans)):
            s, e = spans[k]
            if s >= b:  # sorted by start: no later span reaches into this region
                break
            if e <= pos:
                continue
            if s - pos >= MIN_UNCOVERED_S:
                total += s - pos
            pos = max(pos, e)
        if b - pos >= MIN_UNCOVERED_S:
            total += b - pos
    return total


def mark_transcript(utterances: Sequence[Utterance], speech: Mapping[int | None, Sequence[tuple[float, float]]],
                    model: ReliabilityModel) -> tuple[list[Utterance], TranscriptReliability]:
    """``utterances`` with their :class:`Reliability`, and the call's.

    ``speech``: per channel (None for a mono call), the speech regions (seconds) the words were
    decoded from. Words are grouped per channel for the loop test."""
    by_channel: dict[int | None, list[tuple[int, int, Word]]] = {}
    for ui, u in enumerate(utterances):
        for wi, w in enumerate(u.words):
            by_channel.setdefault(w.channel, []).append((ui, wi, w))
    zero: dict[tuple[int, int], bool] = {}
    looped: dict[tuple[int, int], bool] = {}
    for items in by_channel.values():
        items.sort(key=lambda x: (x[2].start, x[2].end))
        z, lp = word_marks([w for _, _, w in items])
        for (ui, wi, _), zi, li in zip(items, z, lp):
            zero[(ui, wi)], looped[(ui, wi)] = zi, li
    out = []
    for ui, u in enumerate(utterances):
        feats = utterance_features(u.words, [zero[(ui, wi)] for wi in range(len(u.words))],
                                   [looped[(ui, wi)] for wi in range(len(u.words))])
        out.append(replace(u, reliability=assess(feats, model)))
    words = sum(len(u.words) for u in out)
    right = sum(u.reliability.score * len(u.words) for u in out if u.reliability)
    unreliable = sum(len(u.words) for u in out if u.reliability and not u.reliability.reliable)
    missing = sum(uncovered_speech(regs, [w for _, _, w in by_channel.get(ch, [])]) for ch, regs in speech.items())
    expected = words + model.words_per_second * missing
    return out, TranscriptReliability(
        score=round(right / expected, 4) if expected > 0 else None,
        unreliable_share=round(unreliable / words, 4) if words else 0.0,
        speech_without_words_s=round(missing, 2), threshold=model.threshold, version=model.version)


def reliability_weight(u) -> float:
    """The weight an utterance's text gets in scores built on it: its reliability score (1 for
    an utterance without one, e.g. a result stored before reliability existed). ``u`` is a
    transcription :class:`Utterance` or a stored result's utterance."""
    r = getattr(u, "reliability", None)
    return 1.0 if r is None else float(r.score)


def is_unreliable(u) -> bool:
    r = getattr(u, "reliability", None)
    return r is not None and not r.reliable
