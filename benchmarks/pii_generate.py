"""Generated identifiers for the redaction tests and benchmark: valid ones (checksums computed by
the published algorithms) and invalid ones (one digit of a valid one changed, so the checksum
fails). Nothing here is anyone's real number: every value is drawn from a seeded generator."""

from __future__ import annotations

import random
from datetime import date, timedelta

#: digit words, 0 to 9, in the languages the tests and the evaluation speak numbers in
SPOKEN = {
    "en": "zero one two three four five six seven eight nine".split(),
    "sv": "noll ett två tre fyra fem sex sju åtta nio".split(),
    "da": "nul en to tre fire fem seks syv otte ni".split(),
    "no": "null en to tre fire fem seks sju åtte ni".split(),
    "fi": "nolla yksi kaksi kolme neljä viisi kuusi seitsemän kahdeksan yhdeksän".split(),
    "de": "null eins zwei drei vier fünf sechs sieben acht neun".split(),
}


def luhn_complete(body: str) -> str:
    """``body`` with the Luhn check digit appended."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "52", "53", "54", "55", "2221", "37", "6011"])
    length = 15 if prefix == "37" else 16
    return luhn_complete(prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1)))


def _birth(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 80))


def personnummer(rng: random.Random) -> str:
    """Swedish personnummer, 10 digits (YYMMDDNNNC), Luhn over the first nine."""
    d = _birth(rng)
    return luhn_complete(d.strftime("%y%m%d") + f"{rng.randrange(1000):03d}")


def fodselsnummer(rng: random.Random) -> str:
    """Norwegian fødselsnummer, 11 digits with two mod-11 check digits."""
    w1, w2 = [3, 7, 6, 1, 8, 9, 4, 5, 2], [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    while True:
        d = _birth(rng)
        individual = rng.randrange(0, 500) if d.year < 2000 else rng.randrange(500, 1000)
        body = d.strftime("%d%m%y") + f"{individual:03d}"
        k1 = 11 - sum(int(a) * b for a, b in zip(body, w1)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        k2 = 11 - sum(int(a) * b for a, b in zip(body + str(k1), w2)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 != 10:
            return body + str(k1) + str(k2)


def cpr(rng: random.Random) -> str:
    """Danish CPR: DDMMYY + 4 digits (no check digit since 2007; the date must be real, and the
    first of the four digits tells the century: 0-3 for 1900-1999, 4 for 2000-2036)."""
    d = _birth(rng)
    first = rng.randrange(4) if d.year < 2000 else 4
    return d.strftime("%d%m%y") + str(first) + f"{rng.randrange(1000):03d}"


def hetu(rng: random.Random) -> str:
    """Finnish HETU: DDMMYY, century sign, 3 digits, mod-31 check character."""
    d = _birth(rng)
    n = f"{rng.randrange(2, 900):03d}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(d.strftime("%d%m%y") + n) % 31]
    return d.strftime("%d%m%y") + ("-" if d.year < 2000 else "A") + n + check


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"


def iban(rng: random.Random, country: str = "SE") -> str:
    """An IBAN with a correct mod-97 check (Swedish layout: 20 digits after the check)."""
    bban = "".join(rng.choice("0123456789") for _ in range(20))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def phone(rng: random.Random) -> str:
    return "07" + "".join(rng.choice("0123456789") for _ in range(8))


def broken(value: str, rng: random.Random, valid) -> str:
    """``value`` with one digit changed so that ``valid`` rejects it."""
    while True:
        i = rng.choice([k for k, c in enumerate(value) if c.isdigit()])
        out = value[:i] + str((int(value[i]) + rng.randrange(1, 10)) % 10) + value[i + 1:]
        if not valid(out):
            return out


def nino(rng: random.Random) -> str:
    """A UK National Insurance number in the published format (two prefix letters, six digits, A-D)."""
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while first + second in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ"):
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    return first + second + "".join(rng.choice("0123456789") for _ in range(6)) + rng.choice("ABCD")


def uk_postcode(rng: random.Random) -> str:
    """A UK postcode in one of the published shapes (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA), e.g. "CB2 1AB"."""
    area = rng.choice(["CB", "NW", "SW", "EH", "M", "B", "LS", "G", "BS", "OX", "E", "N"])
    district = str(rng.randrange(1, 20))
    inward = str(rng.randrange(10)) + "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
    return f"{area}{district} {inward}"


def expiry(rng: random.Random) -> str:
    return f"{rng.randrange(1, 13):02d}{rng.randrange(26, 33)}"


def cvv(rng: random.Random) -> str:
    return f"{rng.randrange(1000):03d}"


def luhn_valid_order(rng: random.Random) -> str:
    """A 16-digit order number that happens to pass Luhn (as one in ten do)."""
    return luhn_complete("".join(rng.choice("123456789") for _ in range(15)))


def birth_date(rng: random.Random) -> date:
    return _birth(rng)
