"""Text interactions (chat, e-mail, tickets) scored on the same scale as calls (issue 28).

A thread of messages, each with its author's role and time, becomes a :class:`CallAnalysis` like
a call's, scored by the same :class:`~callscope.scoring.scorer.CallScorer`: sentence sentiment
−1..+1, emotion from the words (never from a voice: there is none), the same redaction of
personal data, the deployment's rule sets afterwards. What differs from a call, and why:

* **language**: detected from the words with py3langid (BSD-3-Clause; its model ships in the
  package), over the whole thread; every language is reported as itself, and one outside the
  deployment's is stopped as a call's is;
* **e-mail**: only each message's own reply is scored: quoted earlier messages, reply headers
  ("On … wrote:", "Den … skrev:"), signatures and disclaimers are cut with mail-parser-reply
  (MIT; English, Swedish, Danish, German, French, Spanish, Dutch, Polish, … headers; Norwegian
  clients' read as Danish); Finnish headers and closings, which it does not know, by
  :func:`_finnish_cut`;
* **time**: messages are laid end to end on the analysis' clock (a message of n words lasts
  0.4·n s), so talk shares are shares of words and nothing reads as silence or as talking over
  each other; each utterance keeps the message's own time in ``sent_at``;
* **a message is whole**: one that does not end a sentence gets a full stop, so that it is never
  read on into its author's next message (as a spoken utterance cut mid-sentence would be);
* **roles** are given by the sender, not guessed (confidence 1); **reliability** is 1 (written
  words are not decoded).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import re2

from callscope.scoring.roles import RoleAssignment
from callscope.scoring.sentences import SENTENCE_END
from callscope.transcription.language import LanguageChoice, _text_identifier
from callscope.transcription.reliability import TranscriptReliability
from callscope.transcription.types import Reliability, SpeakerTurn, Utterance, Word

#: seconds per word on the analysis clock
WORD_S = 0.4
#: the longest message text scored, characters (the rest is cut, and said so in the note)
MAX_MESSAGE_CHARS = 20_000
#: py3langid's codes that are one of ours under another name
_SAME_LANGUAGE = {"nb": "no", "nn": "no"}
#: mail-parser-reply's languages (reply headers it knows)
_MAIL_LANGUAGES = ("en", "sv", "da", "de", "fr", "es", "nl", "pl", "it", "cs")
SPEAKER_OF = {"customer": "C", "agent": "A"}
TEXT_VERSION = "text/2(py3langid 0.4,mail-parser-reply 1.36+fi)"
#: where a Finnish reply header or closing line starts (multi-line, RE2)
_FINNISH_CUT = re2.compile(
    r"(?m)^[> ]*(?:[^\n]{0,200}\skirjoitti:[ \t]*$|Lähettäjä:[^\n]*\n[> ]*(?:Lähetetty|Päivämäärä|Vastaanottaja|Aihe):"
    r"|(?:Ystävällisin|Parhain|Lämpimin|Hyvää päivänjatkoa|Kiittäen)[^\n]{0,40}$|Terveisin[ \t,]*$)")


@dataclass(frozen=True)
class TextMessage:
    """One message of a thread: who wrote it (``customer`` or ``agent``), when, and its text."""

    role: str
    at: datetime
    text: str


def detect_language(text: str, allowed: Sequence[str]) -> LanguageChoice:
    """The language of ``text`` (ISO 639-1, any py3langid knows) with its probability, whether it is
    one of ``allowed``, and the three likeliest."""
    identifier = _text_identifier()
    identifier.set_languages(None)  # every language it knows (the transcript check narrows it)
    ranked: dict[str, float] = {}
    for code, p in identifier.rank(text)[:10]:
        code = _SAME_LANGUAGE.get(code, code)
        ranked[code] = ranked.get(code, 0.0) + float(p)
    best = sorted(ranked.items(), key=lambda kv: -kv[1])
    language, confidence = best[0]
    return LanguageChoice(language=language, confidence=round(min(1.0, confidence), 4), source="detected",
                          chunks=1, supported=language in allowed,
                          heard=tuple((code, round(min(1.0, p), 4)) for code, p in best[:3]))


def _finnish_cut(text: str) -> str:
    """``text`` up to a Finnish mail client's reply header ("… kirjoitti:", or Outlook's
    "Lähettäjä:" with "Lähetetty:"/"Aihe:" after it) or a Finnish closing line ("Ystävällisin
    terveisin", …): mail-parser-reply knows no Finnish. RE2: linear time on any body."""
    match = _FINNISH_CUT.search(text)
    return text[:match.start()] if match and text[:match.start()].strip() else text


def own_reply(text: str, languages: Sequence[str] = _MAIL_LANGUAGES) -> str:
    """An e-mail body without its quoted earlier messages, reply headers, signature and disclaimer
    (mail-parser-reply, which also reads Norwegian clients' headers as Danish ones; Finnish ones
    by :func:`_finnish_cut`); the body itself when nothing of the kind is found."""
    from mailparser_reply import EmailReplyParser

    text = _finnish_cut(text)
    parser = EmailReplyParser(languages=[lang for lang in languages if lang in _MAIL_LANGUAGES])
    reply = parser.read(text)
    body = reply.replies[0].body if reply.replies else text
    return body.strip() or text.strip()


def _words(text: str, start: float) -> list[Word]:
    tokens = text.split()
    return [Word(word=w, start=round(start + k * WORD_S, 3), end=round(start + (k + 1) * WORD_S, 3), probability=1.0)
            for k, w in enumerate(tokens)]


def thread_utterances(messages: Sequence[TextMessage], channel: str) -> tuple[list[Utterance], list[datetime], bool]:
    """Utterances laid end to end (see the module), each message's time, and whether a message
    was cut at :data:`MAX_MESSAGE_CHARS`."""
    utterances, times, cut, clock = [], [], False, 0.0
    for m in sorted(messages, key=lambda m: m.at):
        text = m.text[:MAX_MESSAGE_CHARS]
        cut = cut or len(m.text) > MAX_MESSAGE_CHARS
        if channel == "email":
            text = own_reply(text)
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            continue
        if not text.endswith(SENTENCE_END):  # a message is whole: never read on into its author's next one
            text += "."
        words = _words(text, clock)
        clock = words[-1].end
        utterances.append(Utterance(speaker=SPEAKER_OF[m.role], start=words[0].start, end=words[-1].end, words=words,
                                    reliability=Reliability(score=1.0, reliable=True)))
        times.append(m.at)
    return utterances, times, cut


def _whole(u: Utterance) -> Utterance:
    """``u`` ending a sentence (a full stop added to its last word when it does not)."""
    if not u.words or u.text.rstrip().endswith(SENTENCE_END):
        return u
    last = u.words[-1]
    return replace(u, words=[*u.words[:-1], replace(last, word=last.word + ".")])


def written_reliability() -> TranscriptReliability:
    return TranscriptReliability(score=1.0, unreliable_share=0.0, speech_without_words_s=0.0, threshold=0.0,
                                 version="written")


def given_roles(utterances: Sequence[Utterance], direction: str | None) -> RoleAssignment:
    """The senders' roles, as given (confidence 1)."""
    roles = {u.speaker: ("customer" if u.speaker == "C" else "agent") for u in utterances}
    return RoleAssignment(roles=roles, source="given", confidence=1.0, direction=direction,
                          direction_source="metadata" if direction else "unknown")


def turns_of(utterances: Sequence[Utterance]) -> list[SpeakerTurn]:
    return [SpeakerTurn(u.speaker, u.start, u.end) for u in utterances]


@dataclass
class _Prepared:
    """A thread up to its scoring: what :func:`_scored` needs, and the result when it stops early."""

    t_start: float
    timings: Any
    base: dict
    choice: LanguageChoice
    kept: list[Utterance]
    redactions: list
    sent_of: dict
    done: Any = None


def analyze_thread(scorer, settings, messages: Sequence[TextMessage], channel: str, name: str):
    """The :class:`~callscope.analysis.schema.CallAnalysis` of one text interaction, scored by
    ``scorer`` (a :class:`~callscope.scoring.scorer.CallScorer`) under ``settings`` (the call's
    :class:`~callscope.analysis.pipeline.AnalysisSettings`)."""
    return analyze_threads(scorer, [(settings, messages, channel, name)])[0]


def analyze_threads(scorer, threads: Sequence[tuple[Any, Sequence[TextMessage], str, str]]) -> list:
    """:func:`analyze_thread` of each ``(settings, messages, channel, name)``, their sentences
    embedded in one batch (the same embeddings, faster per message than thread by thread:
    ``benchmarks/text_interactions.py``). Each result's ``timings_s.sentiment`` holds its share of
    the batch by sentence count."""
    prepared = [(settings, _prepare(settings, messages, channel, name)) for settings, messages, channel, name in threads]
    if scorer is None:
        return [p.done or _scored(None, settings, p, 0.0) for settings, p in prepared]
    from callscope.scoring.sentiment import sentiment_texts

    texts = [sentiment_texts(p.kept) if p.done is None else [] for _, p in prepared]
    t0 = time.perf_counter()
    with scorer.sentiment.encoder.prefetched(t for group in texts for t in group):
        per_text = (time.perf_counter() - t0) / max(1, sum(map(len, texts)))
        return [p.done or _scored(scorer, settings, p, per_text * len(group))
                for (settings, p), group in zip(prepared, texts)]


def _prepare(settings, messages: Sequence[TextMessage], channel: str, name: str) -> _Prepared:
    """Language, redaction and the early stop for an unsupported language."""
    from callscope.analysis.pipeline import _language_fields
    from callscope.analysis.schema import CallAnalysis, Timings
    from callscope.transcription.redaction.apply import redact

    t_total = time.perf_counter()
    timings = Timings()
    utterances, sent, cut = thread_utterances(messages, channel)
    notes = [f"a message longer than {MAX_MESSAGE_CHARS:,} characters was cut there"] if cut else []
    forced = settings.asr.language
    text = " ".join(u.text for u in utterances)
    if forced:
        choice = LanguageChoice(language=forced, confidence=1.0, source="forced", supported=forced in settings.languages)
    elif text:
        choice = detect_language(text, settings.languages)
    else:
        choice = LanguageChoice(language=settings.languages[0], confidence=0.0, source="default", supported=True)
    note = choice.note(settings.languages, settings.unsupported_language)
    if note:
        notes.append(note)
    base = dict(file=name, sample_rate=0, channels=0, channel_layout=channel, engine="text", model=TEXT_VERSION,
                **_language_fields([choice], choice, False, notes))
    if not choice.supported and settings.unsupported_language != "transcribe":
        timings.total = time.perf_counter() - t_total
        done = CallAnalysis(status="unsupported_language", duration_s=0.0, speakers=[], utterances=[],
                            timings_s=timings, **base)
        return _Prepared(t_total, timings, base, choice, [], [], {}, done)
    t0 = time.perf_counter()
    kept, redactions = redact(utterances, choice.language, settings.redaction)
    kept = [_whole(u) for u in kept]  # a placeholder may have taken the full stop with it
    timings.redaction = time.perf_counter() - t0
    # redaction drops an utterance left without words: keep each message's time with its own
    sent_of = {(u.speaker, u.start): at for u, at in zip(utterances, sent)}
    return _Prepared(t_total, timings, base, choice, kept, redactions, sent_of)


def _scored(scorer, settings, p: _Prepared, batch_share_s: float):
    """The analysis of a prepared thread; ``batch_share_s`` its share of the batch's embedding."""
    from callscope.analysis.pipeline import _transcript_out, _utterance_out
    from callscope.analysis.schema import CallAnalysis, RedactionOut, SpeakerOut, Timings, TurnOut
    from callscope.transcription.redaction.apply import REDACT_VERSION

    kept, timings, choice = p.kept, p.timings, p.choice
    duration = max((u.end for u in kept), default=0.0)
    turns = turns_of(kept)
    speakers = [SpeakerOut(id=sp, talk_time_s=round(sum(u.end - u.start for u in kept if u.speaker == sp), 3))
                for sp in dict.fromkeys(u.speaker for u in kept)]
    roles = given_roles(kept, settings.scoring.direction)
    scoring = None
    if scorer is not None and kept:
        scoring = scorer.score(kept, turns, [sp.id for sp in speakers], {sp.id: sp.talk_time_s for sp in speakers},
                               duration, {}, roles, settings.scoring, False, choice.language, choice,
                               written_reliability())
        timings.sentiment = scoring.timings_s["sentiment"] + batch_share_s
        timings.fusion = scoring.timings_s["fusion"]
        for sp in speakers:
            sp.role = scoring.call.roles.get(sp.id)
    timings.total = time.perf_counter() - p.t_start + batch_share_s
    out = [_utterance_out(u, scoring.utterances[i] if scoring else None) for i, u in enumerate(kept)]
    for u_out, u in zip(out, kept):
        at = p.sent_of.get((u.speaker, u.start))
        u_out.sent_at = at.isoformat() if at else None
    return CallAnalysis(
        duration_s=round(duration, 3), transcript_reliability=_transcript_out(written_reliability()),
        speakers=speakers, turns=[TurnOut(speaker=t.speaker, start=t.start, end=t.end) for t in turns], utterances=out,
        speaker_scores=scoring.speakers if scoring else [], call_scores=scoring.call if scoring else None,
        timeline=scoring.timelines if scoring else [],
        redactions=[RedactionOut(kind=r.kind, subtype=r.subtype, start=r.start, end=r.end, speaker=r.speaker,
                                 channel=r.channel, utterance=r.utterance, pseudonym=r.pseudonym) for r in p.redactions],
        redaction=REDACT_VERSION if settings.redaction.enabled else None,
        timings_s=Timings(**{k: round(v, 3) for k, v in timings.model_dump().items()}), **p.base)
