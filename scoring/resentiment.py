"""Text sentiment scored again from a stored transcript, with another sentiment model (a new or
recalibrated head), without the audio: the same sentence units and courtesy split as
:class:`~callscope.scoring.scorer.CallScorer`, the voice arousal and features kept as they were
measured, emotion labels, speaker and call scores, the level and the timelines computed again.
"""

from __future__ import annotations

from callscope.scoring.call_scores import CALL_RULES_VERSION
from callscope.scoring.emotion import EmotionThresholds, classify
from callscope.scoring.escalation import EscalationBands
from callscope.scoring.rescore import rescore
from callscope.scoring.results import SentimentOut, UtteranceScores
from callscope.scoring.sentiment import SentimentModel, unit_sentiments
from callscope.scoring.utterance_scores import emotion_out


def resentiment(result, model: SentimentModel, thresholds: EmotionThresholds | None = None,
                bands: EscalationBands | None = None):
    """A copy of ``result`` (a stored :class:`~callscope.analysis.schema.CallAnalysis`) with its text
    sentiment from ``model``; its versions name the model. Unchanged when it was not scored."""
    if result.call_scores is None:
        return result
    thresholds = thresholds or EmotionThresholds()
    out = result.model_copy(deep=True)
    us = out.utterances
    role_of = out.call_scores.roles
    sentiments, formula = unit_sentiments(model, us, result.language)
    scores: list[UtteranceScores | None] = []
    for u, s, f in zip(us, sentiments, formula):
        if u.sentiment is None or u.emotion is None:  # an utterance the analysis did not score stays so
            scores.append(None)
            continue
        pause = (u.features.pause_max_s if u.features else None) or 0.0
        e = classify(s.score, s.confidence, u.emotion.arousal, u.text, pause, thresholds,
                     f and role_of.get(u.speaker) != "customer")
        u.sentiment = SentimentOut(score=s.score, confidence=s.confidence)
        u.emotion = emotion_out(e, u, u.emotion.arousal, u.emotion.acoustic)
        scores.append(UtteranceScores(sentiment=u.sentiment, emotion=u.emotion, features=u.features))
    complete = [x for x in scores if x is not None]
    if len(complete) < len(scores):
        return result
    old = out.call_scores.versions.get("sentiment", "")
    for sp in out.speaker_scores:  # the re-computed scores carry the new model's version
        for name in ("sentiment_mean", "sentiment_min", "sentiment_max", "sentiment_start", "sentiment_end",
                     "sentiment_trend"):
            score = getattr(sp, name)
            setattr(sp, name, score.model_copy(update={"version": score.version.replace(old, model.version) if old
                                                       else model.version}))
    out.call_scores.escalation = out.call_scores.escalation.model_copy(
        update={"version": f"{CALL_RULES_VERSION}+{model.version}"})
    out.speaker_scores, out.call_scores, out.timeline = rescore(
        us, complete, out.speaker_scores, out.call_scores, out.timeline, out.duration_s, "", bands=bands)
    out.call_scores.versions = {**out.call_scores.versions, "sentiment": model.version}
    return out
