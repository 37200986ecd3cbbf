"""Everyday talk is neutral, facts are not complaints (issue 30, items 1 and 2): the sentiment
head before and after the neutral gate, in one table.

Both heads score the same embeddings (multilingual-e5-small, the product's encoder); "before" is
the head file of another commit (``--before``, default 3ab4859: the last head without a gate),
"after" this checkout's ``scoring/models/sentiment_head.npz``. Labels are 3-class with the
product's neutral band (|score| < 0.125 is neutral). No set below was used to train the gate or
to choose anything about it (GoEmotions' train split trained it, its dev split chose C):

* conversation, 3-class macro-F1 and the recall of neutral lines:
  MELD dev and train (TV dialogue, the corpus's own negative/neutral/positive labels;
  evaluation only), DailyDialog, 600 dialogues drawn with seed 0 (everyday dialogues; emotion
  labels turned into sentiment: happiness positive, anger/disgust/fear/sadness negative,
  surprise left out; evaluation only), GoEmotions' test split (Reddit comments; the gate's own
  corpus, so in-domain: neutral only vs positive-only / negative-only comments); and 800 English
  and 800 Finnish movie-subtitle lines XED's annotators labelled neutral (CC BY 4.0,
  ``benchmarks/xed_prepare.py``; only the neutral recall: the Finnish polar lines are fi_xed);
* polarity, accuracy of the sign on polar sentences and the share of them the band now calls
  neutral: vader's held-out 10 % fold (tweets, Amazon and movie snippets, |rating| ≥ 0.5: the
  fold the head's calibration is checked on, never trained on) and the Danish, Norwegian and
  Finnish sets (heads trained on English only);
* facts: banking77's test queries (real customer messages to a bank, human intent labels). An
  informational or procedural intent ("how long does a card take to arrive", "which currencies",
  "what is the fee") says nothing about the customer's situation: scoring it negative is a
  false complaint. A problem intent (a declined payment, a card charged twice, a lost card)
  is the customer's bad situation: scoring it negative is right. Which intent is which is the
  rule in :data:`INFORMATIONAL` and :data:`PROBLEM` (written from the intent names; the rest,
  e.g. refunds requested or transfers pending, are in neither).
  And MultiDoGo's customer-service chats (awslabs, CDLA-Permissive-1.0, the test split prepared by
  ``benchmarks/multidogo_prepare.py``; evaluation only): customer turns its annotators labelled
  ``contentonly``, the customer giving what was asked for (a name, a booking code, an address, an
  amount, a date), are facts; turns labelled as reporting a fault (a broken phone, broken
  software, a lost card, a disputed charge) are problem statements.

    .venv/bin/python benchmarks/neutral.py [--before REF] [--out benchmarks/results/neutral.json]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import DATA  # noqa: E402
from benchmarks.sentiment import CACHE, MULTILINGUAL, dialogue_sets, multilingual_set, vader_polar  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MULTIDOGO = ROOT / "benchmarks" / "data" / "multidogo"
MULTIDOGO_PROBLEMS = frozenset({"reportbrokenphone", "reportbrokensoftware", "reportlostcard", "disputecharge"})
RESULTS = ROOT / "benchmarks" / "results"
BAND = 0.125
INFORMATIONAL = frozenset(
    "exchange_rate fiat_currency_support card_delivery_estimate automatic_top_up exchange_via_app age_limit "
    "top_up_by_bank_transfer_charge top_up_limits supported_cards_and_currencies getting_virtual_card card_acceptance "
    "edit_personal_details why_verify_identity get_physical_card visa_or_mastercard topping_up_by_card "
    "disposable_card_limits atm_support transfer_timing change_pin receiving_money transfer_into_account "
    "getting_spare_card top_up_by_cash_or_cheque order_physical_card get_disposable_virtual_card exchange_charge "
    "top_up_by_card_charge activate_my_card cash_withdrawal_charge card_about_to_expire apple_pay_or_google_pay "
    "verify_my_identity country_support card_linking verify_source_of_funds".split())
PROBLEM = frozenset(
    "card_not_working lost_or_stolen_card pin_blocked contactless_not_working wrong_amount_of_cash_received "
    "transfer_not_received_by_recipient top_up_reverted card_payment_not_recognised unable_to_verify_identity "
    "compromised_card direct_debit_payment_not_recognised declined_cash_withdrawal lost_or_stolen_phone "
    "declined_transfer Refund_not_showing_up declined_card_payment card_swallowed transaction_charged_twice "
    "failed_transfer virtual_card_not_working wrong_exchange_rate_for_cash_withdrawal top_up_failed "
    "cash_withdrawal_not_recognised card_payment_wrong_exchange_rate extra_charge_on_statement "
    "balance_not_updated_after_cheque_or_cash_deposit balance_not_updated_after_bank_transfer "
    "beneficiary_not_allowed".split())


def band(scores: np.ndarray) -> np.ndarray:
    return np.where(scores >= BAND, "positive", np.where(scores <= -BAND, "negative", "neutral"))


def head_at(ref: str, tmp: Path) -> Path:
    out = tmp / "before.npz"
    out.write_bytes(subprocess.run(["git", "show", f"{ref}:scoring/models/sentiment_head.npz"], cwd=ROOT,
                                   capture_output=True, check=True).stdout)
    return out


def sets() -> dict:
    """name → (kind, texts, gold, language) for every set in the module doc."""
    from callscope.scoring.train_sentiment import GOEMOTIONS, XED

    out: dict = {}
    dialogues = dialogue_sets()
    out["MELD dev"] = ("conversation", dialogues["meld_dev"][0], dialogues["meld_dev"][2], "en")
    with open(DATA / "text" / "meld" / "train_sent_emo.csv", newline="", encoding="utf-8") as f:
        meld = list(csv.DictReader(f))
    out["MELD train"] = ("conversation", [r["Utterance"].replace("\x92", "'").replace("’", "'") for r in meld],
                         [r["Sentiment"] for r in meld], "en")
    out["DailyDialog 600"] = ("conversation", dialogues["dailydialog_600"][0], dialogues["dailydialog_600"][2], "en")
    go = []
    with gzip.open(GOEMOTIONS / "test.tsv.gz", "rt", encoding="utf-8") as f:
        for line in f:
            text, _e, groups = line.rstrip("\n").split("\t")
            if groups in ("neutral", "positive", "negative"):
                go.append((text, groups))
    out["GoEmotions test (in-domain)"] = ("conversation", [t for t, _ in go], [g for _, g in go], "en")
    for lang in ("en", "fi"):
        with gzip.open(XED / f"neutral_{lang}.tsv.gz", "rt", encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
        out[f"XED neutral subtitles {lang}"] = ("conversation", lines, ["neutral"] * len(lines), lang)
    texts, ratings = vader_polar("test")
    out["vader held-out fold"] = ("polarity", texts, ["positive" if r > 0 else "negative" for r in ratings], "en")
    for name in MULTILINGUAL:
        texts, labels = multilingual_set(name)
        out[name] = ("polarity", texts, ["positive" if k == 1 else "negative" for k in labels], name[:2])
    with open(DATA / "text" / "banking77" / "test.csv", newline="", encoding="utf-8") as f:
        bank = list(csv.DictReader(f))
    out["banking77 informational"] = ("facts", [r["text"] for r in bank if r["category"] in INFORMATIONAL],
                                      ["neutral"] * sum(r["category"] in INFORMATIONAL for r in bank), "en")
    out["banking77 problems"] = ("problems", [r["text"] for r in bank if r["category"] in PROBLEM],
                                 ["negative"] * sum(r["category"] in PROBLEM for r in bank), "en")
    turns = []
    with gzip.open(MULTIDOGO / "test.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            turns += [(text, set(intents)) for text, intents in json.loads(line)["turns"]]
    facts = [t for t, intents in turns if intents == {"contentonly"}]
    problems = [t for t, intents in turns if intents and intents <= MULTIDOGO_PROBLEMS]
    out["MultiDoGo content-only turns"] = ("facts", facts, ["neutral"] * len(facts), "en")
    out["MultiDoGo fault reports"] = ("problems", problems, ["negative"] * len(problems), "en")
    return out


def measure(kind: str, gold: list[str], scores: np.ndarray) -> dict:
    from sklearn.metrics import f1_score

    pred, g = band(scores), np.array(gold)
    if kind == "conversation" and set(gold) == {"neutral"}:
        return {"neutral_recall": round(float(np.mean(pred == "neutral")), 4)}
    if kind == "conversation":
        return {"macro_f1": round(float(f1_score(g, pred, average="macro")), 4),
                "neutral_recall": round(float(np.mean(pred[g == "neutral"] == "neutral")), 4),
                "polar_recall": round(float(np.mean(pred[g != "neutral"] == g[g != "neutral"])), 4)}
    if kind == "polarity":
        return {"sign_accuracy": round(float(np.mean(np.where(scores > 0, "positive", "negative") == g)), 4),
                "band_accuracy": round(float(np.mean(pred == g)), 4),
                "called_neutral": round(float(np.mean(pred == "neutral")), 4)}
    return {"negative": round(float(np.mean(pred == "negative")), 4), "neutral": round(float(np.mean(pred == "neutral")), 4)}


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="3ab4859")
    parser.add_argument("--out", type=Path, default=RESULTS / "neutral.json")
    args = parser.parse_args()

    from callscope.scoring.sentiment import HEAD_PATH, Heads
    from callscope.scoring.text_encoder import TextEncoder
    from callscope.scoring.train_sentiment import cached_embeddings

    with tempfile.TemporaryDirectory() as tmp:
        before, before_version, _ = Heads.load(head_at(args.before, Path(tmp)))
    after, after_version, _ = Heads.load(HEAD_PATH)
    encoder = TextEncoder()
    rows = []
    for name, (kind, texts, gold, language) in sets().items():
        x = cached_embeddings(encoder, texts, CACHE)
        rows.append({"set": name, "kind": kind, "language": language, "n": len(texts),
                     "before": measure(kind, gold, before.score(x, language)),
                     "after": measure(kind, gold, after.score(x, language))})
    print(f"\nbefore: {before_version}\nafter:  {after_version}\n")
    print(f"{'set':30} {'n':>6}  {'measure':34} {'before':>8} {'after':>8}")
    labels = {"macro_f1": "3-class macro-F1", "neutral_recall": "neutral lines called neutral",
              "polar_recall": "polar lines, right sign", "sign_accuracy": "sign accuracy",
              "band_accuracy": "right band (neutral counts wrong)", "called_neutral": "polar sentences called neutral",
              "negative": "scored negative", "neutral": "scored neutral"}
    for r in rows:
        for i, key in enumerate(r["before"]):
            print(f"{r['set'] if i == 0 else '':30} {r['n'] if i == 0 else '':>6}  {labels[key]:34} "
                  f"{r['before'][key]:>8.3f} {r['after'][key]:>8.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "neutral", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "before": before_version, "after": after_version, "neutral_band": BAND,
                                    "informational_intents": sorted(INFORMATIONAL), "problem_intents": sorted(PROBLEM),
                                    "rows": rows}, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
