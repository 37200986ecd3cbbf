"""Spoken numbers in a transcript, read as digits: "four five three two, double seven" is
``453277``, "forty five" is ``45``, "fyrtiofem" ``45``, "femogtyve" ``25``. Whisper writes many
numbers as numerals already; callers read out card numbers, personal ID numbers and phone
numbers digit by digit or in pairs, and the ASR often keeps those as words.

Only the call's language's number words count: Danish and Norwegian "to" is two, English "to"
is not a number. Tables for en, sv, da, no, fi, de, fr, es, pl (units, teens, tens, "double"/
"triple"). Hundreds and thousands are not read (identifiers are not read that way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "en": ["zero|oh|o|nought", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "sv": ["noll", "ett|en", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio|nie"],
    "da": ["nul", "en|et", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni"],
    "no": ["null", "en|ett|én", "to", "tre", "fire", "fem", "seks", "sju|syv", "åtte", "ni"],
    "fi": ["nolla", "yksi|yks", "kaksi|kaks", "kolme", "neljä", "viisi|viis", "kuusi|kuus", "seitsemän|seittemän",
           "kahdeksan|kaheksan", "yhdeksän|yheksän"],
    "de": ["null", "eins|ein", "zwei|zwo", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"],
    "fr": ["zéro|zero", "un|une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "es": ["cero", "uno|una|un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    "pl": ["zero", "jeden|jedna", "dwa|dwie", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem", "dziewięć"],
}
_TEENS = {  # 10..19
    "en": ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"],
    "sv": ["tio", "elva", "tolv", "tretton", "fjorton", "femton", "sexton", "sjutton", "arton", "nitton"],
    "da": ["ti", "elleve", "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten", "nitten"],
    "no": ["ti", "elleve", "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten", "nitten"],
    "fi": ["kymmenen", "yksitoista", "kaksitoista", "kolmetoista", "neljätoista", "viisitoista", "kuusitoista",
           "seitsemäntoista", "kahdeksantoista", "yhdeksäntoista"],
    "de": ["zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"],
    "fr": ["dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"],
    "es": ["diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve"],
    "pl": ["dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście", "piętnaście", "szesnaście",
           "siedemnaście", "osiemnaście", "dziewiętnaście"],
}
_TENS = {  # 20..90
    "en": ["twenty", "thirty", "forty|fourty", "fifty", "sixty", "seventy", "eighty", "ninety"],
    "sv": ["tjugo|tjuge", "trettio|trettie", "fyrtio|förtio", "femtio", "sextio", "sjuttio", "åttio", "nittio"],
    "da": ["tyve", "tredive", "fyrre", "halvtreds", "tres", "halvfjerds", "firs", "halvfems"],
    "no": ["tjue|tyve", "tretti|tredve", "førti", "femti", "seksti", "sytti", "åtti", "nitti"],
    "fi": ["kaksikymmentä", "kolmekymmentä", "neljäkymmentä", "viisikymmentä", "kuusikymmentä", "seitsemänkymmentä",
           "kahdeksankymmentä", "yhdeksänkymmentä"],
    "de": ["zwanzig", "dreißig|dreissig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"],
    "fr": ["vingt", "trente", "quarante", "cinquante", "soixante", "soixante-dix", "quatre-vingt|quatre-vingts",
           "quatre-vingt-dix"],
    "es": ["veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"],
    "pl": ["dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt", "sześćdziesiąt", "siedemdziesiąt",
           "osiemdziesiąt", "dziewięćdziesiąt"],
}
_REPEAT = {"en": {"double": 2, "triple": 3}, "de": {"doppel": 2, "doppelte": 2}, "da": {"dobbelt": 2},
           "no": {"dobbel": 2, "dobbelt": 2}, "sv": {"dubbel": 2, "dubbla": 2}, "fr": {"double": 2}, "es": {"doble": 2},
           "fi": {"tupla": 2}, "pl": {}}
#: how a unit joins its tens inside one word: "femogtyve" (da, unit first), "fünfundzwanzig" (de)
_UNIT_FIRST_JOIN = {"da": "og", "de": "und"}


@dataclass(frozen=True)
class NumberWord:
    """What one word says as a number: ``digits`` (a numeral or a compound read whole), or a
    ``unit`` (0..9), ``teen`` (10..19) or ``tens`` (20..90) word that may join its neighbour, or
    a ``repeat`` (double/triple) of the next digit."""

    kind: str  # digits | unit | teen | tens | repeat
    value: str  # digits as text ("45", "0", "7712")


class NumberReader:
    """Reads words as numbers for one language."""

    def __init__(self, language: str) -> None:
        lang = language if language in _UNITS else "en"
        self.language = lang
        self.words: dict[str, NumberWord] = {}
        for i, forms in enumerate(_UNITS[lang]):
            for f in forms.split("|"):
                self.words[f] = NumberWord("unit", str(i))
        for i, forms in enumerate(_TEENS[lang]):
            for f in forms.split("|"):
                self.words[f] = NumberWord("teen", str(10 + i))
        for i, forms in enumerate(_TENS[lang]):
            for f in forms.split("|"):
                self.words[f] = NumberWord("tens", str(20 + 10 * i))
        for f, n in _REPEAT.get(lang, {}).items():
            self.words[f] = NumberWord("repeat", str(n))
        units = {f: i for i, forms in enumerate(_UNITS[lang]) for f in forms.split("|") if i}
        tens = {f: 20 + 10 * i for i, forms in enumerate(_TENS[lang]) for f in forms.split("|")}
        join = _UNIT_FIRST_JOIN.get(lang)
        for t, tv in tens.items():  # compounds written as one word
            for u, uv in units.items():
                if join:
                    self.words.setdefault(f"{u}{join}{t}", NumberWord("digits", str(tv + uv)))
                elif lang in ("sv", "no", "fi"):
                    self.words.setdefault(f"{t}{u}", NumberWord("digits", str(tv + uv)))
                self.words.setdefault(f"{t}-{u}", NumberWord("digits", str(tv + uv)))

    def read(self, word: str) -> NumberWord | None:
        """The number a transcript word says, or None. Numerals may carry separators ("4532-7712",
        "070-123 45"); punctuation around the word is ignored."""
        w = word.strip().strip(".,;:!?…\"'()[]“”‘’").lower()
        w = w.lstrip("-–") if re.fullmatch(r"[-–]\d+", w) else w  # Whisper writes digits read out as "07 -9 -1 -1"
        if not w:
            return None
        if re.fullmatch(r"\+?[\d][\d\-./ ]*", w) and any(c.isdigit() for c in w):
            return NumberWord("digits", re.sub(r"\D", "", w))
        return self.words.get(w)


def joined(first: NumberWord, second: NumberWord) -> str | None:
    """The digits two number words say together, or None if they do not join: tens + unit make
    one number ("forty five" → 45), a repeat word repeats the next digit ("double seven" → 77)."""
    if second.kind != "unit":
        return None
    if first.kind == "tens" and second.value != "0":
        return str(int(first.value) + int(second.value))
    if first.kind == "repeat":
        return second.value * int(first.value)
    return None


def digits_of(words: list[NumberWord]) -> str:
    """The digits a run of number words says (pairs joined by :func:`joined`; a repeat word
    with nothing to repeat says nothing)."""
    out, i = [], 0
    while i < len(words):
        pair = joined(words[i], words[i + 1]) if i + 1 < len(words) else None
        if pair is not None:
            out.append(pair)
            i += 2
            continue
        if words[i].kind != "repeat":
            out.append(words[i].value)
        i += 1
    return "".join(out)
