"""Fits the level's confidence map (:mod:`callscope.scoring.level_confidence`).

No call has a level a person gave it. What exists are texts in which people rated **every
sentence**: vader's Amazon review snippets (Hutto & Gilbert 2014; cjhutto/vaderSentiment @
44fc044c : additional_resources/hutto_ICWSM_2014.tar.gz, MIT), 3,708 sentences of 300 product
reviews in their order, each the mean of ≥ 20 ratings on -4..+4. A review is read as a
customer's side of a contact (one sentence an utterance, 0.3 s a word, 0.6 s between sentences)
and scored by the real scorer; its **reference level** is what the same rule gives when each
sentence's score is the people's rating / 4 (the scale the head is calibrated to) instead of the
model's, with the same weights, windows and bands. "Right" means the level would stand had
people scored the sentences; it does not say that people would give the call that level.

The shipped head was trained on 80 % of those sentences, so the reviews are scored by a head
trained the same way **without the Amazon domain** (movie snippets and tweets: the same folds,
seed, regularisation search and calibration; the shipped neutral gate), as a call is scored by
a head that never saw it. A logistic regression of "right" on the distance from the level's
value to the nearest band edge (default bands; unregularised, C=1e6) gives the curve. No seed:
the fit is deterministic.

    .venv/bin/python -m callscope.scoring.fit_level_confidence [--out FILE]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.environment import cache_root
from callscope.scoring.level_confidence import MAP_PATH, LevelConfidenceMap, band_margin

AMAZON_SOURCE = "vader Amazon review snippets MIT"
SECONDS_PER_WORD, PAUSE_S = 0.3, 0.6


@dataclass
class RatedText:
    """A customer's text whose every sentence people rated: its sentences in order, their mean ratings (-4..+4)."""

    text_id: str
    sentences: list[str]
    ratings: list[float]


@dataclass
class LevelCase:
    """One rated text read as a call: the model's level, its value and confidence, the reference level."""

    text_id: str
    sentences: int
    level: str | None
    reference: str | None
    value: float
    margin: float
    unreliable_share: float | None
    confidence: float  # as the level states it now
    confidence_before: float  # as call-scores/4 stated it: the confidence of the sentiment read

    @property
    def right(self) -> bool:
        return self.level == self.reference


