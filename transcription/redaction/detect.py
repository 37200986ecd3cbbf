"""Personal data in a word-timed transcript: payment cards (Luhn), CVV and expiry in context,
IBANs (mod 97), national ID numbers with their checksums (Swedish personnummer and
samordningsnummer, Danish CPR, Norwegian fødselsnummer, Finnish HETU, US SSN, UK NINO), phone
numbers, UK and (after "postcode"/"postnummer"/…) numeric postcodes, and e-mail addresses, written
or spoken. Names (:mod:`.names`), street addresses (:mod:`.places`) and dates of birth
(:mod:`.dates`) have their own modules.

How: every word is read as a piece of an identifier where it can be one: a numeral, a spoken
number in the call's language (:mod:`.numbers`), a single spelled letter, or a word mixing
letters and digits. Pieces next to each other (across utterances and speakers, with at most
:data:`MAX_GAP_S` between them; fillers such as "uh" or "dash" in between) form a run, and
every stretch of words in a run is tried against the validators, the longest valid ones first.
A number the caller reads in three goes, or that the agent's "mm" interrupts, is still one
number. Context words decide what a checksum alone cannot: an order or reference number that
happens to pass Luhn is not a card, a 10-digit run is a Danish CPR number only in a Danish call
or after "CPR".

Each finding names its words (utterance, word index), its time span and speakers; the value
itself is not kept in the finding, so nothing downstream can leak it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.dk import cpr as _cpr
from stdnum.fi import hetu as _hetu
from stdnum.no import fodselsnummer as _fnr
from stdnum.se import personnummer as _pnr
from stdnum.us import ssn as _ssn

from callscope.transcription.redaction.dates import dates_of_birth
from callscope.transcription.redaction.names import names
from callscope.transcription.redaction.numbers import NumberReader, joined
from callscope.transcription.redaction.places import addresses
from callscope.transcription.redaction.tokens import Finding, Token, bare, finding

DETECT_VERSION = "pii-detect/2"  # see docs/service.md, "Personal data in what is said"
MAX_GAP_S = 3.0  # seconds between two pieces of one identifier
CONTEXT_WORDS = 8  # words before a run that give it context
FILLERS = {"uh", "um", "eh", "er", "erm", "hmm", "mm", "öh", "øh", "äh", "ähm", "öhm", "dash", "hyphen", "streck",
           "bindestreck", "strek", "bindestrek", "bindestreg", "viiva", "tavuviiva", "minus", "strich", "space",
           # joining words between the parts of a number read in goes ("… and then 1234")
           "and", "then", "och", "sen", "sedan", "og", "så", "ja", "und", "dann", "et"}

_CTX = {
    "order": r"order|reference|ref|case|ticket|booking|invoice|tracking|parcel|ordernummer|order-?nummer|referens|"
             r"ärende|bestilling|sag|sak|tilaus|viite|bestellung|auftrag|rechnung|commande|pedido|zamówienie",
    "card": r"card|visa|mastercard|amex|kort|kortnummer|kortet|korttinumero|kortti|karte|kreditkarte|carte|tarjeta|karta",
    "cvv": r"cvv|cvc|cv2|security code|säkerhetskod|sikkerhedskode|sikkerhetskode|turvakoodi|prüfnummer|"
           r"sicherheitscode|cryptogramme|código de seguridad|three digits|tre siffrorna",
    "expiry": r"expir|valid (?:until|thru|through)|giltig|utgång|udløb|utløp|voimassa|gültig|ablauf|expiration|"
              r"caducidad|ważna|end date",
    "phone": r"phone|number|call|mobile|cell|reach|telefon|nummer|mobil|ring|numero|puhelin|kännykkä|handy|"
             r"téléphone|teléfono|numer",
    "ssn": r"social security|ssn",
    "national_id": r"personnummer|personnumret|samordningsnummer|cpr|fødselsnummer|fødselsnummeret|fodselsnummer|"
                   r"personal (?:identity )?number|personal id|henkilötunnus|hetu|social security|national insurance|"
                   r"steuer-?id|identifikationsnummer",
    "postcode": r"post ?code|postal code|zip|postnummer|postnumret|postnr|postinumero|plz|postleitzahl|code postal|"
                r"código postal|kod pocztowy",
}
_CTX_RE = {k: re.compile(rf"\b(?:{v})", re.I) for k, v in _CTX.items()}
_AT = {"at", "snabel-a", "snabela", "snabel", "ät", "arobase", "arroba", "małpa", "@"}
_DOT = {"dot", "punkt", "punktum", "prik", "prikk", "piste", "point", "punto", "kropka"}
_TLDS = {"com", "net", "org", "se", "dk", "no", "fi", "de", "fr", "es", "pl", "uk", "eu", "io", "co", "info", "biz",
         "nu", "edu", "gov", "me", "app", "online", "email"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NINO = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
_UK_POSTCODE = re.compile(r"GIR0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPS-UW\d]?\d[ABD-HJLNP-UW-Z]{2}")
_HETU = re.compile(r"\d{6}[-+A]?\d{3}[0-9A-Y]")


@dataclass
class _Run:
    tokens: list[Token] = field(default_factory=list)


def _flatten(utterances: Sequence) -> list[Token]:
    out = []
    for ui, u in enumerate(utterances):
        for wi, w in enumerate(u.words):
            out.append(Token(ui, wi, w.word, float(w.start), float(w.end), u.speaker))
    return out


def _pieces(tokens: list[Token], reader: NumberReader) -> None:
    """Give each token the piece of an identifier it can be, merging "forty five" and "double
    seven" into one piece on the first word (the second gets an empty piece)."""
    for t in tokens:
        word = bare(t.text)
        if re.fullmatch(r"[-–][a-zåäöæøü0-9]+", word):
            word = word[1:]  # Whisper writes a letter-by-letter reading as "X -E -427142 -D"
        if re.fullmatch(r"\d{1,4}[./]\d{1,2}[./]\d{2,4}", word):
            continue  # a written date ("03/04/1984") is no digit run
        n = reader.read(t.text)
        if n is not None:
            t.number = n
            t.piece = n.value if n.kind != "repeat" else None
        elif re.fullmatch(r"[a-zåäöæøü]", word) or re.fullmatch(r"[A-Z]{2}", t.text.strip().strip(".,;:!?")):
            t.piece = word.upper()  # a letter, or two written as capitals ("SW 799601B")
        elif re.fullmatch(r"(?=.*\d)(?=.*[a-z])[a-z0-9]{2,34}", compact := re.sub(r"[-+./]", "", word)):
            t.piece = compact.upper()  # "SE45", "131052-308T", "JG103759A"
        elif word in FILLERS or word in ("-", "–"):
            t.piece = ""
    for a, b in zip(tokens, tokens[1:]):
        if a.number is None or b.number is None or b.start - a.end > MAX_GAP_S:
            continue
        pair = joined(a.number, b.number)
        if pair is not None:
            a.piece, b.piece = pair, ""


