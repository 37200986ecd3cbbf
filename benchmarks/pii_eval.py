"""Labelled evaluation of personal-data detection (issue 12): recall and precision per kind, on
text and on audio through the real pipeline.

Three sets, each built so that the labels do not come from the detector:

1. **templates, text**: carrier sentences in en, sv, da, no, fi, de holding one identifier each,
   drawn from :mod:`benchmarks.pii_generate` (seeded; checksums computed by the published
   algorithms) and said in several forms (numerals, digit words, English pairs, spelled
   letters, written and spoken e-mail addresses); the label is the identifier's kind and its
   words. Negatives carry no personal data: numbers that fail their checksum, order numbers that
   pass Luhn, dates that are not birth dates. Names come from Faker, as do the detector's
   first-name lists: the "known name" recall on templates is in-list by construction, read the
   real-transcript set for names.
2. **templates, audio**: a seeded subset of the spoken-form template sentences, spoken by
   espeak-ng (Debian package ``espeak-ng``; en-us, sv, da, nb, fi voices), at 16 kHz (VoIP) and
   at 8 kHz (a phone line), and analysed by the real :class:`callscope.analysis.pipeline.Analyzer` (Whisper base,
   redaction on). Scored per clip: a kind counts as found when the pipeline redacted something
   of that kind; a leak is any part of the identifier still readable in the redacted text.
3. **real transcripts**, annotated by hand (``benchmarks/data/pii_annotations.json``, which says
   who annotated, how, and the guide): Call01's human transcript and 70 DailyDialog dialogues.
   Scored per entity: found when a finding of the same kind covers one of its words.

    .venv/bin/python benchmarks/pii_eval.py [--per-kind 40] [--audio-per-kind 6] [--no-audio]

Prints one table per set and writes benchmarks/results/pii_eval.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from stdnum.dk import cpr
from stdnum.no import fodselsnummer
from stdnum.se import personnummer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import pii_generate as gen  # noqa: E402
from benchmarks.reference import DATA  # noqa: E402
from callscope.transcription.redaction.detect import DETECT_VERSION, detect  # noqa: E402
from callscope.transcription.redaction.numbers import NumberReader  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ANNOTATIONS = Path(__file__).resolve().parent / "data" / "pii_annotations.json"
VOICES = {"en": "en-us", "sv": "sv", "da": "da", "no": "nb", "fi": "fi", "de": "de"}
ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
            "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth twenty-first twenty-second twenty-third "
            "twenty-fourth twenty-fifth twenty-sixth twenty-seventh twenty-eighth twenty-ninth thirtieth "
            "thirty-first").split()
MONTHS = "January February March April May June July August September October November December".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


@dataclass
class Sample:
    """One template sentence: ``kind`` None for a negative; ``entity`` the identifier as said
    (a substring of ``text``); ``form`` how it is said; ``note`` what the sample tests."""

    language: str
    text: str
    kind: str | None
    entity: str | None
    form: str
    note: str
    secret: str = ""  # what must not survive redaction (digits, or lower-case letters)
    by_context: bool = False  # a negative the detector redacts on purpose (context, not checksum): reported apart

    def entity_words(self) -> set[int]:
        if not self.entity:
            return set()
        return _words_of(self.text, self.entity)


def _words_of(text: str, part: str, nth: int = 0) -> set[int]:
    """Indices of the whitespace-split words of ``text`` that the ``nth`` occurrence of ``part`` touches."""
    hits = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(part)}(?!\w)", text)]
    if len(hits) <= nth:
        raise ValueError(f"{part!r} not in {text!r}")
    lo, hi, out, pos = hits[nth], hits[nth] + len(part), set(), 0
    for i, w in enumerate(text.split()):
        pos = text.index(w, pos)
        if pos < hi and pos + len(w) > lo:
            out.add(i)
        pos += len(w)
    return out


# ---- how numbers and letters are said -----------------------------------------------------------

def digit_words(digits: str, language: str) -> str:
    return " ".join(gen.SPOKEN[language][int(d)] for d in digits)


def two_digits_en(n: int) -> str:
    if n < 10:
        return f"oh {gen.SPOKEN['en'][n]}"
    if n < 20:
        return TEENS[n - 10]
    return TENS[n // 10 - 2] + ("" if n % 10 == 0 else f" {gen.SPOKEN['en'][n % 10]}")


def pairs_en(digits: str) -> str:
    """"4539 1488" as "forty five thirty nine fourteen eighty eight"; an odd digit goes first, alone
    ("601": "six oh one", never the ambiguous "sixty one")."""
    head = [gen.SPOKEN["en"][int(digits[0])]] if len(digits) % 2 else []
    rest = digits[len(digits) % 2:]
    return " ".join(head + [two_digits_en(int(rest[i:i + 2])) for i in range(0, len(rest), 2)])


def grouped(digits: str, size: int = 4) -> str:
    return " ".join(digits[i:i + size] for i in range(0, len(digits), size))


def said(digits: str, language: str, rng: random.Random) -> tuple[str, str]:
    """``digits`` in a form drawn at random: (text, form)."""
    forms = ["numerals", "words"] + (["pairs"] if language == "en" else [])
    form = rng.choice(forms)
    if form == "numerals":
        return grouped(digits, rng.choice([3, 4])), form
    if form == "pairs":
        return pairs_en(digits), form
    return digit_words(digits, language), form


def spelled(text: str, language: str) -> str:
    """Letters and digits one by one: "CB2 1AB" -> "c b two one a b"."""
    return " ".join(gen.SPOKEN[language][int(c)] if c.isdigit() else c.lower() for c in text if c.strip())


def year_en(year: int) -> str:
    return f"{two_digits_en(year // 100)} {two_digits_en(year % 100)}" if year % 100 else f"{year // 100} hundred"


def date_en(d, rng: random.Random) -> tuple[str, str]:
    form = rng.choice(["ordinal words", "month day year", "written"])
    if form == "ordinal words":
        return f"the {ORDINALS[d.day - 1]} of {MONTHS[d.month - 1]} {year_en(d.year)}", "words"
    if form == "month day year":
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(d.day, "th")
        return f"{MONTHS[d.month - 1]} {d.day}{suffix}, {d.year}", "numerals"
    return d.strftime("%d/%m/%Y"), "written"


# ---- the template set ---------------------------------------------------------------------------

def _faker(locale: str, seed: int):
    from faker import Faker

    f = Faker(locale)
    f.seed_instance(seed)
    return f


def templates(per_kind: int, seed: int = 12) -> list[Sample]:
    """``per_kind`` samples for every (kind, language) pair below, and as many negatives."""
    rng = random.Random(seed)
    en = _faker("en_GB", seed)
    streets = {lang: _faker(loc, seed) for lang, loc in (("sv", "sv_SE"), ("da", "da_DK"), ("no", "no_NO"),
                                                         ("fi", "fi_FI"), ("de", "de_DE"))}
    out: list[Sample] = []

    def add(lang, carrier, kind, entity, form, note, secret="", by_context=False):
        out.append(Sample(lang, carrier.format(entity), kind, entity, form, note, secret, by_context))

    for _ in range(per_kind):
        c = gen.card(rng)
        text, form = said(c, "en", rng)
        add("en", rng.choice(["My card number is {}.", "Sure, the card is {}.", "It's a Visa card, {}, thanks."]),
            "CARD", text, form, "valid card", c)
        bad = gen.broken(c, rng, lambda v: gen.luhn_complete(v[:-1]) == v)
        text, form = said(bad, "en", rng)
        add("en", rng.choice(["I wrote {} on the form.", "It says {} on the letter."]), None, text, form,
            "card-length number failing Luhn, no card context", bad)
        text, form = said(gen.broken(c, rng, lambda v: gen.luhn_complete(v[:-1]) == v), "en", rng)
        add("en", "My card number is {}.", None, text, form, "card number failing Luhn, said as one", bad,
            by_context=True)
        o = gen.luhn_valid_order(rng)
        text, form = said(o, "en", rng)
        add("en", rng.choice(["Your order number is {}.", "The reference is {}.", "The tracking number is {}."]),
            None, text, form, "order number passing Luhn", o)
        d = gen.birth_date(rng)
        text, form = date_en(d, rng)
        add("en", rng.choice(["The appointment is on {}.", "It was delivered on {}.", "Your contract started {}."]),
            None, text, form, "a date that is not a birth date")
        text, form = date_en(gen.birth_date(rng), rng)
        add("en", rng.choice(["My date of birth is {}.", "I was born on {}.", "Date of birth, {}."]),
            "DATE_OF_BIRTH", text, form, "date of birth")
        s = gen.ssn(rng)
        text, form = said(s, "en", rng)
        add("en", "My social security number is {}.", "NATIONAL_ID", text, form, "US SSN", s)
        n = gen.nino(rng)
        add("en", "My National Insurance number is {}.", "NATIONAL_ID", spelled(n, "en"), "spelled", "UK NINO",
            n[2:8])
        for lang, make, carrier in (("sv", gen.personnummer, "Mitt personnummer är {}."),
                                    ("da", gen.cpr, "Mit CPR-nummer er {}."),
                                    ("no", gen.fodselsnummer, "Fødselsnummeret mitt er {}."),
                                    ("fi", gen.hetu, "Henkilötunnukseni on {}.")):
            v = make(rng)
            digits = re.sub(r"\D", "", v)
            if lang == "fi":
                words = f"{digit_words(v[:6], 'fi')} {'viiva' if v[6] == '-' else 'a'} {digit_words(v[7:10], 'fi')} " \
                        f"{v[10].lower() if not v[10].isdigit() else digit_words(v[10], 'fi')}"
                text, form = rng.choice([(v, "numerals"), (words, "words")])
            else:
                text, form = said(digits, lang, rng)
            add(lang, carrier, "NATIONAL_ID", text, form, f"{lang} national ID", digits[:6])
            if lang != "fi":
                valid = {"sv": personnummer, "da": cpr, "no": fodselsnummer}[lang].is_valid
                bad = gen.broken(digits, rng, valid)
                text, form = said(bad, lang, rng)
                add(lang, carrier, None, text, form, f"{lang} national ID failing its checksum, said as one", bad,
                    by_context=True)
                text, form = said(gen.broken(digits, rng, valid), lang, rng)
                add(lang, "Jag skrev {} på blanketten." if lang == "sv" else "Jeg skrev {} på blanketten.", None, text,
                    form, f"{lang} national ID failing its checksum, no context")
        for lang, carrier, number in (("en", "You can reach me on {}.", "07" + "".join(rng.choices("0123456789", k=9))),
                                      ("en", "My mobile number is {}.", "07" + "".join(rng.choices("0123456789", k=9))),
                                      ("sv", "Mitt mobilnummer är {}.", gen.phone(rng)),
                                      ("da", "Mit telefonnummer er {}.", "".join(rng.choices("23456789", k=1)) + "".join(rng.choices("0123456789", k=7))),
                                      ("no", "Telefonnummeret mitt er {}.", rng.choice("49") + "".join(rng.choices("0123456789", k=7))),
                                      ("fi", "Puhelinnumeroni on {}.", "04" + "".join(rng.choices("0123456789", k=8)))):
            text, form = said(number, lang, rng)
            add(lang, carrier, "PHONE", text, form, f"{lang} phone", number)
        first, last = en.first_name(), en.last_name()
        local = rng.choice([f"{first}.{last}", f"{first}{rng.randrange(10, 99)}", f"{first[0]}{last}"]).lower()
        domain = rng.choice(["gmail.com", "hotmail.co.uk", "outlook.com", "telia.se", "yahoo.com"])
        if rng.random() < 0.5:
            add("en", rng.choice(["My email is {}.", "You can email me at {}."]), "EMAIL", f"{local}@{domain}",
                "written", "e-mail, written", local)
        else:
            spoken = local.replace(".", " dot ") + " at " + domain.replace(".", " dot ")
            add("en", rng.choice(["My email is {}.", "You can email me at {}."]), "EMAIL", spoken, "spoken",
                "e-mail, spoken", local.split(".")[0])
        iban = gen.iban(rng)
        add("en", "My IBAN is {}.", "IBAN", f"{spelled(iban[:2], 'en')} {grouped(iban[2:])}", "numerals", "IBAN",
            iban[4:12])
        add("en", "The security code on the back is {}.", "CVV", *said(gen.cvv(rng), "en", rng), "CVV")
        e = gen.expiry(rng)
        add("en", "It expires {}.", "EXPIRY", rng.choice([f"{two_digits_en(int(e[:2]))} {two_digits_en(int(e[2:]))}",
                                                          f"{e[:2]} {e[2:]}"]), "words", "expiry")
        pc = gen.uk_postcode(rng)
        add("en", "The postcode is {}.", "POSTCODE", *rng.choice([(pc, "written"), (spelled(pc, "en"), "spelled")]),
            "UK postcode", pc.replace(" ", "").lower())
        spc = f"{rng.randrange(100, 999)} {rng.randrange(10, 99)}"
        add("sv", "Postnumret är {}.", "POSTCODE", *said(spc.replace(" ", ""), "sv", rng), "Swedish postcode")
        add("en", "I live at {}.", "ADDRESS", f"{en.building_number()} {en.street_name()}", "numerals",
            "en address (Faker's en_GB street names, US suffixes among them)")
        for lang, carrier in (("sv", "Jag bor på {}."), ("da", "Jeg bor på {}."), ("no", "Jeg bor i {}."),
                              ("fi", "Osoitteeni on {}."), ("de", "Ich wohne in der {}.")):
            add(lang, carrier, "ADDRESS", f"{streets[lang].street_name()} {rng.randrange(1, 80)}", "numerals",
                f"{lang} address (Faker's street names)")
        full = f"{en.first_name()} {en.last_name()}"
        add("en", rng.choice(["Hello, my name is {}.", "Hi, this is {} speaking."]), "NAME", full, "introduced",
            "name, introduced", full.split()[0].lower())
        other = f"{en.first_name()} {en.last_name()}"
        add("en", rng.choice(["I spoke with {} yesterday.", "Could you ask {} to call me back?"]), "NAME", other,
            "known", "name, not introduced (in the detector's list by construction)", other.split()[0].lower())
        user = rng.choice([f"{en.first_name().lower()}{rng.randrange(1, 999)}", f"{en.user_name()}"])
        add("en", "My username is {}.", "USERNAME", user, "written", "username", user)
    return out


# ---- scoring ------------------------------------------------------------------------------------

@dataclass
class Tally:
    tp: int = 0
    fn: int = 0
    fp: int = 0

    def row(self) -> dict:
        found = self.tp + self.fp
        return {"tp": self.tp, "fn": self.fn, "fp": self.fp,
                "recall": round(self.tp / (self.tp + self.fn), 4) if self.tp + self.fn else None,
                "precision": round(self.tp / found, 4) if found else None}


@dataclass
class _W:
    word: str
    start: float
    end: float


@dataclass
class _U:
    speaker: str
    words: list = field(default_factory=list)


def utterances_of(texts: list[str]) -> list[_U]:
    """Texts as utterances of alternating speakers, 0.35 s a word and 1 s between turns."""
    out, t = [], 0.0
    for i, text in enumerate(texts):
        u = _U("AB"[i % 2])
        for w in text.split():
            u.words.append(_W(" " + w, t, t + 0.3))
            t += 0.35
        out.append(u)
        t += 1.0
    return out


def score_text(samples: list[Sample]) -> tuple[dict, dict, list, list, dict]:
    """Per kind recall and precision; negatives taken for a kind; misses; false alarms; and what
    became of the negatives the detector redacts on purpose (``by_context``)."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    negatives: Counter = Counter()
    on_purpose: Counter = Counter()
    misses, false_alarms = [], []
    for s in samples:
        found = detect(utterances_of([s.text]), s.language)
        if s.by_context:
            on_purpose[(s.note, "/".join(sorted({f"{f.kind}:{f.subtype}" for f in found})) or "nothing")] += 1
            continue
        want = s.entity_words() if s.kind else set()
        hit = False
        for f in found:
            words = {w for _, w in f.words}
            if s.kind == f.kind and words & want:
                if not hit:
                    tallies[f.kind].tp += 1
                hit = True
            else:
                tallies[f.kind].fp += 1
                false_alarms.append((f.kind, s.language, s.text))
                if s.kind is None:
                    negatives[(s.note, f.kind)] += 1
        if s.kind and not hit:
            tallies[s.kind].fn += 1
            misses.append((s.kind, s.language, s.text))
    return ({k: t.row() for k, t in sorted(tallies.items())}, {f"{n} -> {k}": c for (n, k), c in negatives.items()},
            misses, false_alarms, {f"{n} -> {k}": c for (n, k), c in on_purpose.items()})


