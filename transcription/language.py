"""Which language a call (or each channel of it) is spoken in.

* **Speech**: Whisper's language detector on up to :data:`MAX_CHUNKS` chunks of up to
  :data:`CHUNK_S` seconds of speech spread over the whole call (not only its first 30 s: a
  call often opens with an English IVR prompt or a short "Hello?"). Each chunk's language
  probabilities are restricted to the allowed languages and renormalised; the chunks vote,
  weighted by their seconds of speech. The confidence is the winner's weighted mean
  probability, 0..1.
* **Text**: after ASR, the transcript's language by ``py3langid`` (BSD-3, model in the wheel),
  restricted to the same allowed set, cross-checks the choice: a confident disagreement
  (≥ :data:`TEXT_DISAGREES_AT`) goes into ``language_note``. Danish and Norwegian are
  confused by every detector; that pair is not flagged.
* A language given per call, per CLI run or per deployment is used as it is (``source``
  ``forced``); detection only ever chooses among the allowed languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from callscope.audio.vad import SpeechRegion

#: The languages callscope supports end to end (ISO 639-1, Whisper's codes).
SUPPORTED_LANGUAGES = ("en", "sv", "da", "no", "fi", "de", "fr", "es", "pl")
#: Seconds of speech per detection chunk (Whisper's window).
CHUNK_S = 30.0
MAX_CHUNKS = 5
#: A chunk with less speech than this (seconds) does not vote, unless it is all there is.
MIN_CHUNK_SPEECH_S = 2.0
#: The transcript's language must be this sure before it is said to contradict the speech's.
TEXT_DISAGREES_AT = 0.9
#: Pairs no detector tells apart reliably: a disagreement inside one is not flagged.
CLOSE_PAIRS = ({"da", "no"},)
LANGUAGE_RULES_VERSION = f"language/1 (whisper votes, {MAX_CHUNKS}x{CHUNK_S:g} s; py3langid cross-check)"


@dataclass(frozen=True)
class LanguageChoice:
    """The language of a call or a channel.

    Attributes:
        language: ISO 639-1 code.
        confidence: 0..1 (1 when forced).
        source: ``forced`` (given), ``detected`` (voted over chunks) or ``default`` (no speech
            to detect from: the first allowed language).
        chunks: how many chunks voted.
    """

    language: str
    confidence: float
    source: str
    chunks: int = 0


def parse_languages(text: str) -> tuple[str, ...]:
    """``"sv,en"`` → ("sv", "en"); every code must be supported."""
    codes = tuple(dict.fromkeys(c.strip().lower() for c in text.split(",") if c.strip()))
    bad = [c for c in codes if c not in SUPPORTED_LANGUAGES]
    if not codes or bad:
        raise ValueError(f"languages {text!r}: choose among {', '.join(SUPPORTED_LANGUAGES)}"
                         + (f" ({', '.join(bad)} not supported)" if bad else ""))
    return codes


def detection_chunks(regions: list[SpeechRegion], chunk_s: float = CHUNK_S, max_chunks: int = MAX_CHUNKS) -> list[list[SpeechRegion]]:
    """Up to ``max_chunks`` groups of consecutive speech regions (≤ ``chunk_s`` seconds of speech
    each), spread evenly over the call."""
    from callscope.transcription.speech_gate import chunk_regions

    groups = chunk_regions(regions, chunk_s)
    if len(groups) <= max_chunks:
        return groups
    picks = np.unique(np.linspace(0, len(groups) - 1, max_chunks).round().astype(int))
    return [groups[i] for i in picks]


def detect_speech_language(engine, audio: np.ndarray, regions: list[SpeechRegion], sample_rate: int,
                           allowed: tuple[str, ...]) -> LanguageChoice:
    """The language of the speech ``regions`` of ``audio`` (mono float32 at ``sample_rate`` Hz),
    voted over chunks by ``engine``'s detector (see the module doc)."""
    from callscope.transcription.speech_gate import ASR_GAP_S, gather_speech

    if len(allowed) == 1:
        return LanguageChoice(allowed[0], 1.0, "forced")
    chunk_probs = []
    for group in detection_chunks(regions):
        joined, _ = gather_speech(audio, group, sample_rate, ASR_GAP_S)
        seconds = sum(r.duration for r in group)
        if len(joined) >= int(0.5 * sample_rate):
            chunk_probs.append((seconds, engine.language_probabilities(joined)))
    return vote(chunk_probs, allowed)


def vote(chunk_probs: list[tuple[float, dict[str, float]]], allowed: tuple[str, ...]) -> LanguageChoice:
    """The allowed language with the highest speech-weighted mean probability over chunks
    (``(seconds of speech, {language: probability})`` each)."""
    usable = [(w, p) for w, p in chunk_probs if w >= MIN_CHUNK_SPEECH_S] or chunk_probs
    totals = {lang: 0.0 for lang in allowed}
    weight = 0.0
    for w, probs in usable:
        mass = sum(probs.get(lang, 0.0) for lang in allowed)
        if mass <= 0:
            continue
        for lang in allowed:
            totals[lang] += w * probs.get(lang, 0.0) / mass
        weight += w
    if weight <= 0:
        return LanguageChoice(allowed[0], 0.0, "default", 0)
    best = max(allowed, key=lambda lang: (totals[lang], -allowed.index(lang)))
    return LanguageChoice(best, round(totals[best] / weight, 4), "detected", len(usable))


@lru_cache(maxsize=1)
def _text_identifier():
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def text_language(text: str, allowed: tuple[str, ...]) -> tuple[str, float] | None:
    """(language, probability) of ``text`` among ``allowed``; None for text too short to tell
    (fewer than 3 words)."""
    if len(text.split()) < 3:
        return None
    identifier = _text_identifier()
    identifier.set_languages(list(allowed))
    lang, prob = identifier.classify(text)
    return str(lang), float(prob)


def text_disagreement(speech: LanguageChoice, text: str, allowed: tuple[str, ...]) -> str | None:
    """A note when the transcript's language confidently differs from the speech's choice."""
    found = text_language(text, allowed) if len(allowed) > 1 else None
    if found is None or found[0] == speech.language or found[1] < TEXT_DISAGREES_AT:
        return None
    if {found[0], speech.language} in CLOSE_PAIRS:
        return None
    return (f"the transcript reads as {found[0]} (text language ID {found[1]:.2f}) but the speech was taken "
            f"for {speech.language}: check the language (--language, upload field language)")