def amazon_reviews() -> list[RatedText]:
    """vader's Amazon snippets grouped by review (ids ``review_sentence``), sentences in order."""
    from callscope.scoring.train_sentiment import DEFAULT_DATA

    rows: dict[str, list[tuple[int, str, float]]] = defaultdict(list)
    for line in (DEFAULT_DATA / "vader" / "amazonReviewSnippets_GroundTruth.txt").read_text(
            encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and "_" in parts[0]:
            review, k = parts[0].split("_", 1)
            rows[review].append((int(k), parts[2].strip(), float(parts[1])))
    return [RatedText(r, [t for _, t, _ in sorted(v)], [x for _, _, x in sorted(v)]) for r, v in sorted(rows.items())]


def model_without(domain: str):
    """A :class:`~callscope.scoring.sentiment.SentimentModel` whose heads are trained as
    train_sentiment trains them, without the vader ``domain``, with the shipped neutral gate."""
    from callscope.scoring.sentiment import SentimentModel
    from callscope.scoring.train_sentiment import (
        DEFAULT_DATA,
        VADER_DOMAINS,
        cached_embeddings,
        fit_calibrated,
        flattened,
        load_domains,
    )

    model = SentimentModel()
    domains = load_domains(DEFAULT_DATA, tuple(d for d in VADER_DOMAINS if d != domain))
    x = np.vstack([cached_embeddings(model.encoder, texts, cache_root() / "embeddings") for texts, _ in domains.values()])
    _, ratings, names = flattened(domains)
    heads, _test = fit_calibrated(x, ratings, names)
    shipped = model.heads
    heads.gate_coef, heads.gate_intercept, heads.gate_offsets = shipped.gate_coef, shipped.gate_intercept, shipped.gate_offsets
    heads.gate_point, heads.gate_scale = shipped.gate_point, shipped.gate_scale
    model.heads = heads
    model.version = f"{model.version} retrained without vader {domain}"
    return model


def as_utterances(text: RatedText):
    """The text as one customer's utterances: one a sentence, :data:`SECONDS_PER_WORD` a word."""
    from callscope.transcription.types import Utterance, Word

    utterances, t = [], 0.0
    for sentence in text.sentences:
        tokens = sentence.split() or ["."]
        words = [Word(w, t + SECONDS_PER_WORD * i, t + SECONDS_PER_WORD * (i + 1), 1.0) for i, w in enumerate(tokens)]
        utterances.append(Utterance("Customer", t, words[-1].end, words))
        t = words[-1].end + PAUSE_S
    return utterances


def level_cases(model, texts: list[RatedText]) -> list[LevelCase]:
    """Each text scored by the real scorer with ``model``, and its reference level (module doc)."""
    from callscope.scoring.call_scores import passage_weights, speaker_scores
    from callscope.scoring.escalation import EscalationBands, decide_level, level_basis
    from callscope.scoring.results import SentimentOut
    from callscope.scoring.roles import RoleAssignment
    from callscope.scoring.scorer import CallScorer
    from callscope.scoring.sentences import sentence_units
    from callscope.transcription.types import SpeakerTurn

    scorer = CallScorer(sentiment=model)
    bands = EscalationBands()
    roles = RoleAssignment(roles={"Customer": "customer"}, source="channel_map", confidence=1.0)
    out = []
    with model.encoder.prefetched([s for t in texts for s in t.sentences]):
        for text in texts:
            utts = as_utterances(text)
            duration, talk = utts[-1].end + 1.0, sum(u.end - u.start for u in utts)
            scored = scorer.score(utts, [SpeakerTurn(u.speaker, u.start, u.end) for u in utts], ["Customer"],
                                  {"Customer": talk}, duration, {"Customer": None}, roles)
            human = list(text.ratings)
            for unit in sentence_units(utts):  # a joined sentence has one score: its sentences' mean rating
                words = [len(utts[i].words) for i in unit]
                mean = sum(w * text.ratings[i] for w, i in zip(words, unit)) / sum(words)
                for i in unit:
                    human[i] = mean
            rated = [s.model_copy(update={"sentiment": SentimentOut(score=float(np.clip(h / 4.0, -1, 1)),
                                                                          confidence=s.sentiment.confidence)})
                         for s, h in zip(scored.utterances, human)]
            people = speaker_scores("Customer", "customer", False, utts, rated, talk, talk, duration, "people",
                                    passages=passage_weights(utts))
            customer = scored.speakers[0]
            end = customer.sentiment_end.value
            basis, value = level_basis(bands, float(customer.sentiment_mean.value or 0.0), None if end is None else float(end))
            read = customer.sentiment_end if basis == "end" else customer.sentiment_mean
            level = scored.call.escalation
            theirs = decide_level(people, bands, "people")[0].value
            out.append(LevelCase(text.text_id, len(utts), None if level.value is None else str(level.value),
                                 None if theirs is None else str(theirs),
                                 value, band_margin(value, bands.edges), read.unreliable_share, float(level.confidence),
                                 float(read.confidence)))
    return out


def fit(cases: list[LevelCase], version_data: str, head_version: str) -> LevelConfidenceMap:
    """The curve of "right" over the margin of ``cases``."""
    from sklearn.linear_model import LogisticRegression

    margin = np.array([[c.margin] for c in cases])
    right = np.array([c.right for c in cases])
    if len(set(right)) < 2:
        raise ValueError("every level is right, or every one wrong: nothing to fit a confidence to")
    lr = LogisticRegression(C=1e6).fit(margin, right)
    version = (f"level-confidence/1(logistic on the margin to the nearest band edge;{version_data};"
               f"n={len(cases)},right {right.mean():.3f})")
    return LevelConfidenceMap(version, head_version, round(float(lr.coef_[0, 0]), 4), round(float(lr.intercept_[0]), 4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=MAP_PATH)
    args = parser.parse_args()

    model = model_without("amazon")
    cases = level_cases(model, amazon_reviews())
    fitted = fit(cases, f"{AMAZON_SOURCE},reference=the rule on people's ratings", model.version)
    args.out.write_text(json.dumps(fitted.to_json(), indent=1) + "\n", encoding="utf-8")
    print(f"{fitted.version}\nslope {fitted.slope}, intercept {fitted.intercept}\nwrote {args.out}")


if __name__ == "__main__":
    main()