def _runs(tokens: list[Token]) -> list[_Run]:
    runs, cur, last_end = [], _Run(), None
    for t in tokens:
        if t.piece is None or (last_end is not None and t.start - last_end > MAX_GAP_S):
            if any(x.piece for x in cur.tokens):
                runs.append(cur)
            cur, last_end = _Run(), None
            if t.piece is None:
                continue
        cur.tokens.append(t)
        last_end = t.end
    if any(x.piece for x in cur.tokens):
        runs.append(cur)
    return runs


def _context(tokens: list[Token], first: int) -> str:
    return " ".join(t.text.strip() for t in tokens[max(0, first - CONTEXT_WORDS):first])


def _has(kind: str, text: str) -> bool:
    return bool(_CTX_RE[kind].search(text))


def _classify(value: str, context: str, language: str) -> tuple[str, str | None] | None:
    """The kind of identifier ``value`` (compact, upper case) is, or None."""
    digits = value.isdigit()
    if digits and 13 <= len(value) <= 19 and value[0] in "23456" and _luhn.is_valid(value):
        if not _has("order", context) or _has("card", context):
            return "CARD", None
    if digits and 12 <= len(value) <= 19 and _has("card", context) and not _has("order", context):
        return "CARD", "unchecked"  # asked for a card number: a misread one (failing Luhn) is still one
    id_context = _has("national_id", context)
    if digits and not (_has("phone", context) and not id_context):  # "call me on …" is a phone number
        if len(value) == 12 and _pnr.is_valid(value):
            return "NATIONAL_ID", "se_personnummer"
        if len(value) == 10:
            cpr_ok = _cpr.is_valid(value)
            if cpr_ok and (language == "da" or re.search(r"\bcpr", context, re.I)):
                return "NATIONAL_ID", "dk_cpr"
            if _pnr.is_valid(value) and (language == "sv" or id_context):
                return "NATIONAL_ID", "se_personnummer"
        if len(value) == 11 and _fnr.is_valid(value):
            return "NATIONAL_ID", "no_fodselsnummer"
    # a HETU whose century sign was lost ("-" and the spoken "viiva" do not survive as pieces) counts only in a
    # Finnish call or after "henkilötunnus"; an "A" (born 2000 or later) keeps it anywhere
    if _HETU.fullmatch(value) and (not value[6].isdigit() or language == "fi" or id_context):
        for sep in ("-", "A", "+"):
            candidate = value if not value[6].isdigit() else f"{value[:6]}{sep}{value[6:]}"
            if _hetu.is_valid(candidate):
                return "NATIONAL_ID", "fi_hetu"
    if digits and len(value) == 9 and _ssn.is_valid(value) and _has("ssn", context):
        return "NATIONAL_ID", "us_ssn"
    if _NINO.fullmatch(value):
        return "NATIONAL_ID", "uk_nino"
    if _IBAN.fullmatch(value) and _iban.is_valid(value):
        return "IBAN", None
    if digits and len(value) in (10, 11, 12) and _has("national_id", context):
        return "NATIONAL_ID", "unchecked"  # asked for a personal number: a misheard one is still one
    if digits and 7 <= len(value) <= 15 and not _has("order", context):
        if len(value) >= 8 and _has("phone", context):
            return "PHONE", None
        if len(value) >= 8 and value.startswith("0"):
            return "PHONE", "leading zero"
    if digits and len(value) in (3, 4) and _has("cvv", context):
        return "CVV", None
    if digits and len(value) == 4 and _has("expiry", context) and 1 <= int(value[:2]) <= 12:
        return "EXPIRY", None
    if _UK_POSTCODE.fullmatch(value):
        return "POSTCODE", "uk"
    if digits and len(value) in (4, 5) and _has("postcode", " ".join(context.split()[-4:])) \
            and not _has("order", context):
        return "POSTCODE", None
    return None


