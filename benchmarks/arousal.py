"""Arousal as the product outputs it for short recordings: Berlin EmoDB analysed one clip per
file (issue 15, item 5; issue 30, item 4: arousal that spreads).

Each clip is a separate recording with one speaker and (usually) one utterance, so the speaker
has no baseline of their own. The deployment says a lone speaker is a customer
(``lone_speaker_role="customer"``), so acoustics are allowed. One analyser takes the clips one
after another in file order, as one deployment would take its calls: the first 20 speakers are
measured against the shipped prior (``scoring/models/arousal_prior.json``, fitted on other
recordings by ``scoring/fit_arousal_prior.py``), later ones against the deployment's own
population (:mod:`callscope.scoring.population_baseline`; no label is used to build it). "Before"
is the same clips' utterance features measured against the shipped prior alone (what
``arousal_population=False`` gives, and what every release before it gave); "after" is the
product's output. A clip's arousal is the duration-weighted mean of its utterances'.

Reference: EmoDB's ``arousal_class`` convention (anger/fear/happiness high, sadness/boredom low;
neutral and disgust left out of the AUC, still analysed as any call would be). Measures: ROC AUC
of arousal, high vs low, over all shared clips (speakers 03 and 08) and per speaker; the share
of clips at or above the high-arousal threshold (0.35) per emotion; the emotion label shares.
The shared calls' label shares come from the analyses ``benchmarks/call_levels.py`` caches, before
as cached and after re-scored by this checkout's sentiment head: their customers have baselines of
their own (arousal unchanged) and nine calls never reach a population of 20.
The other protocol, "speaker-normalised": features of whole clips z-scored against the same
speaker's other clips, is ``benchmarks/features.py``.

    .venv/bin/python benchmarks/arousal.py [--out benchmarks/results/arousal.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CALL_CACHE = Path.home() / ".cache" / "callscope" / "call_levels"


def _weighted(pairs: list[tuple[float, float]]) -> float | None:
    total = sum(d for _, d in pairs)
    return sum(a * d for a, d in pairs) / total if pairs and total > 0 else None


def _shares(labels: list[str]) -> dict[str, float]:
    n = len(labels)
    return {k: round(v / n, 3) for k, v in sorted(Counter(labels).items())} if n else {}


def before_scores(r, narrowband: bool) -> tuple[list[float | None], list[str | None]]:
    """Each utterance's arousal and label against the shipped prior alone (the lone speaker's
    features as the product measured them)."""
    from callscope.scoring.arousal_prior import load_prior
    from callscope.scoring.emotion import EmotionThresholds, arousal_from_z, classify
    from callscope.scoring.utterance_scores import speaker_z_scores

    z, _ = speaker_z_scores([u.features for u in r.utterances], load_prior(narrowband))
    arousal = [arousal_from_z(zi) if u.features.loudness_dbfs is not None else None for u, zi in zip(r.utterances, z)]
    labels = [classify(u.sentiment.score, u.sentiment.confidence, a, u.text, u.features.pause_max_s or 0.0,
                       EmotionThresholds()).label if u.sentiment else None for u, a in zip(r.utterances, arousal)]
    return arousal, labels


def call_shares() -> dict:
    """Customer label shares and the share at high arousal on the shared calls: "before" as the
    cached analyses hold them (made by ``benchmarks/call_levels.py`` with the code of their day),
    "after" re-scored by this checkout's sentiment head (arousal kept: their customers have
    baselines of their own, and nine calls never reach a population of 20)."""
    from callscope.analysis.schema import CallAnalysis
    from callscope.scoring.resentiment import resentiment
    from callscope.scoring.sentiment import SentimentModel

    model = SentimentModel()
    out: dict = {"calls": 0}
    for name in ("before", "after"):
        labels, high, n_arousal = [], 0, 0
        for f in sorted(CALL_CACHE.glob("*.json")):
            r = CallAnalysis.model_validate_json(f.read_text())
            if name == "after":
                r = resentiment(r, model)
            if r.call_scores is None:
                continue
            customers = {s.speaker for s in r.speaker_scores if s.role == "customer"}
            for u in r.utterances:
                if u.speaker in customers and u.emotion:
                    labels.append(u.emotion.label)
                    if u.emotion.arousal is not None:
                        n_arousal += 1
                        high += u.emotion.arousal >= 0.35
        out["calls"] = len(list(CALL_CACHE.glob("*.json")))
        out[name] = {"customer_utterances": len(labels), "with_arousal": n_arousal,
                     "high_share": round(high / n_arousal, 3) if n_arousal else None, "label_shares": _shares(labels)}
    return out


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "arousal.json")
    args = parser.parse_args()

    from sklearn.metrics import roc_auc_score

    from callscope.analysis.call_settings import CallSettings
    from callscope.analysis.pipeline import Analyzer
    from callscope.scoring.emotion import EmotionThresholds

    high_at = EmotionThresholds().high_arousal
    with open(AUDIO / "emodb" / "labels.tsv", newline="") as f:
        labels = list(csv.DictReader(f, delimiter="\t"))
    analyzer = Analyzer()
    as_customer = CallSettings(lone_speaker_role="customer")
    rows = []
    t0 = time.perf_counter()
    for lab in labels:
        path = AUDIO / "emodb" / lab["file"]
        r = analyzer.analyze(path, call=as_customer)
        before, before_labels = before_scores(r, narrowband=False)
        durations = [u.end - u.start for u in r.utterances]
        after = _weighted([(u.emotion.arousal, d) for u, d in zip(r.utterances, durations) if u.emotion and u.emotion.arousal is not None])
        prior = _weighted([(a, d) for a, d in zip(before, durations) if a is not None])
        rows.append({"file": lab["file"], "speaker": lab["speaker"], "emotion": lab["emotion"],
                     "arousal_class": lab["arousal_class"],
                     "baseline": next((s.arousal_baseline for s in r.speaker_scores), None),
                     "arousal_before": None if prior is None else round(prior, 4),
                     "arousal": None if after is None else round(after, 4),
                     "labels_before": [x for x in before_labels if x], "labels": [u.emotion.label for u in r.utterances if u.emotion]})
    elapsed = time.perf_counter() - t0
    default = analyzer.analyze(AUDIO / "emodb" / labels[0]["file"])  # no setting: role unknown, so no acoustics
    no_setting_arousal = [u.emotion.arousal for u in default.utterances if u.emotion and u.emotion.arousal is not None]

    scored = [r for r in rows if r["arousal"] is not None and r["arousal_before"] is not None and r["arousal_class"] in ("high", "low")]

    def auc(key: str, subset: list[dict]) -> float:
        return round(float(roc_auc_score([r["arousal_class"] == "high" for r in subset], [r[key] for r in subset])), 4)

    def high_share(key: str, subset: list[dict]) -> float:
        return round(sum(r[key] >= high_at for r in subset) / len(subset), 3) if subset else 0.0

    learnt = [r for r in scored if r["baseline"] == "deployment"]
    summary: dict = {}
    for name, key, lab_key in (("before", "arousal_before", "labels_before"), ("after", "arousal", "labels")):
        summary[name] = {
            "auc": auc(key, scored), "auc_per_speaker": {s: auc(key, [r for r in scored if r["speaker"] == s]) for s in ("03", "08")},
            "auc_deployment_clips": auc(key, learnt) if learnt else None,
            "high_share": high_share(key, scored),
            "high_share_by_emotion": {e: high_share(key, [r for r in rows if r["emotion"] == e and r[key] is not None])
                                      for e in sorted({r["emotion"] for r in rows})},
            "label_shares": _shares([x for r in rows for x in r[lab_key]]),
        }
    calls = call_shares()
    baselines = Counter(r["baseline"] for r in rows)

    print(f"\nEmoDB one clip per file, {len(rows)} clips in file order ({len(scored)} high/low), lone speaker = customer;"
          f" baselines after: {dict(baselines)}")
    print(f"{'':34}{'before (shipped prior)':>24}{'after (deployment)':>22}")
    b, a = summary["before"], summary["after"]
    print(f"{'ROC AUC high vs low, all clips':34}{b['auc']:>24}{a['auc']:>22}")
    for s in ("03", "08"):
        print(f"{'  speaker ' + s:34}{b['auc_per_speaker'][s]:>24}{a['auc_per_speaker'][s]:>22}")
    print(f"{'  clips on the deployment prior':34}{str(b['auc_deployment_clips']):>24}{str(a['auc_deployment_clips']):>22}")
    print(f"{'share at arousal >= ' + str(high_at):34}{b['high_share']:>24}{a['high_share']:>22}")
    for e in b["high_share_by_emotion"]:
        print(f"{'  ' + e:34}{b['high_share_by_emotion'][e]:>24}{a['high_share_by_emotion'][e]:>22}")
    print("label shares (all utterances):")
    for lab in sorted(set(b["label_shares"]) | set(a["label_shares"])):
        print(f"{'  ' + lab:34}{b['label_shares'].get(lab, 0.0):>24}{a['label_shares'].get(lab, 0.0):>22}")
    for name in ("before", "after"):
        c = calls[name]
        print(f"shared calls, {name} ({calls['calls']} cached analyses, {c['customer_utterances']} customer utterances, "
              f"{c['with_arousal']} with arousal): high share {c['high_share']}, labels {c['label_shares']}")
    print(f"without the setting (role unknown, no acoustics): arousal given for {len(no_setting_arousal)} utterances")
    print(f"{elapsed / len(rows):.2f} s per analysis")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "arousal", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "protocol": "one clip per file in file order, lone_speaker_role=customer, one analyser (the deployment's "
                    "population learnt from the clips, no labels); before = the same features against the shipped prior",
        "high_arousal_threshold": high_at, "clips": len(rows), "scored_high_low": len(scored), "baselines": dict(baselines),
        **summary, "shared_calls": calls, "arousal_without_setting": len(no_setting_arousal), "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
