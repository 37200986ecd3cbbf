"""What calls are about (issue 27): contact reasons, topics and surges on real labelled text,
reason and outcome on the shared real calls, and the cost per call.

Every label and where it comes from:

* banking77 (``../shared/data/text/banking77``; PolyAI-LDN/task-specific-datasets @ 57ec275d,
  CC BY 4.0, Casanueva et al. 2020): 77 intents of customers writing to a bank, labelled by the
  corpus's authors. The taxonomy is written from the intent names (``card_arrival`` → "card
  arrival") with five examples each drawn (seed 27) from the training split; scored on the test
  split (3,080 queries). Open set: half the intents (seeded) form the taxonomy, the other half
  must come out as ``other``; the threshold and the confidence's logistic coefficients are fitted
  on twenty further training queries per intent (``--fit`` prints them; the shipped constants in
  ``scoring/insight/reasons.py`` come from it), never on the test split.
* MultiDoGo (``benchmarks/data/multidogo``; awslabs/multi-domain-goal-oriented-dialogues-dataset @
  baa30639, CDLA-Permissive-1.0, Peskov et al. 2019): real human-to-human customer-service chats
  (crowd workers as customer and agent) in six domains; every customer turn labelled with its intent
  by the corpus's annotators. A conversation's reason is its first intent that is about something
  (greetings, confirmations, thanks, "content only" and "out of domain" are not); a taxonomy per
  domain written from the intent names with five train-split examples each (seed 27); each test
  conversation's customer turns scored as a chat interaction the service's way. The split has only
  the customer's turns, so outcomes cannot be scored on it; English only.
* Topics: HDBSCAN clusters of the test queries against their intents (adjusted Rand index,
  normalised mutual information). Surge: fourteen simulated days of 1,000 (and of 3,000) real
  queries each (train and test pooled, seeds 27-29), the mix of intents drawn as in the corpus;
  on day 10 one intent's share is tripled. Topics are discovered on days 0-6 and every day is assigned to
  them; a surge must be found on day 10 for that intent's topic and on no other day.
* Calls (``--calls``): Call01 (Callytics, GPL-3.0, tests only) analysed live; its reason and
  outcome were read by an engineer from its hand transcript (``Call01.turns.tsv``: the customer
  no longer gets notification e-mails in time; the agent resets the preferences; the customer
  thanks them for fixing it): technical_fault, resolved. Cost: insight time (reason, outcome,
  extractive summary, the utterance vectors and the codes search by meaning stores) against ASR time.

    .venv/bin/python benchmarks/insight.py [--fit] [--calls] [--out benchmarks/results/insight.json]

Embeddings are cached in ~/.cache/callscope/embeddings.
"""

from __future__ import annotations

import argparse
import csv
import re
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callscope.benchmarks.reference import AUDIO, DATA  # noqa: E402
from callscope.scoring.insight import reasons as R  # noqa: E402
from callscope.scoring.insight import topics as T  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path.home() / ".cache" / "callscope" / "embeddings"
SEED = 27
EXAMPLES = 5
FIT_PER_INTENT = 20


def _rows(name: str) -> list[tuple[str, str]]:
    with open(DATA / "text" / "banking77" / f"{name}.csv", newline="", encoding="utf-8") as f:
        return [(r["text"], re.sub(r"[^a-z0-9_]", "", r["category"].lower())) for r in csv.DictReader(f)]  # names as a rule set writes them


def _embed(encoder, texts: list[str]) -> np.ndarray:
    from callscope.scoring.train_sentiment import cached_embeddings

    return cached_embeddings(encoder, texts, CACHE)


def _taxonomy(intents: list[str], examples: dict[str, list[str]], encoder, with_examples: bool = True) -> R.EmbeddedTaxonomy:
    from callscope.scoring.rules.model import Reason

    reasons = [Reason(name=i, description=i.replace("_", " "), examples=examples[i] if with_examples else [])
               for i in intents]
    texts = [R.reason_texts(r) for r in reasons]
    flat = [t for ts in texts for t in ts]
    owner = np.array([k for k, ts in enumerate(texts) for _ in ts], dtype=np.int32)
    return R.EmbeddedTaxonomy(tuple(intents), _embed(encoder, flat), owner)


