"""Which language a call (or each channel of it) is spoken in, and whether the deployment takes it.

* **Speech**: Whisper's language detector over its whole language set (about 100 languages,
  :data:`WHISPER_LANGUAGES`), on up to :data:`FIRST_CHUNKS` chunks of up to :data:`CHUNK_S`
  seconds of speech spread over the call (not only its first 30 s: a call often opens with an
  English IVR prompt or a short "Hello?"). The chunks vote, weighted by their seconds of speech.
  A decision below :data:`REVISIT_BELOW` is revisited on more audio: up to :data:`MAX_CHUNKS`
  chunks spread over the call, all voting. Whisper's Nynorsk (``nn``) counts as Norwegian
  (``no``): it tells the written standards apart, not the spoken language.
* **Heard, and reported as itself**: the language with the most probability is the call's. If
  it is one of the deployment's languages, it is transcribed in it. If it is not, and Whisper
  gives it at least :data:`OUTSIDE_SURE` of its probability, or at least :data:`OUTSIDE_AT` over
  at least :data:`OUTSIDE_MIN_SPEECH_S` seconds of speech, the call is **outside the deployment's
  languages** (``supported`` false): the deployment either stops after language ID
  (``unsupported_language = "stop"``, the default) or transcribes it in its own language
  (``"transcribe"``), never in another. A less certain outside language (a few seconds of
  speech, a split vote) is not enough to refuse a call: the likeliest of the deployment's
  languages is taken, and the note says how unsure that is. Latin and Sanskrit, which Whisper
  names for speech it cannot place, are never taken as heard. Any confidence below
  :data:`UNCERTAIN_BELOW` is said in ``language_note`` and in a reason on the level.
* **Text**: after ASR, the transcript's language by ``py3langid`` (BSD-3, model in the wheel),
  restricted to the supported languages, cross-checks the choice: a confident disagreement
  (≥ :data:`TEXT_DISAGREES_AT`) goes into ``language_note``. Danish and Norwegian are confused
  by every detector; that pair is not flagged.
* A language given per call, per CLI run or per deployment is used as it is (``source``
  ``forced``).
* Whisper's task is always ``transcribe``: a call is never translated into English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from callscope.audio.vad import SpeechRegion

#: The languages callscope supports end to end (ISO 639-1, Whisper's codes): role cues,
#: courtesy formulas, number words for personal data, reasons.
SUPPORTED_LANGUAGES = ("en", "sv", "da", "no", "fi", "de", "fr", "es", "pl")
#: Every language Whisper's multilingual models know (code: name), as openai-whisper lists them.
WHISPER_LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian", "ko": "korean",
    "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish", "pl": "polish", "ca": "catalan",
    "nl": "dutch", "ar": "arabic", "sv": "swedish", "it": "italian", "id": "indonesian", "hi": "hindi",
    "fi": "finnish", "vi": "vietnamese", "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay",
    "cs": "czech", "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian", "la": "latin",
    "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak", "te": "telugu", "fa": "persian",
    "lv": "latvian", "bn": "bengali", "sr": "serbian", "az": "azerbaijani", "sl": "slovenian", "kn": "kannada",
    "et": "estonian", "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian",
    "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian", "sw": "swahili",
    "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala", "km": "khmer", "sn": "shona",
    "yo": "yoruba", "so": "somali", "af": "afrikaans", "oc": "occitan", "ka": "georgian", "be": "belarusian",
    "tg": "tajik", "sd": "sindhi", "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek",
    "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk", "mt": "maltese",
    "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan", "tl": "tagalog", "mg": "malagasy",
    "as": "assamese", "tt": "tatar", "haw": "hawaiian", "ln": "lingala", "ha": "hausa", "ba": "bashkir",
    "jw": "javanese", "su": "sundanese", "yue": "cantonese",
}
#: Codes Whisper keeps apart that are one spoken language here.
FOLD = {"nn": "no"}
#: Seconds of speech per detection chunk (Whisper's window).
CHUNK_S = 30.0
#: Chunks in the first vote, and at most after a revisit.
FIRST_CHUNKS = 3
MAX_CHUNKS = 8
#: A chunk with less speech than this (seconds) does not vote, unless it is all there is.
MIN_CHUNK_SPEECH_S = 2.0
#: A first vote whose winner has less probability than this is revisited on more chunks.
REVISIT_BELOW = 0.7
#: Below this probability the language is reported as uncertain (note and reason).
UNCERTAIN_BELOW = 0.5
#: A call is outside the deployment's languages when Whisper gives an outside language at least
#: :data:`OUTSIDE_SURE` of its probability (over any speech that votes), or at least
#: :data:`OUTSIDE_AT` over :data:`OUTSIDE_MIN_SPEECH_S` seconds of speech or more.
OUTSIDE_SURE = 0.8
OUTSIDE_AT = 0.5
OUTSIDE_MIN_SPEECH_S = 8.0
#: Languages no contact-centre call is in, which Whisper names when it cannot tell (Latin, Sanskrit):
#: never reported as heard; their probability is doubt.
NOT_SPOKEN = frozenset({"la", "sa"})
#: The transcript's language must be this sure before it is said to contradict the speech's.
TEXT_DISAGREES_AT = 0.9
#: Pairs no detector tells apart reliably: a disagreement inside one is not flagged.
CLOSE_PAIRS = ({"da", "no"},)
#: What a deployment does with a call outside its languages.
UNSUPPORTED_POLICIES = ("stop", "transcribe")
LANGUAGE_RULES_VERSION = (f"language/2 (whisper's full set, {FIRST_CHUNKS}..{MAX_CHUNKS}x{CHUNK_S:g} s, revisit < "
                          f"{REVISIT_BELOW}, outside >= {OUTSIDE_SURE}, or >= {OUTSIDE_AT} over {OUTSIDE_MIN_SPEECH_S:g} s; "
                          "py3langid cross-check)")


def language_name(code: str) -> str:
    """``"ru"`` → ``"Russian"``."""
    return WHISPER_LANGUAGES.get(code, code).title()


@dataclass(frozen=True)
class LanguageChoice:
    """The language of a call or a channel.

    Attributes:
        language: ISO 639-1 code (any of :data:`WHISPER_LANGUAGES`): what was heard, and what the
            speech is transcribed in.
        confidence: 0..1: Whisper's speech-weighted probability for it over its whole language set
            (1 when forced).
        source: ``forced`` (given), ``detected`` (voted over chunks) or ``default`` (no speech
            to detect from: the first allowed language).
        chunks: how many chunks voted.
        supported: whether the language is one of the deployment's.
        heard: the likeliest languages over Whisper's whole set, with their probabilities (at most 3).
        speech_s: seconds of speech the vote rests on.
    """

    language: str
    confidence: float
    source: str
    chunks: int = 0
    supported: bool = True
    heard: tuple[tuple[str, float], ...] = field(default=())
    speech_s: float = 0.0

    @property
    def uncertain(self) -> bool:
        return self.source == "detected" and self.confidence < UNCERTAIN_BELOW

    def note(self, allowed: tuple[str, ...], policy: str) -> str | None:
        """What ``language_note`` says of this choice (None when nothing needs saying)."""
        heard = ", ".join(f"{code} {p:.2f}" for code, p in self.heard)
        if not self.supported:
            what = (f"transcribed in {self.language} as it is; sentiment is not validated in it" if policy == "transcribe"
                    else "not transcribed (a deployment may transcribe such calls in their own language: "
                         "CALLSCOPE_UNSUPPORTED_LANGUAGE=transcribe or --unsupported-language transcribe)")
            return (f"the speech is in {language_name(self.language)} ({self.language}, {self.confidence:.2f}), outside "
                    f"this deployment's languages ({', '.join(allowed)}): {what}")
        if self.source == "detected" and self.heard and self.heard[0][0] != self.language:
            return (f"Whisper heard {heard} over {self.speech_s:.0f} s of speech: too unsure to call the call outside "
                    f"this deployment's languages, so it was taken as {self.language}, the likeliest of them "
                    f"({self.confidence:.2f}): check the language (--language, upload field language)")
        if self.uncertain:
            return (f"language uncertain ({heard} over {self.speech_s:.0f} s of speech): check the language "
                    "(--language, upload field language)")
        return None


def parse_languages(text: str) -> tuple[str, ...]:
    """``"sv,en"`` → ("sv", "en"); every code must be supported end to end."""
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
    voted over chunks by ``engine``'s detector over Whisper's whole set; revisited on more chunks
    when the first vote is unsure (see the module doc)."""
    from callscope.transcription.speech_gate import ASR_GAP_S, gather_speech

    def probabilities(groups: list[list[SpeechRegion]]) -> list[tuple[float, dict[str, float]]]:
        out = []
        for group in groups:
            joined, _ = gather_speech(audio, group, sample_rate, ASR_GAP_S)
            if len(joined) >= int(0.5 * sample_rate):
                out.append((sum(r.duration for r in group), engine.language_probabilities(joined)))
        return out

    first = detection_chunks(regions, CHUNK_S, FIRST_CHUNKS)
    votes = probabilities(first)
    choice = vote(votes, allowed)
    more = [g for g in detection_chunks(regions, CHUNK_S, MAX_CHUNKS) if g not in first]
    if choice.source == "detected" and choice.confidence < REVISIT_BELOW and more:
        choice = vote(votes + probabilities(more), allowed)
    return choice