_PRIORITY = {"IBAN": 0, "CARD": 1, "NATIONAL_ID": 2, "PHONE": 3, "CVV": 4, "EXPIRY": 5, "POSTCODE": 6}


def _identifiers(tokens: list[Token], language: str) -> list[Finding]:
    found: list[Finding] = []
    index = {id(t): k for k, t in enumerate(tokens)}
    for run in _runs(tokens):
        ts = run.tokens
        candidates = []
        with_piece = [k for k, t in enumerate(ts) if t.piece]
        first, last = with_piece[0], with_piece[-1]
        whole = "".join(t.piece or "" for t in ts)
        whole_fails_luhn = whole.isdigit() and 13 <= len(whole) <= 19 and not _luhn.is_valid(whole)
        for i in range(len(ts)):
            if not ts[i].piece:
                continue
            value = ""
            context = _context(tokens, index[id(ts[0])]) + " " + _context(tokens, index[id(ts[i])])
            for j in range(i, len(ts)):
                value += ts[j].piece or ""
                if not ts[j].piece or len(value) > 34:
                    continue
                kind = _classify(value, context, language)
                if (i, j) != (first, last) and (kind == ("CARD", None) and whole_fails_luhn
                                                or kind == ("PHONE", "leading zero")):
                    continue  # a part of a longer number passing Luhn, or starting with 0, is chance
                if kind:
                    candidates.append((_PRIORITY[kind[0]], -(j - i), i, j, kind))
        taken: set[int] = set()
        for _, _, i, j, (found_kind, subtype) in sorted(candidates):
            span = set(range(i, j + 1))
            if span & taken:
                continue
            taken |= span
            found.append(finding(found_kind, subtype, [t for t in ts[i:j + 1]]))
    return found


def _emails(tokens: list[Token]) -> list[Finding]:
    found = []
    for k, t in enumerate(tokens):  # written: in one word, or "name@" / "@domain" split by the ASR
        if "@" not in t.text:
            continue
        lo = k - 1 if t.text.strip().startswith("@") and k > 0 else k
        hi = k + 1 if t.text.strip().rstrip(".,").endswith("@") and k + 1 < len(tokens) else k
        if _EMAIL.search("".join(x.text.strip() for x in tokens[lo:hi + 1])):
            found.append(finding("EMAIL", "written", tokens[lo:hi + 1]))
    for k, t in enumerate(tokens):  # spoken: name [dot name] AT domain (DOT part)+ ending in a known domain
        if bare(t.text) not in _AT or k == 0 or k + 1 >= len(tokens):
            continue
        start = k - 1
        while start >= 2 and bare(tokens[start - 1].text) in _DOT:
            start -= 2
        domain = bare(tokens[k + 1].text)
        if "." in domain and domain.rsplit(".", 1)[1] in _TLDS:  # "gmail.com"
            found.append(finding("EMAIL", "spoken", tokens[start:k + 2]))
            continue
        end = k + 1
        while end + 2 < len(tokens) and bare(tokens[end + 1].text) in _DOT:
            end += 2
        if end > k + 1 and bare(tokens[end].text) in _TLDS:
            found.append(finding("EMAIL", "spoken", tokens[start:end + 1]))
    return found