def _ece(conf: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |confidence - accuracy| averaged over confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    err = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        m = (conf >= a) & (conf < b if b < 1 else conf <= b)
        if m.any():
            err += m.mean() * abs(conf[m].mean() - right[m].mean())
    return round(float(err), 4)


def _fit_logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        return (5.0 if y.all() else -5.0,) + (0.0,) * x.shape[1]
    m = LogisticRegression(C=10.0).fit(x, y)
    return (round(float(m.intercept_[0]), 3), *(round(float(c), 3) for c in m.coef_[0]))


def reasons_on_banking77(encoder, fit: bool) -> dict:
    train, test = _rows("train"), _rows("test")
    intents = sorted({c for _, c in train})
    rng = np.random.default_rng(SEED)
    by_intent: dict[str, list[str]] = {}
    for t, c in train:
        by_intent.setdefault(c, []).append(t)
    examples, fit_rows = {}, []
    for i in intents:
        order = rng.permutation(len(by_intent[i]))
        examples[i] = [by_intent[i][k] for k in order[:EXAMPLES]]
        fit_rows += [(by_intent[i][k], i) for k in order[EXAMPLES:EXAMPLES + FIT_PER_INTENT]]
    x_test = _embed(encoder, [t for t, _ in test])
    y_test = np.array([c for _, c in test])
    out: dict = {"test_queries": len(test), "intents": len(intents), "examples_per_reason": EXAMPLES}
    for label, with_examples in (("names_only", False), ("names_and_5_examples", True)):
        tax = _taxonomy(intents, examples, encoder, with_examples)
        pred = np.array(tax.names)[tax.scores(x_test).argmax(axis=1)]
        out[f"closed_set_accuracy_{label}"] = round(float((pred == y_test).mean()), 4)
    # open set: half the intents known, the rest must be "other"
    known = sorted(rng.choice(intents, size=len(intents) // 2, replace=False).tolist())
    tax = _taxonomy(known, examples, encoder)
    x_fit = _embed(encoder, [t for t, _ in fit_rows])
    y_fit = np.array([c if c in known else R.OTHER for _, c in fit_rows])

    def features(x):
        s = tax.scores(x)
        srt = np.sort(s, axis=1)
        return np.array(tax.names)[s.argmax(axis=1)], srt[:, -1], srt[:, -1] - srt[:, -2]

    top_fit, best_fit, margin_fit = features(x_fit)
    if fit:
        grid = np.round(np.arange(0.80, 0.95, 0.0025), 4)
        acc = [float(np.mean(np.where(best_fit >= g, top_fit, R.OTHER) == y_fit)) for g in grid]
        threshold_fit = float(grid[int(np.argmax(acc))])
        chosen = best_fit >= threshold_fit
        reason_coef = _fit_logistic(np.c_[best_fit[chosen], margin_fit[chosen]], (top_fit == y_fit)[chosen])
        other_coef = _fit_logistic(np.c_[best_fit[~chosen], margin_fit[~chosen]], (y_fit == R.OTHER)[~chosen])
        print(f"fitted: threshold = {threshold_fit}  CONFIDENCE_COEF = {reason_coef}  OTHER_CONFIDENCE_COEF = {other_coef}")
    y_open = np.array([c if c in known else R.OTHER for c in y_test])
    if fit:
        top_test, best_test, _ = features(x_test)
        fitted_right = np.where(best_test >= threshold_fit, top_test, R.OTHER) == y_open
        out["fitted"] = {"threshold": threshold_fit, "confidence_coef": reason_coef, "other_confidence_coef": other_coef,
                         "fit_queries": len(fit_rows),
                         "open_set_accuracy_with_this_threshold": round(float(fitted_right.mean()), 4)}
    from callscope.scoring.insight.vectors import PrototypeCache

    threshold = R.null_threshold(tax, PrototypeCache(encoder))
    decisions = [R.decide(row, tax.names, threshold) for row in tax.scores(x_test)]
    pred = np.array([d.reason for d in decisions])
    conf = np.array([d.confidence for d in decisions])
    right = pred == y_open
    is_other = y_open == R.OTHER
    out["open_set"] = {
        "known_intents": len(known), "threshold_from_off_topic_talk": threshold,
        "accuracy": round(float(right.mean()), 4),
        "accuracy_on_known": round(float(right[~is_other].mean()), 4),
        "other_recall": round(float((pred[is_other] == R.OTHER).mean()), 4),
        "other_precision": round(float(is_other[pred == R.OTHER].mean()), 4) if (pred == R.OTHER).any() else None,
        "confidence_ece": _ece(conf, right), "mean_confidence": round(float(conf.mean()), 4),
    }
    return out


def topics_on_banking77(encoder) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    test = _rows("test")
    x = _embed(encoder, [t for t, _ in test])
    y = np.array([c for _, c in test])
    t0 = time.perf_counter()
    found = T.discover(x)
    seconds = time.perf_counter() - t0
    labels = found.labels
    clustered = labels >= 0
    names = T.top_terms([t for t, _ in test], labels)
    examples = {t: names[t] for t in list(names)[:5]}
    return {"queries": len(test), "topics": int(labels.max()) + 1, "noise_share": round(float((~clustered).mean()), 4),
            "ari_all": round(float(adjusted_rand_score(y, labels)), 4),
            "nmi_all": round(float(normalized_mutual_info_score(y, labels)), 4),
            "ari_clustered": round(float(adjusted_rand_score(y[clustered], labels[clustered])), 4),
            "nmi_clustered": round(float(normalized_mutual_info_score(y[clustered], labels[clustered])), 4),
            "seconds": round(seconds, 2), "top_terms_of_first_topics": examples}


def simulate_surge(x_all, y_all, days: int, per_day: int, surge_day: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    intents, freq = np.unique(y_all, return_counts=True)
    p = freq / freq.sum()
    surging = str(rng.choice(intents))
    picked = []
    for d in range(days):
        q = p.copy()
        if d == surge_day:
            k = int(np.flatnonzero(intents == surging)[0])
            q[k] *= 3
            q /= q.sum()
        day_intents = rng.choice(intents, size=per_day, p=q)
        picked.append([int(rng.choice(np.flatnonzero(y_all == i))) for i in day_intents])
    found = T.discover(x_all[np.concatenate(picked[:7])])
    counts = np.zeros((days, len(found.centres)))
    topic_intents: dict[int, Counter] = {}
    for d in range(days):
        for idx, t in zip(picked[d], T.assign(x_all[picked[d]], found.centres)):
            if t >= 0:
                counts[d, t] += 1
                topic_intents.setdefault(int(t), Counter())[y_all[idx]] += 1
    hits = T.surges(counts, np.full(days, float(per_day)), baseline_periods=7)
    main = {h.topic: topic_intents[h.topic].most_common(1)[0][0] for h in hits}
    right = [h for h in hits if h.period == surge_day and main[h.topic] == surging]
    return {"seed": seed, "per_day": per_day, "surging_intent": surging, "topics": len(found.centres),
            "detected_on_surge_day": bool(right),
            "false_surges": [{"day": h.period, "topic_main_intent": main[h.topic], "share": h.share,
                              "baseline": h.baseline} for h in hits if h not in right],
            "surges": [{"day": h.period, "share": h.share, "baseline": h.baseline, "count": h.count,
                        "topic_main_intent": main[h.topic]} for h in hits]}


def surge_on_banking77(encoder, days: int = 14, surge_day: int = 10) -> dict:
    """Three seeded simulations at 1,000 and at 3,000 queries a day (what the topics see depends
    on volume: a tripled 1 % intent is 20 more statements a day at 1,000)."""
    rows = _rows("train") + _rows("test")
    x_all = _embed(encoder, [t for t, _ in rows])
    y_all = np.array([c for _, c in rows])
    runs = [simulate_surge(x_all, y_all, days, per_day, surge_day, seed)
            for per_day in (1000, 3000) for seed in (SEED, SEED + 1, SEED + 2)]
    return {"days": days, "surge_day": surge_day, "runs": runs,
            "detected": {str(n): sum(r["detected_on_surge_day"] for r in runs if r["per_day"] == n) for n in (1000, 3000)},
            "false_surges": {str(n): sum(len(r["false_surges"]) for r in runs if r["per_day"] == n) for n in (1000, 3000)}}


#: MultiDoGo's intent names written out as a deployment would describe its reasons (from the
#: names only; the examples come from the train split: benchmarks/multidogo_prepare.py).
MULTIDOGO_REASONS = {
    "airline": {"bookflight": "book a flight", "changeseatassignment": "change my seat assignment",
                "getboardingpass": "get my boarding pass", "getseatinfo": "information about my seat"},
    "fastfood": {"orderbreakfastintent": "order breakfast", "orderburgerintent": "order a burger", "orderdessertintent": "order a dessert",
                 "orderdrinkintent": "order a drink", "orderpizzaintent": "order a pizza",
                 "ordersaladintent": "order a salad", "ordersideintent": "order a side dish"},
    "finance": {"checkbalance": "check my account balance", "checkoffereligibility": "check if I am eligible for an offer",
                "closeaccount": "close my account", "getroutingnumber": "get my routing number", "orderchecks": "order checks",
                "disputecharge": "dispute a charge", "reportlostcard": "report a lost card",
                "replacecard": "replace my card", "transfermoney": "transfer money", "updateaddress": "update my address"},
    "insurance": {"checkclaimstatus": "check the status of my claim", "getproofofinsurance": "get proof of insurance",
                  "reportbrokenphone": "report a broken phone"},
    "media": {"cancelserviceintent": "cancel my service", "getchannelpackageintent": "get a channel package",
              "getinformationintent": "get information about a service", "startserviceintent": "start a service",
              "updateaccountinfo": "update my account information", "viewdatausageintent": "view my data usage",
              "transferserviceintent": "transfer my service", "upgradeserviceintent": "upgrade my service",
              "viewbillsintent": "view my bills"},
    "software": {"changeorder": "change an order", "checkserverstatus": "check the server status",
                 "expensereport": "file an expense report", "getpromotions": "get promotions", "providereceipt": "provide a receipt",
                 "reportbrokensoftware": "report broken software",
                 "softwareupdate": "update software", "startorder": "start an order", "stoporder": "stop an order"},
}
MULTIDOGO = Path(__file__).resolve().parent / "data" / "multidogo"


class _CachedEncoder:
    """The shared encoder with the benchmark's embedding cache in front (same vectors)."""

    def __init__(self, encoder) -> None:
        self.encoder, self.name = encoder, encoder.name

    def encode(self, texts: list[str]) -> np.ndarray:
        return _embed(self.encoder, list(texts))


def reasons_on_multidogo(encoder, domains: tuple[str, ...] = tuple(MULTIDOGO_REASONS)) -> dict:
    """Contact reasons of real customer-service chats (MultiDoGo test split), found the product's
    way: each conversation's customer turns become a chat interaction (redaction and language
    detection as in the service), the problem statement is found among them and matched to the
    domain's taxonomy (:data:`MULTIDOGO_REASONS` + five train examples each). The label is the
    first intent of the conversation that is about something (greetings, confirmations, "content
    only" and "out of domain" turns say nothing of the reason); a conversation whose customer
    turns carry no such intent has no label and is counted apart."""
    import gzip

    from callscope.analysis.pipeline import build_analysis_settings
    from callscope.analysis.text_pipeline import TextMessage, analyze_threads
    from callscope.benchmarks.multidogo_prepare import GENERIC
    from callscope.scoring.insight.insight import InsightReader
    from callscope.scoring.rules import load_rules, starter_text
    from callscope.scoring.rules.model import Reason

    examples = json.loads((MULTIDOGO / "examples.json").read_text())
    with gzip.open(MULTIDOGO / "test.jsonl.gz", "rt", encoding="utf-8") as f:
        convs = [json.loads(line) for line in f if line.strip()]
    reader = InsightReader(_CachedEncoder(encoder))
    starter = load_rules(starter_text())
    settings = build_analysis_settings(score=False)  # language detected per chat, as the service does
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    missing = {d: sorted(set(examples[d]) - set(MULTIDOGO_REASONS[d])) for d in domains}
    assert not any(missing.values()), f"intents without a description: {missing}"
    out: dict = {"conversations": len(convs), "domains": {}}
    all_right, all_any, all_conf, all_first = [], [], [], []
    for domain in domains:
        described = MULTIDOGO_REASONS[domain]
        rules = starter.model_copy(update={"reasons": [
            Reason(name=i, description=d, examples=examples[domain].get(i, [])) for i, d in described.items()]})
        mine = [c for c in convs if c["domain"] == domain]
        labelled = [c for c in mine if any(i not in GENERIC for _, ii in c["turns"] for i in ii)]
        threads = [(settings, [TextMessage("customer", t0 + timedelta(seconds=30 * k), text)
                               for k, (text, _) in enumerate(c["turns"])], "chat", c["id"]) for c in labelled]
        right, any_right, conf, others, statement_hit, first_hit, mapped = [], [], [], 0, 0, 0, 0
        for c, call in zip(labelled, analyze_threads(None, threads)):
            intents = [i for _, ii in c["turns"] for i in ii if i not in GENERIC]
            ins = reader.read(call, rules)
            got = ins.reason.reason if ins.reason else R.OTHER
            others += got == R.OTHER
            right.append(got == intents[0])
            any_right.append(got in intents)
            conf.append(ins.reason.confidence if ins.reason else 0.0)
            if len(call.utterances) == len(c["turns"]) and ins.problem is not None:  # turns map one to one
                mapped += 1
                about = [any(i not in GENERIC for i in ii) for _, ii in c["turns"]]
                statement_hit += any(about[u] for u in ins.problem.utterances)
                first = next((k for k, (text, _) in enumerate(c["turns"]) if len(text.split()) >= 4), 0)
                first_hit += about[first]
        r, a = np.array(right), np.array(any_right)
        out["domains"][domain] = {
            "reasons": len(described), "conversations": len(mine), "labelled": len(labelled),
            "accuracy_first_intent": round(float(r.mean()), 4), "accuracy_any_intent": round(float(a.mean()), 4),
            "other_share": round(others / len(labelled), 4),
            "problem_statement_on_a_reason_turn": round(statement_hit / max(mapped, 1), 4),
            "first_customer_line_on_a_reason_turn": round(first_hit / max(mapped, 1), 4),
            "mapped_turns": mapped, "confidence_ece": _ece(np.array(conf), r)}
        all_right += right
        all_any += any_right
        all_conf += conf
        all_first.append((statement_hit, first_hit, mapped))
        d = out["domains"][domain]
        print(f"multidogo {domain}: {d['labelled']} chats, {d['reasons']} reasons: first intent {d['accuracy_first_intent']:.1%}, "
              f"any intent {d['accuracy_any_intent']:.1%}, other {d['other_share']:.1%}; statement on a reason turn "
              f"{d['problem_statement_on_a_reason_turn']:.1%} (first line {d['first_customer_line_on_a_reason_turn']:.1%})",
              flush=True)
    hits, firsts, mapped = (sum(x[k] for x in all_first) for k in range(3))
    out["all"] = {"labelled": len(all_right), "accuracy_first_intent": round(float(np.mean(all_right)), 4),
                  "accuracy_any_intent": round(float(np.mean(all_any)), 4),
                  "problem_statement_on_a_reason_turn": round(hits / max(mapped, 1), 4),
                  "first_customer_line_on_a_reason_turn": round(firsts / max(mapped, 1), 4),
                  "confidence_ece": _ece(np.array(all_conf), np.array(all_right))}
    return out


def calls(encoder) -> dict:
    from callscope.analysis.pipeline import AnalysisSettings, Analyzer
    from callscope.scoring.insight.insight import InsightReader
    from callscope.scoring.rules import load_rules, starter_text
    from callscope.transcription.engine import AsrSettings

    result = Analyzer(AnalysisSettings(asr=AsrSettings(device="cpu"))).analyze(AUDIO / "callytics" / "Call01.wav")
    reader = InsightReader(encoder)
    rules = load_rules(starter_text())
    reader.read(result, rules)  # prototypes embedded once per process
    from callscope.scoring.insight import search_codes

    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        ins = reader.read(result, rules)  # the utterances' vectors (search by meaning reuses them) included
        search_codes.codes(ins.utterance_vectors)  # what search by meaning stores beside them
        search_codes.pack_vectors(ins.utterance_vectors)
        times.append(time.perf_counter() - t0)
    seconds = float(np.median(times))
    return {"call01": {"reason": ins.reason.reason if ins.reason else None, "reason_expected": "technical_fault",
                       "outcome": ins.outcome.outcome, "outcome_expected": "resolved",
                       "summary": [f"{l.part} {l.role} {l.start:.0f} s: {l.text}" for l in ins.summary],
                       "insight_s": round(seconds, 3), "asr_s": result.timings_s.asr,
                       "share_of_asr": round(seconds / result.timings_s.asr, 4)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", action="store_true", help="fit the reason threshold and confidence (print them)")
    parser.add_argument("--calls", action="store_true", help="also analyse Call01 live (reason, outcome, cost)")
    parser.add_argument("--out", type=Path, default=RESULTS / "insight.json")
    args = parser.parse_args()
    from callscope.scoring.insight.vectors import shared_encoder

    encoder = shared_encoder()
    out: dict = {"benchmark": "insight", "date": time.strftime("%Y-%m-%d"), "encoder": encoder.name}
    out["reasons_banking77"] = reasons_on_banking77(encoder, args.fit)
    r = out["reasons_banking77"]
    print(f"banking77 reasons: closed set {r['closed_set_accuracy_names_and_5_examples']:.1%} "
          f"(names only {r['closed_set_accuracy_names_only']:.1%}); open set {r['open_set']['accuracy']:.1%}, "
          f"other recall {r['open_set']['other_recall']:.1%}, ECE {r['open_set']['confidence_ece']}", flush=True)
    out["topics_banking77"] = t = topics_on_banking77(encoder)
    print(f"banking77 topics: {t['topics']} topics, noise {t['noise_share']:.0%}, ARI {t['ari_all']} NMI {t['nmi_all']} "
          f"(clustered only: {t['ari_clustered']} / {t['nmi_clustered']}), {t['seconds']} s", flush=True)
    out["reasons_multidogo"] = m = reasons_on_multidogo(encoder)
    print(f"multidogo, all domains: {m['all']['labelled']} chats, first intent {m['all']['accuracy_first_intent']:.1%}, "
          f"any intent {m['all']['accuracy_any_intent']:.1%}, ECE {m['all']['confidence_ece']}", flush=True)
    out["surge_banking77"] = s = surge_on_banking77(encoder)
    print(f"surge on day {s['surge_day']}: detected in {s['detected']} of 3 runs per daily volume, "
          f"false surges {s['false_surges']}", flush=True)
    if args.calls:
        out["calls"] = c = calls(encoder)
        print(json.dumps(c, indent=1, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