def vote(chunk_probs: list[tuple[float, dict[str, float]]], allowed: tuple[str, ...]) -> LanguageChoice:
    """The language heard in ``chunk_probs`` (``(seconds of speech, {language: probability})``
    per chunk, over Whisper's whole set): the one with the highest speech-weighted mean
    probability; outside ``allowed`` only when Whisper is sure enough over enough speech (see the
    module doc), else the likeliest allowed language."""
    usable = [(w, p) for w, p in chunk_probs if w >= MIN_CHUNK_SPEECH_S] or chunk_probs
    totals: dict[str, float] = {}
    weight = 0.0
    for w, probs in usable:
        mass = sum(probs.values())
        if mass <= 0:
            continue
        for lang, p in probs.items():
            code = FOLD.get(lang, lang)
            totals[code] = totals.get(code, 0.0) + w * p / mass
        weight += w
    if weight <= 0:
        return LanguageChoice(allowed[0], 0.0, "default", 0)
    mean = {lang: v / weight for lang, v in totals.items()}
    ranked = sorted(((lang, p) for lang, p in mean.items() if lang not in NOT_SPOKEN), key=lambda kv: -kv[1])
    heard = tuple((lang, round(p, 4)) for lang, p in ranked[:3])
    top, p_top = ranked[0]
    common: dict[str, Any] = dict(source="detected", chunks=len(usable), heard=heard, speech_s=round(weight, 2))
    if top in allowed:
        return LanguageChoice(top, round(p_top, 4), **common)
    if p_top >= OUTSIDE_SURE or (p_top >= OUTSIDE_AT and weight >= OUTSIDE_MIN_SPEECH_S):
        return LanguageChoice(top, round(p_top, 4), supported=False, **common)
    best = max(allowed, key=lambda lang: (mean.get(lang, 0.0), -allowed.index(lang)))
    return LanguageChoice(best, round(mean.get(best, 0.0), 4), **common)


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
    """A note when the transcript's language confidently differs from the speech's choice (only
    for a choice among the supported languages: py3langid is restricted to them)."""
    if speech.language not in allowed:
        return None
    found = text_language(text, allowed) if len(allowed) > 1 else None
    if found is None or found[0] == speech.language or found[1] < TEXT_DISAGREES_AT:
        return None
    if {found[0], speech.language} in CLOSE_PAIRS:
        return None
    return (f"the transcript reads as {found[0]} (text language ID {found[1]:.2f}) but the speech was taken "
            f"for {speech.language}: check the language (--language, upload field language)")
