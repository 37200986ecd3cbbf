"""One call recording in, one :class:`~callscope.analysis.schema.CallAnalysis` out.

decode → channel layout → VAD → language ID → ASR on speech only → diarisation → words to
speakers → transcript reliability → personal data redacted → scores. A call outside the
deployment's languages stops after language ID, unless the deployment transcribes such calls
(``unsupported_language``).
Models load once per :class:`Analyzer`, so a bulk run pays for them once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from callscope.analysis.call_settings import CallSettings
from callscope.analysis.schema import (
    CallAnalysis,
    HeardLanguage,
    LanguageOut,
    RedactionOut,
    ReliabilityOut,
    SpeakerOut,
    Timings,
    TranscriptReliabilityOut,
    TurnOut,
    UtteranceOut,
    WordOut,
)
from callscope.audio.channels import ChannelLayout, classify_channels
from callscope.audio.decode import DEFAULT_MAX_DURATION_S, decode_file
from callscope.audio.features import FrameFeatures, frame_features
from callscope.audio.vad import NARROWBAND_MAX_SOURCE_HZ, SileroVad, SpeechRegion, add_regions
from callscope.errors import AudioInputError, CallscopeError, MissingWeightsError
from callscope.scoring.results import UtteranceScores
from callscope.scoring.scorer import CallScorer, CallScoring, ScoringSettings
from callscope.transcription.alignment import DEFAULT_MAX_PAUSE_S, build_utterances
from callscope.transcription.diarisation import (
    DiarisationSettings,
    SpeakerEncoder,
    channel_turns,
    diarise_mono,
    speaker_id,
)
from callscope.transcription.engine import AsrSettings, Engine, create_engine
from callscope.transcription.language import (
    SUPPORTED_LANGUAGES,
    LanguageChoice,
    detect_speech_language,
    text_disagreement,
)
from callscope.transcription.redaction.apply import REDACT_VERSION, RedactionPolicy, redact
from callscope.transcription.reliability import TranscriptReliability, load_model, mark_transcript
from callscope.transcription.speech_gate import transcribe_speech
from callscope.transcription.types import SpeakerTurn, Utterance, Word

_T = TypeVar("_T")
#: what each model is, as a progress line names it
LOAD_NAMES = {"vad": "voice activity", "asr": "speech recognition (Whisper)", "reliability": "transcript reliability",
              "scoring": "sentiment and emotion", "speakers": "speaker"}

#: Stages reported to the progress callback, in order.
STAGES = ("decode", "vad", "asr", "diarise", "features", "scoring")

StageCallback = Callable[[str], None]


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that shapes one analysis."""

    asr: AsrSettings = field(default_factory=AsrSettings)
    diarisation: DiarisationSettings = field(default_factory=DiarisationSettings)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    score: bool = True
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    max_pause_s: float = DEFAULT_MAX_PAUSE_S
    #: The languages detection may choose among (a deployment's set); ``asr.language`` forces one.
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    #: Personal data in the transcript: replaced by placeholders before anything is scored (on by default).
    redaction: RedactionPolicy = field(default_factory=RedactionPolicy)
    #: A call heard in a language outside ``languages``: ``stop`` after language ID (status
    #: unsupported_language) or ``transcribe`` it in its own language (sentiment not validated).
    unsupported_language: str = "stop"
    #: The transcript-reliability model (a JSON file); None: the shipped one.
    reliability_model: str | None = None

    def for_call(self, call: CallSettings | None) -> "AnalysisSettings":
        """These settings with one call's own on top (its channel map, direction, lone speaker's
        role, language)."""
        if call is None:
            return self
        base = self if call.language is None else replace(self, asr=replace(self.asr, language=call.language))
        own: dict[str, Any] = {k: v for k, v in (("channel_map", tuple(call.channel_map) if call.channel_map else None),
                                 ("direction", call.direction), ("lone_speaker_role", call.lone_speaker_role))
               if v is not None}
        return replace(base, scoring=replace(base.scoring, **own)) if own else base


