"""Dates of birth in a transcript: a date said within a few words after "date of birth", "born",
"birthday", "födelsedatum", "född", "fødselsdato", "født", "syntymäaika", "Geburtsdatum",
"date de naissance", "fecha de nacimiento", "data urodzenia", … A date is a run of day, month
and year parts: numbers (numerals or number words, :mod:`.numbers`), ordinals ("third", "3rd",
"3."), month names in nine languages, or a written date ("12/03/1985", "1985-03-12"); it needs a
month name, a written date, or at least two numbers. A date said without such a phrase (an
appointment, a delivery day) is not personal data and is left alone.
"""

from __future__ import annotations

import re

from callscope.transcription.redaction.tokens import Finding, Token, bare, finding

_CONTEXT = re.compile(
    r"^(?:birth|born|birthday|dob|d\.o\.b\.?|födelsedatum|födelsedag|född|fødselsdato|fødselsdag|født|fødd|"
    r"syntymäaika|syntymäpäivä|syntynyt|syntymäaikasi|geburtsdatum|geboren|geburtstag|naissance|né|née|"
    r"nacimiento|nací|nacido|nacida|urodzenia|urodzony|urodzona|urodziłem|urodziłam)$", re.I)
_MONTHS = re.compile(
    r"^(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|"
    r"jun|jul|aug|sep|sept|oct|nov|dec|januari|februari|mars|maj|augusti|januar|februar|marts|mai|desember|"
    r"märz|dezember|oktober|(?:tammi|helmi|maalis|huhti|touko|kesä|heinä|elo|syys|loka|marras|joulu)kuu\w*|"
    r"janvier|février|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|"
    r"mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|stycznia|lutego|marca|kwietnia|maja|"
    r"czerwca|lipca|sierpnia|września|października|listopada|grudnia|styczeń|luty|marzec|kwiecień|czerwiec|"
    r"lipiec|sierpień|wrzesień|październik|listopad|grudzień)$", re.I)
_ORDINALS = re.compile(
    r"^(?:\d{1,2}(?:st|nd|rd|th|\.)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|"
    r"twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|"
    r"(?:twenty|thirty)-?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth))$", re.I)
_WRITTEN = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}$")
_LINKS = {"of", "the", "den", "der", "dem", "le", "el", "de", "del", "-", "/", "."}
LOOKAHEAD_WORDS = 8  # words between the birth phrase and the date, at most
LOOKAHEAD_S = 10.0  # seconds between them, at most


def _date_part(t: Token) -> str | None:
    """"month", "written", "number" or "link" for a word that can be part of a date, else None."""
    word = bare(t.text)
    if _MONTHS.match(word) and (word not in ("may", "march") or t.text.strip()[:1].isupper()):
        return "month"  # "may" and "march" are months only with a capital
    if _WRITTEN.match(word):
        return "written"
    if _ORDINALS.match(word) or t.number is not None or (t.piece and t.piece.isdigit() and len(t.piece) <= 4):
        return "number"  # "eighty four": both words, though the first holds the piece "84"
    if t.piece == "":
        return "link"
    if word in _LINKS or not word:
        return "link"
    return None


def dates_of_birth(tokens: list[Token]) -> list[Finding]:
    """Dates said after a birth phrase in ``tokens`` (see the module)."""
    found: list[Finding] = []
    for k, t in enumerate(tokens):
        if not _CONTEXT.match(bare(t.text)):
            continue
        j = k + 1  # the date starts within a few words, maybe in the next speaker's answer
        while j < len(tokens) and j - k <= LOOKAHEAD_WORDS and tokens[j].start - t.end < LOOKAHEAD_S \
                and _date_part(tokens[j]) in (None, "link"):
            j += 1
        if j >= len(tokens) or j - k > LOOKAHEAD_WORDS or tokens[j].start - t.end >= LOOKAHEAD_S:
            continue
        end, parts = j, []
        while end < len(tokens) and (kind := _date_part(tokens[end])) is not None \
                and (end == j or tokens[end].start - tokens[end - 1].end < 1.5):
            parts.append(kind)
            end += 1
        while parts and parts[-1] == "link":
            parts.pop()
            end -= 1
        if "month" in parts or "written" in parts or parts.count("number") >= 2:
            found.append(finding("DATE_OF_BIRTH", None, tokens[j:end]))
    return found