def detokenise(text: str) -> str:
    """DailyDialog's tokenised text as an ASR writes it: "Mr . Brown , hi !" -> "Mr. Brown, hi!"."""
    text = re.sub(r" ([.,!?;:%])", r"\1", text)
    text = re.sub(r" ?([’']) ?", r"\1", text)
    return re.sub(r"\$ (\d)", r"$\1", text)


def real_transcripts() -> dict[str, list[str]]:
    """The annotated transcripts: "call01" and "dailydialog/<index>", each a list of utterances."""
    out = {"call01": [line.split("\t")[3] for line in
                      (DATA / "audio" / "callytics" / "Call01.turns.tsv").read_text(encoding="utf-8").splitlines()[1:]]}
    lines = (DATA / "text" / "dailydialog" / "dialogues_text_En.txt").read_text(encoding="utf-8").splitlines()
    first = random.Random(12).sample(range(len(lines)), 40)
    pool = [i for i, line in enumerate(lines) if re.search(r"\d|@", line) and i not in set(first)]
    for i in first + random.Random(13).sample(pool, 30):
        out[f"dailydialog/{i}"] = [detokenise(u.strip()) for u in lines[i].split("__eou__") if u.strip()]
    return out


def score_real() -> tuple[dict, list, list, int]:
    items = json.loads(ANNOTATIONS.read_text(encoding="utf-8"))["items"]
    transcripts = real_transcripts()
    labels: dict[str, list[tuple[str, int, set[int]]]] = defaultdict(list)
    for it in items:
        key = "call01" if it["source"] == "call01" else f"dailydialog/{it['dialogue']}"
        labels[key].append((it["kind"], it["utterance"], _words_of(transcripts[key][it["utterance"]], it["text"],
                                                                   it.get("nth", 0))))
    tallies: dict[str, Tally] = defaultdict(Tally)
    misses, false_alarms, n_utt = [], [], 0
    for key, texts in transcripts.items():
        n_utt += len(texts)
        found = detect(utterances_of(texts), "en")
        used = set()
        for kind, ui, words in labels.get(key, []):
            hit = next((k for k, f in enumerate(found) if f.kind == kind and any(u == ui and w in words for u, w in f.words)), None)
            if hit is None:
                tallies[kind].fn += 1
                misses.append((kind, key, " ".join(texts[ui].split()[min(words):max(words) + 1])))
            else:
                tallies[kind].tp += 1
                used.add(hit)
        for k, f in enumerate(found):
            if k in used:
                continue
            covered_label = any(f.kind == kind and any(u == ui and w in words for u, w in f.words)
                                for kind, ui, words in labels.get(key, []))
            if not covered_label:  # a second finding on a labelled entity (a name's mention) is not a false alarm
                tallies[f.kind].fp += 1
                false_alarms.append((f.kind, key, " ".join(texts[u].split()[w] for u, w in f.words)))
    return {k: t.row() for k, t in sorted(tallies.items())}, misses, false_alarms, n_utt


