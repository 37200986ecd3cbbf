"""Street addresses in a transcript: a house number with a street ("221 Baker Street",
"Storgatan 12", "Nørregade fem", "rue de la Paix 3", "Mannerheimintie 10"), or a street name
said after "my address is" / "I live at" / "jag bor på" (nine languages) without its number.

A street is recognised by its kind word: a separate word after the name in English ("Street",
"Road", "Lane", …), before it in French, Spanish and Polish ("rue", "calle", "ulica", …), or
the end of one compound word in the Nordic languages and German ("-gatan", "-vägen", "-gade",
"-vej", "-veien", "-katu", "-tie", "-straße", "-weg", …). Postcodes are found with the other
identifiers (:mod:`.detect`).
"""

from __future__ import annotations

import re

from callscope.transcription.redaction.tokens import Finding, Token, bare, capitalised, finding

#: street kind words said after the name: the common ones of the UK's and of the USPS's lists
_AFTER_NAME = {"street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "way", "close", "crescent",
               "court", "ct", "place", "square", "terrace", "boulevard", "blvd", "grove", "gardens", "row", "walk",
               "mews", "hill", "parade", "circle", "cir", "cove", "trail", "parkway", "pkwy", "alley", "highway", "hwy",
               "pike", "loop", "path", "plaza", "ridge", "heights", "green", "rise", "vale", "view", "wharf",
               "embankment", "esplanade", "circus", "junction", "orchard", "meadows", "passage", "quay",
               # written apart in the Nordic languages and German: "Søndre Allé", "Elisabeth Kochin kuja", "Berliner Straße"
               "allé", "alle", "vej", "gade", "plads", "vei", "kuja", "katu", "tie", "bulevardi", "polku",
               "straße", "strasse", "weg", "platz", "allee", "gatan", "vägen"}
_BEFORE_NAME = {"rue", "avenue", "boulevard", "chemin", "allée", "impasse", "calle", "avenida", "plaza", "paseo",
                "camino", "carrer", "ulica", "ul", "aleja", "al", "plac"}
_LINKS = {"de", "del", "la", "las", "los", "du", "des", "le", "d'", "di"}
_COMPOUND = re.compile(
    r"[a-zåäöæøüéß-]{2,}(?:gatan|gata|vägen|väg|gränd|stigen|allén|torget|backen|gade|gaden|vej|vejen|stræde|torv|"
    r"plads|gate|gaten|veien|vegen|vei|veg|plass|ringen|tunet|løkka|haugen|bakken|stien|svingen|katu|kadulla|kuja|tie|tiellä|tiellä|polku|straße|strasse|str|weg|"
    r"gasse|platz|allee|ring|damm|ufer)$")
_CONTEXT = re.compile(
    r"\b(?:address|adress|adressen|adresse|osoite|osoitteeni|live at|live on|lives at|bor på|bor i|wohne in|wohne "
    r"auf|wohnhaft|habite|j'habite|vivo en|mieszkam|deliver(?:ed)? to|ship(?:ped)? to|send it to|leveransadress)\b",
    re.I)
CONTEXT_WORDS = 8


def _house_number(t: Token) -> bool:
    """A house number: 1 to 4 digits, maybe with one letter ("12", "221B", "tolv")."""
    return bool(t.piece) and re.fullmatch(r"\d{1,4}[A-Z]?", t.piece or "") is not None


def _name_word(t: Token) -> bool:
    return capitalised(t.text) and "'" not in t.text and "’" not in t.text and bare(t.text) not in _AFTER_NAME


def _said_after_context(tokens: list[Token], k: int) -> bool:
    before = " ".join(t.text.strip() for t in tokens[max(0, k - CONTEXT_WORDS):k])
    return _CONTEXT.search(before) is not None


def _span_with_number(tokens: list[Token], lo: int, hi: int) -> tuple[int, int, bool]:
    """Widen [lo, hi] over a house number right before or after it (same speaker, no pause)."""
    numbered = False
    if hi + 1 < len(tokens) and _house_number(tokens[hi + 1]) and tokens[hi + 1].start - tokens[hi].end < 1.5:
        hi, numbered = hi + 1, True
    if lo > 0 and _house_number(tokens[lo - 1]) and tokens[lo].start - tokens[lo - 1].end < 1.5:
        lo, numbered = lo - 1, True
    return lo, hi, numbered


def addresses(tokens: list[Token]) -> list[Finding]:
    """Street addresses in ``tokens`` (see the module): found with their house number, or after an
    address phrase."""
    found: list[Finding] = []
    k = 0
    while k < len(tokens):
        word = bare(tokens[k].text)
        span = None
        if word in _AFTER_NAME and k > 0 and _name_word(tokens[k - 1]) and not tokens[k - 1].text.strip().endswith(","):
            lo = k - 1
            while lo > 0 and k - lo < 3 and _name_word(tokens[lo - 1]) and tokens[lo - 1].u == tokens[k].u:
                lo -= 1
            span = (lo, k)
        elif word in _BEFORE_NAME and k + 1 < len(tokens):
            hi = k + 1
            while hi < len(tokens) and bare(tokens[hi].text) in _LINKS:
                hi += 1
            if hi < len(tokens) and capitalised(tokens[hi].text):
                while hi + 1 < len(tokens) and hi - k < 4 and capitalised(tokens[hi + 1].text):
                    hi += 1
                span = (k, hi)
        elif capitalised(tokens[k].text) and _COMPOUND.fullmatch(word):
            span = (k, k)
        if span is None:
            k += 1
            continue
        lo, hi, numbered = _span_with_number(tokens, *span)
        if numbered or _said_after_context(tokens, lo):
            found.append(finding("ADDRESS", "numbered" if numbered else "after_context", tokens[lo:hi + 1]))
            k = hi + 1
        else:
            k += 1
    return found
