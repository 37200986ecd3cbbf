"""Re-score a call from changed utterance scores (a QA reviewer's corrections), without the audio.

Speaker scores, the escalation level and the smoothed valence of the timelines are computed again
by the same rules as in :class:`~callscope.scoring.scorer.CallScorer`; what corrections cannot
change (talk time, silence, overlaps, interruptions, acoustic arousal) is kept as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from callscope.scoring.call_scores import passage_weights, speaker_scores
from callscope.scoring.escalation import EscalationBands, relevel
from callscope.scoring.results import CallScores, SpeakerScores, SpeakerTimeline, UtteranceScores
from callscope.scoring.timeline import build_timeline
from callscope.transcription.types import Utterance


def _customer(speakers: Sequence[SpeakerScores]) -> SpeakerScores | None:
    return next((s for s in speakers if s.role == "customer"), None)


def rescore(
    utterances: Sequence[Utterance],
    scores: Sequence[UtteranceScores],
    speakers: Sequence[SpeakerScores],
    call: CallScores,
    timelines: Sequence[SpeakerTimeline],
    duration: float,
    version_suffix: str,
    bands: EscalationBands | None = None,
) -> tuple[list[SpeakerScores], CallScores, list[SpeakerTimeline]]:
    """New speaker scores, call scores and timelines from ``scores`` (one per utterance).

    ``utterances`` may be any objects with ``speaker``, ``start``, ``end`` (seconds) and ``words``.
    Versions of re-computed scores get ``version_suffix`` appended, so a corrected score never
    passes for a model's output.
    """
    bands = bands or EscalationBands.of(call.bands)
    utterances, scores = list(utterances), list(scores)
    total_talk = sum(s.talk_time_s for s in speakers)
    passages = passage_weights(utterances)
    new_speakers = [
        speaker_scores(s.speaker, s.role, s.acoustic_emotion, utterances, scores, s.talk_time_s, total_talk, duration,
                       s.sentiment_mean.version + version_suffix, s.arousal_baseline, passages)
        for s in speakers
    ]
    new_call = relevel(call, _customer(speakers), _customer(new_speakers), bands, call.escalation.version + version_suffix)
    new_timelines = []
    for tl in timelines:
        fresh = build_timeline(tl.speaker, tl.role, utterances, scores, duration, frames=None)
        new_timelines.append(fresh.model_copy(update={"arousal": tl.arousal}))  # arousal is from the voice: unchanged
    return new_speakers, new_call, new_timelines