# ---- audio --------------------------------------------------------------------------------------

def synthesise(sample: Sample, path: Path, rng: random.Random, rate: int) -> None:
    """``sample.text`` spoken by espeak-ng in the sample's language (130 words a minute, 60 ms
    between words), written at ``rate`` Hz: 8000 as on a phone line, 16000 as in a VoIP call."""
    import soundfile as sf
    import soxr

    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", VOICES[sample.language], "-s", str(rng.choice([120, 130, 140])), "-g", "6",
                    "-w", str(raw), sample.text], check=True, capture_output=True)
    audio, source_rate = sf.read(raw, dtype="float32")
    audio = soxr.resample(audio, source_rate, rate)
    pad = np.zeros(rate // 2, dtype=np.float32)
    sf.write(path, np.concatenate([pad, audio, pad]), rate, subtype="PCM_16")
    raw.unlink()


def leaked(sample: Sample, text: str) -> bool:
    """Whether any part of the sample's secret is still in the redacted ``text``: four digits in
    a row of a numeric secret (number words read as digits), or a secret word."""
    if not sample.secret:
        return False
    if sample.secret.isdigit():
        reader = NumberReader(sample.language)
        digits = "".join((n.value if (n := reader.read(w)) and n.kind != "repeat" else " ") for w in text.split())
        digits = re.sub(r" ", "", digits)
        return any(sample.secret[i:i + 4] in digits for i in range(len(sample.secret) - 3))
    return sample.secret.lower() in text.lower().replace(" ", "")


def score_audio(samples: list[Sample], per_kind: int, rate: int, seed: int = 12) -> tuple[dict, dict, list, float]:
    from callscope.analysis.pipeline import AnalysisSettings, Analyzer
    from callscope.transcription.engine import AsrSettings

    rng = random.Random(seed)
    spoken = [s for s in samples if not s.by_context and not (  # espeak reads "4539 1488" as thousands: no one says a card so
        s.form == "numerals" and s.kind in (None, "CARD", "NATIONAL_ID", "PHONE", "IBAN", "CVV", "POSTCODE"))]
    by_group: dict[tuple, list[Sample]] = defaultdict(list)
    for s in spoken:
        by_group[(s.kind, s.language, s.note)].append(s)
    chosen = [s for group in by_group.values() for s in group[:per_kind]]
    analyzers: dict[str, Analyzer] = {}
    tallies: dict[str, Tally] = defaultdict(Tally)
    leaks: Counter = Counter()
    rows, t0 = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, s in enumerate(chosen):
            path = Path(tmp) / f"clip{i}.wav"
            synthesise(s, path, rng, rate)
            if s.language not in analyzers:
                analyzers[s.language] = Analyzer(AnalysisSettings(asr=AsrSettings(device="cpu", language=s.language),
                                                                  score=False))
            result = analyzers[s.language].analyze(path)
            kinds = {r.kind for r in result.redactions}
            text = " ".join(u.text for u in result.utterances)
            for k in kinds:  # per kind and language: the ASR, not the detector, differs most between languages
                if k == s.kind:
                    tallies[f"{k} {s.language}"].tp += 1
                else:
                    tallies[f"{k} {s.language}"].fp += 1
            if s.kind and s.kind not in kinds:
                tallies[f"{s.kind} {s.language}"].fn += 1
            leak = leaked(s, text) if s.kind else False
            if s.kind:
                leaks[f"{s.kind} {s.language}"] += leak
            rows.append({"language": s.language, "said": s.text, "kind": s.kind, "note": s.note,
                         "redacted": sorted(kinds), "transcript": text, "leak": leak})
            print(f"  [{i + 1}/{len(chosen)}] {s.language} {s.kind or '-':13} {sorted(kinds)} | {text[:90]}",
                  flush=True)
    return {k: t.row() for k, t in sorted(tallies.items())}, dict(leaks), rows, time.perf_counter() - t0


def _table(title: str, rows: dict) -> None:
    print(f"\n{title}\n{'kind':18} {'recall':>8} {'precision':>10} {'tp':>5} {'fn':>5} {'fp':>5}")
    for k, r in rows.items():
        rec = f"{100 * r['recall']:.1f}%" if r["recall"] is not None else "-"
        pre = f"{100 * r['precision']:.1f}%" if r["precision"] is not None else "-"
        print(f"{k:18} {rec:>8} {pre:>10} {r['tp']:>5} {r['fn']:>5} {r['fp']:>5}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-kind", type=int, default=40, help="template samples per kind and language (default 40)")
    ap.add_argument("--audio-per-kind", type=int, default=6, help="spoken clips per kind, language and note (default 6)")
    ap.add_argument("--no-audio", action="store_true", help="text only (no espeak-ng, no ASR)")
    args = ap.parse_args()
    samples = templates(args.per_kind)
    text_rows, negatives, misses, text_false, on_purpose = score_text(samples)
    _table(f"Templates, text ({len(samples)} sentences, {DETECT_VERSION})", text_rows)
    print("negatives taken for something:", negatives or "none")
    print("failing a checksum but said as a card or ID number (redacted on purpose):", on_purpose)
    for m in misses[:20]:
        print("  missed:", m)
    for m in text_false[:20]:
        print("  false alarm:", m)
    real_rows, real_misses, false_alarms, n_utt = score_real()
    _table(f"Real transcripts annotated by hand ({n_utt} utterances)", real_rows)
    for m in real_misses:
        print("  missed:", m)
    for m in false_alarms:
        print("  false alarm:", m)
    out = {"detector": DETECT_VERSION, "templates_text": {"n": len(samples), "per_kind": text_rows,
                                                          "negatives_taken": negatives, "misses": misses,
                                                          "false_alarms": text_false, "said_as_one": on_purpose},
           "real_transcripts": {"utterances": n_utt, "per_kind": real_rows, "misses": real_misses,
                                "false_alarms": false_alarms}}
    if not args.no_audio:
        if shutil.which("espeak-ng") is None:
            sys.exit("espeak-ng is missing: apt-get install espeak-ng (or run with --no-audio)")
        for rate in (16000, 8000):
            audio_rows, leaks, clips, seconds = score_audio(samples, args.audio_per_kind, rate)
            _table(f"Templates, audio through the pipeline ({len(clips)} espeak-ng clips at {rate // 1000} kHz, "
                   f"{seconds:.0f} s)", audio_rows)
            print("clips whose identifier is partly readable after redaction:",
                  {k: f"{v}/{n}" for k, v in leaks.items() if (n := sum(1 for r in clips if f"{r['kind']} {r['language']}" == k))})
            out[f"templates_audio_{rate // 1000}k"] = {"clips": len(clips), "per_kind": audio_rows, "leaks": leaks,
                                                      "rows": clips, "seconds": round(seconds, 1)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pii_eval.json").write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str) + "\n")
    print(f"\nwrote {RESULTS / 'pii_eval.json'}")


if __name__ == "__main__":
    main()
