"""The words of a transcript as the detectors see them (:class:`Token`: text, time in seconds,
speaker, and the piece of an identifier it can be) and what they report (:class:`Finding`)."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.transcription.redaction.numbers import NumberWord


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: ``kind`` (CARD, CVV, EXPIRY, IBAN, NATIONAL_ID, PHONE, EMAIL,
    USERNAME, NAME),
    ``subtype`` (e.g. ``se_personnummer``), the words it covers as (utterance, word) indices,
    their time span (seconds) and the speakers who said them."""

    kind: str
    subtype: str | None
    words: tuple[tuple[int, int], ...]
    start: float
    end: float
    speakers: tuple[str, ...]


@dataclass
class Token:
    u: int
    w: int
    text: str
    start: float
    end: float
    speaker: str
    piece: str | None = None  # what it adds to an identifier ("" for a filler)
    number: NumberWord | None = None


def bare(text: str) -> str:
    return text.strip().strip(".,;:!?…\"'()[]“”‘’").lower()



def capitalised(text: str) -> bool:
    """A word written with a capital first letter and the rest not all capitals ("Emily", not "I" or "CB")."""
    t = text.strip().strip(".,;:!?…\"'()[]“”‘’")
    return len(t) > 1 and t[0].isupper() and t.replace("-", "").replace("'", "").isalpha() and not t.isupper()


def finding(kind: str, subtype: str | None, tokens: list[Token]) -> Finding:
    """A finding over ``tokens``; its speakers are those who said a part of it (an "mm" of the
    other party inside a number read in two goes is covered, but does not make them a speaker)."""
    sayers = [t for t in tokens if t.piece] or tokens
    return Finding(kind, subtype, tuple((t.u, t.w) for t in tokens), min(t.start for t in tokens),
                   max(t.end for t in tokens), tuple(dict.fromkeys(t.speaker for t in sayers)))