def build_analysis_settings(
    *, model: str = "base", model_dir: str | None = None, model_dirs: tuple[tuple[str, str], ...] = (),
    language: str | None = None, languages: tuple[str, ...] = SUPPORTED_LANGUAGES, unsupported_language: str = "stop",
    redaction: RedactionPolicy | None = None, max_duration_s: float = DEFAULT_MAX_DURATION_S,
    agent_acoustic_emotion: bool = False, correct_channel_map: bool = False, lone_speaker_role: str = "unknown",
    reasons_language: str = "en", sentiment_head: str | None = None, score: bool = True,
    engine: str | None = None, device: str | None = None, beam_size: int | None = None, threads: int | None = None,
    batch_size: int | None = None, min_speakers: int | None = None, max_speakers: int | None = None,
    reliability_model: str | None = None, arousal_population: bool = True, arousal_population_path: str | None = None,
) -> AnalysisSettings:
    """A deployment's (or a CLI run's) :class:`AnalysisSettings`: the one builder ``callscope analyze``
    and the service's workers both use, so both set the same fields the same way. Each argument is
    the deployment-level option of the same name (see :class:`~callscope.service.config.ServiceSettings`
    and ``callscope analyze --help``); None keeps the stage's own default. A call's own settings go
    on top with :meth:`AnalysisSettings.for_call`.

    ``model_dir``: a CTranslate2 Whisper directory for every language without one of its own in
    ``model_dirs`` (language, directory); ``max_duration_s``: longest recording analysed (s);
    ``sentiment_head``: a head file (``.npz``) instead of the shipped one; ``reliability_model``: a
    transcript-reliability model (JSON) instead of the shipped one (its fitting script's own);
    ``arousal_population``: learn the deployment's own population of voices for short speakers
    (kept in ``arousal_population_path`` when given; see
    :mod:`callscope.scoring.population_baseline`).
    """
    asr: dict[str, Any] = {k: v for k, v in (("engine", engine), ("device", device), ("beam_size", beam_size),
                                             ("threads", threads), ("batch_size", batch_size)) if v is not None}
    speakers = {k: v for k, v in (("min_speakers", min_speakers), ("max_speakers", max_speakers)) if v is not None}
    return AnalysisSettings(
        asr=AsrSettings(model=model, model_dir=model_dir, model_dirs=tuple(model_dirs), language=language, **asr),
        diarisation=DiarisationSettings(**speakers),
        languages=tuple(languages),
        unsupported_language=unsupported_language,
        redaction=redaction if redaction is not None else RedactionPolicy(),
        max_duration_s=max_duration_s,
        score=score,
        reliability_model=reliability_model,
        scoring=ScoringSettings(agent_acoustic_emotion=agent_acoustic_emotion, correct_channel_map=correct_channel_map,
                                lone_speaker_role=lone_speaker_role, reasons_language=reasons_language,
                                sentiment_head=sentiment_head, arousal_population=arousal_population,
                                arousal_population_path=arousal_population_path),
    )