_EMAIL_CONTEXT = re.compile(r"^(?:e-?mail|mail|mejl|mejladress|e-?post|e-?postadress|e-?postadresse|sähköposti|"
                            r"sähköpostiosoite|mailadresse|e-mail-adresse|courriel|correo)$", re.I)
_FILLER_BEFORE_ADDRESS = {"address", "adress", "adresse", "adressen", "osoite", "osoitteeni", "is", "är", "er", "on",
                          "ist", "est", "es", "jest", "my", "min", "mitt", "mit", "the", "it's", "its"}
_STOP = {"and", "och", "og", "ja", "und", "et", "y", "i", "but", "men", "mutta", "aber", "thanks", "thank", "tack", "tak",
         "takk", "kiitos", "danke", "okay", "ok"}


def _address_part(text: str, bare: str) -> bool:
    """A word that can only belong to an address: "@", an "at"/"dot" word, "www", a label the ASR
    split off with its dot (".buniamine"), or a dotted name ending in a known domain."""
    t = text.strip().rstrip(",!?")
    return ("@" in t or bare in _AT or bare in _DOT or bare == "www" or t.startswith(".")
            or re.fullmatch(r"[\w-]+(\.[\w-]+)*\.(" + "|".join(_TLDS) + r")\.?", t.lower()) is not None)


def _email_after_context(tokens: list[Token]) -> list[Finding]:
    """An address said after "my e-mail is", in whatever form the ASR wrote it ("www .buniamine
    .com", "anna berg at telia dot se"): the words up to the sentence's end or the next "and",
    if they hold an "@", an "at"/"dot" word, or a dotted part."""
    found = []
    for k, t in enumerate(tokens):
        if not _EMAIL_CONTEXT.match(bare(t.text)):
            continue
        j = k + 1
        while j < len(tokens) and bare(tokens[j].text) in _FILLER_BEFORE_ADDRESS and j - k <= 4:
            j += 1
        end = j - 1
        while end + 1 < len(tokens) and end + 1 - j < 10:
            nxt = tokens[end + 1]
            if bare(nxt.text) in _STOP or nxt.start - tokens[end].end > 1.5 or re.fullmatch(r"[.!?,;:]+", nxt.text.strip()):
                break
            end += 1
            if re.search(r"\w[.!?,;]$", nxt.text.strip()) and not (end + 1 < len(tokens) and tokens[end + 1].text.strip().startswith(".")):
                break
        part = tokens[j:end + 1]
        words = [bare(x.text) for x in part]
        if part and any(_address_part(x.text, b) for x, b in zip(part, words)):
            found.append(finding("EMAIL", "after_context", part))
    return found


_USERNAME = re.compile(r"^(?:user ?name|username|login|användarnamn|användarnamnet|brugernavn|brukernavn|"
                       r"käyttäjätunnus|käyttäjänimi|benutzername|identifiant|usuario|login)$", re.I)
_IS = {"is", "was", "är", "var", "er", "on", "oli", "ist", "war", "est", "es", "to", "jest", ":"}


def _usernames(tokens: list[Token]) -> list[Finding]:
    """A user name said after "my username is" (in each language): the next word with a letter
    or a digit, with what follows it when it is spelled on ("user 101")."""
    found = []
    for k, t in enumerate(tokens):
        head = bare(t.text)
        two = f"{bare(tokens[k - 1].text)} {head}" if k else head
        if not (_USERNAME.match(head) or _USERNAME.match(two)):
            continue
        j = k + 1
        while j < len(tokens) and bare(tokens[j].text) in _IS:
            j += 1
        if j >= len(tokens) or not re.search(r"\w", tokens[j].text) or tokens[j].start - t.end > MAX_GAP_S:
            continue
        end = j
        while end + 1 < len(tokens) and tokens[end + 1].piece and not tokens[end].text.strip().endswith((",", ".")):
            end += 1
        found.append(finding("USERNAME", None, tokens[j:end + 1]))
    return found


def detect(utterances: Sequence, language: str | None) -> list[Finding]:
    """Personal data in ``utterances`` (objects with ``speaker`` and ``words``, each word with
    ``word``, ``start``, ``end``), in time order. ``language``: the call's (ISO 639-1); it
    decides which number words count."""
    lang = language or "en"
    tokens = _flatten(utterances)
    _pieces(tokens, NumberReader(lang))
    found = (_identifiers(tokens, lang) + _emails(tokens) + _email_after_context(tokens) + _usernames(tokens)
             + names(tokens, lang) + addresses(tokens) + dates_of_birth(tokens))
    seen: set[tuple[int, int]] = set()
    out = []
    for f in sorted(found, key=lambda f: (f.start, -len(f.words))):
        if seen.issuperset(f.words):
            continue
        seen.update(f.words)
        out.append(f)
    return out
