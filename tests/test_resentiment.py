"""Text sentiment scored again from the stored transcript (issue 13: re-scoring when the
sentiment model changed), on the real Call01 analysis: the same model gives back exactly what the
analysis gave; another head changes the scores, the emotion labels and the level, and the
versions say which model scored them; voice arousal is kept."""

from __future__ import annotations

from callscope.scoring.resentiment import resentiment
from callscope.scoring.scorer import sentiment_model


def test_the_same_model_gives_back_the_analysis(call01_result):
    again = resentiment(call01_result, sentiment_model())
    assert [u.sentiment for u in again.utterances] == [u.sentiment for u in call01_result.utterances]
    for a, b in zip(again.utterances, call01_result.utterances):  # labels equal; confidences up to the stored rounding
        assert (a.emotion.label, a.emotion.arousal, a.emotion.acoustic) == (b.emotion.label, b.emotion.arousal, b.emotion.acoustic)
        assert abs(a.emotion.confidence - b.emotion.confidence) < 1e-3
    assert again.call_scores.escalation.value == call01_result.call_scores.escalation.value
    assert again.call_scores.reasons == call01_result.call_scores.reasons
    assert [s.sentiment_mean.value for s in again.speaker_scores] == [s.sentiment_mean.value for s in call01_result.speaker_scores]


def test_another_head_changes_scores_labels_and_level_and_names_itself(call01_result):
    gloomy = sentiment_model()
    gloomy.heads.cal_offset += 0.3  # a head calibrated to read everything as worse
    gloomy.version += "+test-shifted"
    again = resentiment(call01_result, gloomy)
    before = [u.sentiment.score for u in call01_result.utterances]
    after = [u.sentiment.score for u in again.utterances]
    assert all(a <= b for a, b in zip(after, before)) and sum(after) < sum(before) - 1.0
    assert again.call_scores.versions["sentiment"] == gloomy.version
    assert again.call_scores.escalation.version.endswith("+test-shifted")
    assert all(s.sentiment_mean.version.endswith("+test-shifted") for s in again.speaker_scores)
    levels = ["green", "yellow", "orange", "red"]
    assert levels.index(again.call_scores.escalation.value) > levels.index(call01_result.call_scores.escalation.value)
    assert [u.emotion.arousal for u in again.utterances] == [u.emotion.arousal for u in call01_result.utterances]
    assert call01_result.call_scores.versions["sentiment"] != gloomy.version  # the input is not changed