def _talk_time(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of ``intervals``."""
    total, end = 0.0, float("-inf")
    for s, e in sorted(intervals):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return round(total, 3)


class Analyzer:
    """Holds the models and analyses recordings one after another. ``lazy``: each model is loaded
    when a recording first needs it, in the order the stages need them (a missing file, or a
    silent one, never waits for Whisper); otherwise all load here (a service worker's child
    process, ready before its first call). Either way each loads once; ``load_s`` holds how long
    each took, kept out of the stage timings."""

    def __init__(self, settings: AnalysisSettings | None = None, lazy: bool = False) -> None:
        self.settings = settings or build_analysis_settings()
        self._vad: SileroVad | None = None
        self._engine: Engine | None = None
        self._multilingual: Engine | None = None
        self._by_language: dict[str, Engine] = {}
        self._encoder: SpeakerEncoder | None = None
        self._reliability = None
        self._scorer: CallScorer | None = None
        self.load_s: dict[str, float] = {}
        #: told the name of each model as it starts loading (a CLI's progress line)
        self.on_load: Callable[[str], None] | None = None
        if not lazy:
            _ = self.vad, self.engine, self.reliability, self.scorer

    def _timed_load(self, name: str, load: Callable[[], _T]) -> _T:
        if self.on_load is not None:
            self.on_load(LOAD_NAMES.get(name, name))
        t0 = time.perf_counter()
        try:
            model = load()
        except (FileNotFoundError, RuntimeError) as exc:  # a model directory or file that does not load
            raise MissingWeightsError(f"the {LOAD_NAMES.get(name, name)} model could not be loaded: {exc}") from exc
        self.load_s[name] = round(time.perf_counter() - t0, 3)
        return model

    @property
    def vad(self) -> SileroVad:
        if self._vad is None:
            self._vad = self._timed_load("vad", SileroVad)
        return self._vad

    @property
    def engine(self) -> Engine:
        """The ASR engine of the settings' model."""
        if self._engine is None:
            self._engine = self._timed_load("asr", lambda: create_engine(self.settings.asr))
            if self._multilingual is None and self._engine.multilingual:
                self._multilingual = self._engine
        return self._engine

    @property
    def reliability(self):
        """The transcript reliability model (transcription/reliability.py)."""
        if self._reliability is None:
            self._reliability = self._timed_load("reliability", lambda: load_model(self.settings.reliability_model))
        return self._reliability

    @property
    def scorer(self) -> CallScorer | None:
        """The scorer (sentiment, emotion, call scores); None when the settings do not score."""
        if self._scorer is None and self.settings.score:
            self._scorer = self._timed_load("scoring", lambda: CallScorer(self.settings.scoring))
        return self._scorer

    @property
    def encoder(self) -> SpeakerEncoder:
        if self._encoder is None:
            self._encoder = self._timed_load("speakers", lambda: SpeakerEncoder(threads=self.settings.asr.cpu_threads()))
        return self._encoder

    def _engine_name(self) -> str:
        """The ASR engine's name, without loading it for a call that had nothing to transcribe."""
        return self._engine.name if self._engine is not None else self.settings.asr.engine

    def multilingual_engine(self) -> Engine:
        """The engine for language detection and non-English speech: this analyser's own when it
        is multilingual, else Whisper base, loaded on first need (an English-only model is never
        given a non-English call)."""
        if self._multilingual is None:
            _ = self.engine  # loading it makes it the multilingual one when it is
        if self._multilingual is None:
            try:
                self._multilingual = create_engine(replace(self.settings.asr, model="base", model_dir=None))
            except (CallscopeError, FileNotFoundError, RuntimeError) as exc:
                raise MissingWeightsError(
                    f"the model {self.settings.asr.model} is English-only and the multilingual Whisper base, needed to "
                    f"detect or transcribe other languages, does not load ({exc}); analyse English calls with "
                    "--language en") from exc
        return self._multilingual

    def engine_for(self, language: str) -> tuple[Engine, str | None]:
        """The engine to transcribe ``language`` with, and the model name to report when it is
        not this analyser's own: the deployment's model directory for that language, else this
        analyser's engine, else (English-only engine, other language) Whisper base."""
        path = dict(self.settings.asr.model_dirs).get(language)
        if path:
            if language not in self._by_language:
                self._by_language[language] = create_engine(replace(self.settings.asr, model_dir=path))
            return self._by_language[language], path
        if language != "en" and not self.engine.multilingual:
            return self.multilingual_engine(), "base"
        return self.engine, None

    def _choose_language(self, settings: AnalysisSettings, signal: np.ndarray, regions: list[SpeechRegion],
                         sample_rate: int) -> LanguageChoice:
        forced = settings.asr.language
        if forced:
            return LanguageChoice(forced, 1.0, "forced")
        if not regions:
            return LanguageChoice(settings.languages[0], 0.0, "default")
        return detect_speech_language(self.multilingual_engine(), signal, regions, sample_rate, settings.languages)

    def analyze(self, path: str | os.PathLike[str], on_stage: StageCallback | None = None,
                call: CallSettings | None = None, strict: bool = False) -> CallAnalysis:
        """Analyse one recording with this analyser's settings and ``call``'s own on top.
        Raises :class:`~callscope.errors.AudioInputError` for bad input, and (``strict``) for a
        recording that decoded only in part (``decode_warnings`` otherwise)."""
        notify = on_stage or (lambda _stage: None)
        settings = self.settings.for_call(call)
        timings = Timings()
        t_total = time.perf_counter()
        loaded_before = sum(self.load_s.values())  # models loaded during this call are not its time

        notify("decode")
        t0 = time.perf_counter()
        audio = decode_file(path, max_duration_s=settings.max_duration_s)
        if strict and audio.warnings:
            raise AudioInputError(str(path), "; ".join(audio.warnings) + " (refused: --strict)")
        layout = classify_channels(audio.samples, audio.sample_rate).layout
        timings.decode = time.perf_counter() - t0

        dual = layout == ChannelLayout.DUAL_CHANNEL
        signals = list(audio.samples[:2]) if dual else [audio.mono()]

        notify("vad")
        vad = self.vad  # loaded on first need, outside the stage timing
        t0 = time.perf_counter()
        # telephone audio is scored in silero's 8 kHz mode (see audio/vad.py). Mono diarisation
        # gets the 16 kHz mode's regions plus what only the 8 kHz mode heard, as regions of their
        # own: the 8 kHz regions alone join across speaker changes (the µ-law pyannote sample
        # came out as 4 speakers, DER 1.2 -> 18.8 %), the 16 kHz ones alone leave words of the
        # 8 kHz-only speech to the wrong speaker (Call01: DER 15.5 % -> 11.9 % with both)
        narrowband = audio.source_sample_rate <= NARROWBAND_MAX_SOURCE_HZ
        regions: list[list[SpeechRegion]] = vad.regions_batch(signals, narrowband)
        diarise_regions = regions
        if narrowband and not dual:
            diarise_regions = [add_regions(vad.regions(signals[0]), regions[0])]
        timings.vad = time.perf_counter() - t0

        notify("asr")
        if any(regions):  # Whisper is loaded for speech only, outside the stage timing
            _ = self.engine
            if not settings.asr.language:
                self.multilingual_engine()
        t0 = time.perf_counter()
        words: list[Word] = []
        notes: list[str] = []
        model_used = self.settings.asr.model if not self.settings.asr.model_dir else str(self.settings.asr.model_dir)
        choices = [self._choose_language(settings, sig, regs, audio.sample_rate) for sig, regs in zip(signals, regions)]
        heard = [c.supported or settings.unsupported_language == "transcribe" for c in choices]
        for ch, c in enumerate(choices):
            note = c.note(settings.languages, settings.unsupported_language)
            if note:
                notes.append(note if not dual else f"channel {ch}: {note}")
        if not any(heard):  # outside the deployment's languages, and it stops after language ID
            timings.asr = time.perf_counter() - t0
            return self._unsupported(path, audio, layout, choices, regions, dual, notes, timings,
                                     t_total + sum(self.load_s.values()) - loaded_before)
        for ch, (sig, regs) in enumerate(zip(signals, regions)):
            if not heard[ch] or not regs:  # nothing heard: no words, and no model loaded for none
                continue
            choice = choices[ch]
            engine, other_model = self.engine_for(choice.language)
            if other_model is not None:
                model_used = other_model
            if other_model == "base":
                notes.append(f"{self.settings.asr.model} is English-only: this {choice.language} speech was transcribed "
                             "with the multilingual Whisper base")
            channel_words = transcribe_speech(engine, sig, regs, audio.sample_rate, channel=ch if dual else None,
                                              language=choice.language)
            if choice.source == "detected":
                note = text_disagreement(choice, " ".join(w.word for w in channel_words), settings.languages)
                if note:
                    notes.append(note if not dual else f"channel {ch}: {note}")
            words += channel_words
        timings.asr = time.perf_counter() - t0

        notify("diarise")
        if not dual and diarise_regions[0]:
            _ = self.encoder  # loaded once, on first use, outside the stage timing
        t0 = time.perf_counter()
        if dual:
            turns = channel_turns(regions)
        elif diarise_regions[0]:
            turns = diarise_mono(signals[0], diarise_regions[0], audio.sample_rate, self.encoder, settings.diarisation)
        else:
            turns = []
        utterances = build_utterances(words, turns, settings.max_pause_s)
        timings.diarise = time.perf_counter() - t0
        speech = {(ch if dual else None): [(r.start, r.end) for r in regs]
                  for ch, regs in enumerate(regions) if heard[ch]}
        utterances, transcript = mark_transcript(utterances, speech, self.reliability)
        main = _main_choice(choices, regions)
        t0 = time.perf_counter()
        utterances, redactions = redact(utterances, main.language if main else None, settings.redaction)
        timings.redaction = time.perf_counter() - t0

        speakers = _speakers(turns, utterances, dual, len(signals))
        scoring: CallScoring | None = None
        if self.scorer is not None:
            notify("features")
            t0 = time.perf_counter()
            talk = {sp.id: sp.talk_time_s for sp in speakers}
            channel_of = {sp.id: sp.channel for sp in speakers if sp.channel is not None} if dual else None
            roles = self.scorer.assign_roles(utterances, [sp.id for sp in speakers], talk, channel_of, settings.scoring)
            allowed = self.scorer.acoustic_allowed(roles, [sp.id for sp in speakers], settings.scoring)
            frames_of: dict[str, FrameFeatures | None] = {}
            for sp in speakers:
                if allowed[sp.id]:  # only the voices the acoustic-emotion policy allows are analysed
                    spans = [(u.start, u.end) for u in utterances if u.speaker == sp.id]
                    signal = signals[(sp.channel or 0) if dual else 0]
                    frames_of[sp.id] = frame_features(signal, audio.sample_rate, spans=spans)
            timings.features = time.perf_counter() - t0
            notify("scoring")
            scoring = self.scorer.score(utterances, turns, [sp.id for sp in speakers], talk,
                                        audio.duration_s, frames_of, roles, settings.scoring, narrowband,
                                        main.language if main else "en", main, transcript)
            timings.sentiment = scoring.timings_s["sentiment"]
            timings.fusion = scoring.timings_s["fusion"]
            for sp in speakers:
                sp.role = scoring.call.roles.get(sp.id)
        timings.total = time.perf_counter() - t_total - (sum(self.load_s.values()) - loaded_before)

        return CallAnalysis(
            file=Path(path).name,
            duration_s=round(audio.duration_s, 3),
            sample_rate=audio.source_sample_rate,
            channels=audio.channels,
            channel_layout=layout.value,
            engine=self._engine_name(),
            model=model_used,
            **_language_fields(choices, main, dual, notes),
            transcript_reliability=_transcript_out(transcript),
            decode_warnings=list(audio.warnings),
            speakers=speakers,
            turns=[TurnOut(speaker=t.speaker, start=t.start, end=t.end) for t in turns],
            utterances=[_utterance_out(u, scoring.utterances[i] if scoring else None) for i, u in enumerate(utterances)],
            speaker_scores=scoring.speakers if scoring else [],
            call_scores=scoring.call if scoring else None,
            timeline=scoring.timelines if scoring else [],
            redactions=[RedactionOut(kind=r.kind, subtype=r.subtype, start=r.start, end=r.end, speaker=r.speaker,
                                     channel=r.channel, utterance=r.utterance, pseudonym=r.pseudonym)
                        for r in redactions],
            redaction=REDACT_VERSION if settings.redaction.enabled else None,
            timings_s=Timings(**{k: round(v, 3) for k, v in timings.model_dump().items()}),
        )

    def analyze_texts(self, items) -> list[CallAnalysis]:
        """Text interactions (:mod:`callscope.analysis.text_pipeline`), each ``(messages, channel,
        name, call)``, scored with this analyser's scorer and settings, ``call``'s own on top; their
        sentences embedded in one batch (:func:`~callscope.analysis.text_pipeline.analyze_threads`)."""
        from callscope.analysis.text_pipeline import analyze_threads

        return analyze_threads(self.scorer, [(self.settings.for_call(call), messages, channel, name)
                                             for messages, channel, name, call in items])

    def _unsupported(self, path, audio, layout: ChannelLayout, choices: list[LanguageChoice],
                     regions: list[list[SpeechRegion]], dual: bool, notes: list[str], timings: Timings,
                     t_total: float) -> CallAnalysis:
        """The result of a call heard outside the deployment's languages, stopped after language
        ID: its language, no transcript and no scores."""
        timings.total = time.perf_counter() - t_total
        return CallAnalysis(
            status="unsupported_language", file=Path(path).name, duration_s=round(audio.duration_s, 3),
            sample_rate=audio.source_sample_rate, channels=audio.channels, channel_layout=layout.value,
            engine=self._engine_name(), model=self.settings.asr.model, decode_warnings=list(audio.warnings),
            **_language_fields(choices, _main_choice(choices, regions), dual, notes),
            speakers=[], utterances=[],
            timings_s=Timings(**{k: round(v, 3) for k, v in timings.model_dump().items()}),
        )


def _transcript_out(t: TranscriptReliability) -> TranscriptReliabilityOut:
    return TranscriptReliabilityOut(score=t.score, unreliable_share=t.unreliable_share,
                                    speech_without_words_s=t.speech_without_words_s, threshold=t.threshold,
                                    version=t.version)


def _main_choice(choices: list[LanguageChoice], regions: list[list[SpeechRegion]]) -> LanguageChoice | None:
    """The language choice of the channel with most speech."""
    speech = [sum(r.duration for r in regs) for regs in regions]
    return choices[int(np.argmax(speech))] if choices else None


def _language_fields(choices: list[LanguageChoice], main: LanguageChoice | None, dual: bool, notes: list[str]) -> dict:
    """The result's language fields: the call's language is ``main``'s, the channel with most speech."""
    return {
        "language": main.language if main else None,
        "language_confidence": main.confidence if main else None,
        "language_supported": main.supported if main else None,
        "languages": [LanguageOut(channel=ch if dual else None, language=c.language, confidence=c.confidence,
                                  source=c.source, supported=c.supported,
                                  heard=[HeardLanguage(language=lang, probability=p) for lang, p in c.heard])
                      for ch, c in enumerate(choices)],
        "language_note": "; ".join(notes) or None,
    }


def _speakers(turns: list[SpeakerTurn], utterances: list[Utterance], dual: bool, n_channels: int) -> list[SpeakerOut]:
    ids = [speaker_id(ch) for ch in range(n_channels)] if dual else []
    for name in [t.speaker for t in turns] + [u.speaker for u in utterances]:
        if name not in ids:
            ids.append(name)
    out = []
    for name in ids:
        intervals = [(t.start, t.end) for t in turns if t.speaker == name]
        channel = int(name[1:]) if dual else None
        out.append(SpeakerOut(id=name, channel=channel, talk_time_s=_talk_time(intervals)))
    return out


def _utterance_out(u: Utterance, scores: UtteranceScores | None) -> UtteranceOut:
    return UtteranceOut(
        sentiment=scores.sentiment if scores else None,
        emotion=scores.emotion if scores else None,
        features=scores.features if scores else None,
        speaker=u.speaker,
        start=round(u.start, 3),
        end=round(u.end, 3),
        text=u.text,
        words=[WordOut(word=w.word, start=w.start, end=w.end, probability=w.probability) for w in u.words],
        reliability=None if u.reliability is None else ReliabilityOut(
            score=u.reliability.score, reliable=u.reliability.reliable, marks=list(u.reliability.marks),
            features=u.reliability.features),
    )
