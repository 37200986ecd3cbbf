"""Score one transcribed call: utterance sentiment and emotion, speaker and call scores, timelines.

Acoustic emotion policy (EU AI Act, Art. 5(1)(f): no emotion recognition from employees'
voices in the workplace): voice acoustics feed emotion for customers by default; for agents
only when the deployment opts in (``ScoringSettings.agent_acoustic_emotion``). Speakers whose
role is unknown are treated like agents. Text sentiment is computed for every speaker. The
output says which was used (``emotion_policy`` and each speaker's ``acoustic_emotion``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from callscope.audio.features import FrameFeatures
from callscope.scoring.arousal_prior import Prior, load_prior
from callscope.scoring.call_scores import (
    CALL_RULES_VERSION,
    INTERRUPTION_RULES_VERSION,
    interruptions,
    overlap_time,
    passage_weights,
    silence,
    speaker_scores,
)
from callscope.scoring.courtesy import COURTESY_VERSION
from callscope.scoring.emotion import EMOTION_RULES_VERSION, EmotionThresholds
from callscope.scoring.escalation import EscalationBands, decide_level, reason
from callscope.scoring.label_confidence import load_map
from callscope.scoring.level_confidence import load_map as load_level_map
from callscope.scoring.population_baseline import PopulationBaseline
from callscope.scoring.results import CallScores, SpeakerScores, SpeakerTimeline, UtteranceScores
from callscope.scoring.roles import (
    DEFAULT_CHANNEL_MAP,
    ROLE_RULES_VERSION,
    RoleAssignment,
    roles_from_channels,
    roles_from_text,
)
from callscope.scoring.sentences import SENTENCE_RULES_VERSION
from callscope.scoring.sentiment import SentimentModel, unit_sentiments
from callscope.scoring.sentiment_validation import sentiment_validation
from callscope.scoring.timeline import build_timeline
from callscope.scoring.utterance_scores import arousal_inputs, score_utterances
from callscope.transcription.language import LANGUAGE_RULES_VERSION, LanguageChoice, language_name
from callscope.transcription.reliability import TranscriptReliability
from callscope.transcription.types import SpeakerTurn, Utterance


@dataclass(frozen=True)
class ScoringSettings:
    """Per-deployment scoring settings.

    Attributes:
        agent_acoustic_emotion: opt in to emotion from agents' voices (off by default: banned in
            EU workplaces).
        channel_map: role of channel 0, 1, … in dual-channel calls.
        correct_channel_map: opt in to roles from the words when they contradict the channel map
            with confidence ≥ 0.95 (off: the map is kept and ``role_note`` flags it).
        direction: ``inbound`` or ``outbound`` when known from the call's metadata; None: inferred.
        lone_speaker_role: the role of a recording's only speaker (``customer`` for voicemail or
            IVR recordings of callers); ``unknown`` by default.
        reasons_language: the language of the escalation reasons and notes (a catalogue in
            ``scoring/locale/``: en, sv).
        thresholds: emotion mapping thresholds.
        bands: escalation bands on customer sentiment.
        sentiment_head: a sentiment head file (``.npz``) to use instead of the shipped one, e.g.
            one recalibrated on QA corrections (``callscope calibrate --sentiment``).
        arousal_population: learn this deployment's own population of callers' voices and measure
            short speakers against it once 20 were heard
            (:mod:`callscope.scoring.population_baseline`); off: always the shipped prior.
        arousal_population_path: a JSON file that keeps that population across processes (the
            service: ``data_dir/arousal-population.json``); None: this process only.
    """

    agent_acoustic_emotion: bool = False
    channel_map: tuple[str, ...] = DEFAULT_CHANNEL_MAP
    correct_channel_map: bool = False
    direction: str | None = None
    lone_speaker_role: str = "unknown"
    reasons_language: str = "en"
    thresholds: EmotionThresholds = field(default_factory=EmotionThresholds)
    bands: EscalationBands = field(default_factory=EscalationBands)
    sentiment_head: str | None = None
    arousal_population: bool = True
    arousal_population_path: str | None = None


@dataclass
class CallScoring:
    """What :meth:`CallScorer.score` returns (crosses into the pipeline and the API)."""

    utterances: list[UtteranceScores]
    speakers: list[SpeakerScores]
    call: CallScores
    timelines: list[SpeakerTimeline]
    timings_s: dict[str, float]


def sentiment_model(head: str | None = None) -> SentimentModel:
    """The sentiment model with the shipped head, or with the head file ``head``."""
    return SentimentModel(head_path=Path(head)) if head else SentimentModel()


class CallScorer:
    """Holds the sentiment model and the deployment's population of voices; scores calls one after another."""

    def __init__(self, settings: ScoringSettings | None = None, sentiment: SentimentModel | None = None) -> None:
        self.settings = settings or ScoringSettings()
        self.sentiment = sentiment or sentiment_model(self.settings.sentiment_head)
        path = self.settings.arousal_population_path
        self.population = PopulationBaseline(Path(path) if path else None)

    def population_prior(self, narrowband: bool, settings: ScoringSettings | None = None) -> Prior:
        """What a short speaker's arousal is measured against: the deployment's own population
        once it has heard enough speakers (and ``arousal_population`` is on), else the shipped prior."""
        shipped = load_prior(narrowband)
        return self.population.prior(narrowband, shipped) if (settings or self.settings).arousal_population else shipped

    @property
    def versions(self) -> dict[str, str]:
        return {"sentiment": self.sentiment.version, "emotion": f"{EMOTION_RULES_VERSION}+{load_map().version}", "courtesy": COURTESY_VERSION,
                "sentences": SENTENCE_RULES_VERSION,
                "roles": ROLE_RULES_VERSION, "call_scores": CALL_RULES_VERSION,
                "interruptions": INTERRUPTION_RULES_VERSION, "language": LANGUAGE_RULES_VERSION,
                "arousal_prior": load_prior(False).version, "level_confidence": load_level_map().version}

    def assign_roles(
        self,
        utterances: list[Utterance],
        speakers: list[str],
        talk_time: dict[str, float],
        channel_of: dict[str, int] | None = None,
        settings: ScoringSettings | None = None,
    ) -> RoleAssignment:
        """Roles from the channel map (dual-channel calls, ``channel_of`` given) or from the words.
        ``settings``: this call's (its channel map); the scorer's own when None."""
        s = settings or self.settings
        if channel_of:
            return roles_from_channels(speakers, channel_of, s.channel_map, utterances, s.direction, s.correct_channel_map)
        return roles_from_text(utterances, talk_time, s.direction, s.lone_speaker_role)

    def acoustic_allowed(self, roles: RoleAssignment, speakers: list[str],
                         settings: ScoringSettings | None = None) -> dict[str, bool]:
        """Whose voice may feed emotion: customers always, agents (and unknowns) only by opt-in."""
        opt_in = (settings or self.settings).agent_acoustic_emotion
        return {sp: roles.roles.get(sp) == "customer" or opt_in for sp in speakers}

    def score(
        self,
        utterances: list[Utterance],
        turns: list[SpeakerTurn],
        speakers: list[str],
        talk_time: dict[str, float],
        duration: float,
        frames_of: dict[str, FrameFeatures | None],
        roles: RoleAssignment,
        settings: ScoringSettings | None = None,
        narrowband: bool = False,
        language: str = "en",
        language_choice: LanguageChoice | None = None,
        transcript: TranscriptReliability | None = None,
    ) -> CallScoring:
        """Score a call. ``frames_of[speaker]``: frame features of the signal the speaker is heard
        on (only needed where :meth:`acoustic_allowed`); ``roles`` from :meth:`assign_roles`;
        ``settings``: this call's (the scorer's own when None); ``narrowband``: telephone-band
        audio (source ≤ 8 kHz), which picks the matching population prior for short speakers;
        ``language``: the call's (ISO 639-1), for the sentiment's validation status;
        ``language_choice``: how it was found (an outside or uncertain language is a reason on the
        level); ``transcript``: the transcript's reliability (its model's version joins the versions)."""
        s = settings or self.settings
        role_of = {sp: roles.roles.get(sp, "unknown") for sp in speakers}
        acoustic = self.acoustic_allowed(roles, speakers, s)
        t0 = time.perf_counter()
        sentiments, formula = unit_sentiments(self.sentiment, utterances, language)
        t_sentiment = time.perf_counter() - t0
        t0 = time.perf_counter()
        empathy = [f and role_of.get(u.speaker) != "customer" for f, u in zip(formula, utterances)]
        baselines: dict[str, str] = {}
        prior = self.population_prior(narrowband, s)
        utt_scores = score_utterances(utterances, sentiments, frames_of, acoustic, s.thresholds, empathy,
                                      prior, baselines)
        if s.arousal_population:
            self._learn_population(utterances, utt_scores, acoustic, narrowband)

        total_talk = sum(talk_time.values())
        sentiment_version = self.sentiment.version
        passages = passage_weights(utterances)
        spk_scores = [
            speaker_scores(sp, role_of[sp], acoustic[sp], utterances, utt_scores, talk_time.get(sp, 0.0),
                           total_talk, duration, sentiment_version, baselines.get(sp), passages)
            for sp in speakers
        ]
        customer = next((x for x in spk_scores if x.role == "customer"), None)
        lang = s.reasons_language
        level, reasons = decide_level(customer, s.bands, f"{CALL_RULES_VERSION}+{sentiment_version}", lang)
        validation = sentiment_validation(language)
        if level.value is not None and not validation.validated:  # only where a level was given
            reasons.append(reason("reason.sentiment_unvalidated", "call", lang, call_language=language))
        if level.value is not None and language_choice is not None:
            if not language_choice.supported:
                reasons.append(reason("reason.language_outside", "call", lang,
                                      name=language_name(language_choice.language), code=language_choice.language))
            elif language_choice.uncertain:
                reasons.append(reason("reason.language_uncertain", "call", lang, code=language_choice.language,
                                      confidence=float(language_choice.confidence)))
        cuts = interruptions(utterances)
        by: dict[str, int] = {}
        for c in cuts:
            by[c.by] = by.get(c.by, 0) + 1
        for sp, n in sorted(by.items(), key=lambda kv: -kv[1]):
            if n >= 2:
                who = role_of[sp] if role_of.get(sp) in ("agent", "customer") else sp
                reasons.append(reason("reason.interrupted", "call", lang,
                                      sorted({i for c in cuts if c.by == sp for i in c.evidence}), who=who, n=n))
        if roles.note_facts:
            kind, facts = roles.note_facts
            reasons.append(reason(f"role_note.{kind}", "call", lang, sorted({i for ev in roles.evidence.values() for i in ev}),
                                  map_channel=facts["map_channel"], words_channel=facts["words_channel"],
                                  confidence=float(facts["confidence"])))
        silent, longest, longest_at = silence(turns, duration)
        if longest >= 20:
            reasons.append(reason("reason.silence", "call", lang, seconds=float(longest), at=float(longest_at or 0.0)))
        call = CallScores(
            roles=role_of, role_source=roles.source, role_confidence=roles.confidence, role_note=roles.note,
            role_evidence=roles.evidence, direction=roles.direction, direction_source=roles.direction_source,
            emotion_policy={"customer": True, "agent": s.agent_acoustic_emotion},
            silence_s=round(silent, 3), silence_share=round(silent / duration, 4) if duration else 0.0,
            longest_silence_s=round(longest, 3), longest_silence_at_s=None if longest_at is None else round(longest_at, 3),
            overlap_s=round(overlap_time(turns), 3), interruptions=cuts, interruptions_by=by,
            escalation=level, bands=s.bands.out(), reasons=[r.message for r in reasons], reason_details=reasons,
            reasons_language=lang, sentiment_validation=validation,
            versions={**self.versions, "arousal_prior": prior.version,
                      **({"reliability": transcript.version} if transcript else {})},
        )
        timelines = [
            build_timeline(sp, role_of[sp], utterances, utt_scores, duration, frames_of.get(sp) if acoustic[sp] else None,
                           prior)
            for sp in speakers
        ]
        return CallScoring(utt_scores, spk_scores, call, timelines,
                           {"sentiment": t_sentiment, "fusion": time.perf_counter() - t0})

    def _learn_population(self, utterances: list[Utterance], scores: list[UtteranceScores],
                          acoustic: dict[str, bool], narrowband: bool) -> None:
        """Add each speaker whose voice may be used to the deployment's population (their
        feature medians only; see :mod:`callscope.scoring.population_baseline`), then save it."""
        added = False
        for sp in sorted({u.speaker for u in utterances}):
            if acoustic.get(sp):
                rows = [arousal_inputs(sc.features) for u, sc in zip(utterances, scores) if u.speaker == sp]
                added = self.population.add_speaker(narrowband, rows) or added
        if added:
            self.population.save()
