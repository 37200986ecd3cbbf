"""Does the level's confidence mean what it says? (issue 30, item 5: level confidence.)

No shared call has a level a person gave it, and none may be made up. What exists are texts in
which people rated **every sentence** (vader, MIT). Each is read as a customer's side of a
contact, scored by the real scorer, and its level compared with the **reference level**: what the
same rule reads when each sentence's score is the people's rating / 4 (same weights, windows and
bands). "Right" means the level would stand had people scored the sentences; whether people
would give the call as a whole that level is not measured (see
:mod:`callscope.scoring.fit_level_confidence`).

* **Amazon reviews** (300 reviews, 3,708 sentences in their order; the map's own data): scored
  by a head trained without the Amazon domain (the shipped head saw 80 % of these sentences).
  ``before``: the confidence as it was (the mean sign confidence of the evidence, its
  reliability and size: call-scores/4); ``after``: the map, by two-fold cross-fitting over
  reviews (fitted on one half, stated on the other; 20 random halvings, the pooled ECE's mean).
* **Held-out sentences** (vader's test tenth, 1,851 sentences of reviews, tweets and movie
  snippets the shipped head never trained on, dealt in seed-0 order into texts of 12, the
  Amazon reviews' median length): scored by the **shipped head**, the map fitted on Amazon as
  shipped. The texts are made up of real rated sentences in an arbitrary order, so only the
  level's mean and end matter, not a story.

ECE: 10 equal-width bins over 0..1. PNG: ``benchmarks/results/confidence_levels.png``.

    .venv/bin/python benchmarks/level_confidence.py [--out benchmarks/results/level_confidence.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.confidence import RESULTS, plot, reliability  # noqa: E402

LEVEL_BINS = np.linspace(0.0, 1.0, 11)
LEVELS = ("green", "yellow", "orange", "red")
TEXT_SENTENCES = 12
HALVINGS = 20


def held_out_texts(per_text: int = TEXT_SENTENCES, seed: int = 0):
    """vader's test tenth (never trained on) dealt into texts of ``per_text`` sentences."""
    from callscope.scoring.fit_level_confidence import RatedText
    from callscope.scoring.train_sentiment import DEFAULT_DATA, flattened, folds, load_domains

    texts, ratings, _ = flattened(load_domains(DEFAULT_DATA))
    test = folds(len(ratings))[2]
    order = np.random.default_rng(seed).permutation(test)
    return [RatedText(f"test{k // per_text}", [texts[i] for i in order[k:k + per_text]],
                      [float(ratings[i]) for i in order[k:k + per_text]])
            for k in range(0, len(order) - per_text + 1, per_text)]


def stated(cases, confidence_map) -> np.ndarray:
    from callscope.scoring.escalation import EscalationBands
    from callscope.scoring.level_confidence import level_confidence

    edges = EscalationBands().edges  # the defaults, with which the cases were read
    return np.array([level_confidence(c.value, edges, c.unreliable_share, confidence_map) for c in cases])


def cross_fitted(cases) -> tuple[dict, np.ndarray]:
    """ECE of the map fitted on one half of ``cases`` and stated on the other (mean over
    :data:`HALVINGS` random halvings), and the stated confidences of the first halving."""
    from callscope.scoring.fit_level_confidence import fit

    right = np.array([c.right for c in cases])
    rng = np.random.default_rng(0)
    eces, first = [], None
    for _ in range(HALVINGS):
        order = rng.permutation(len(cases))
        half = len(cases) // 2
        p = np.zeros(len(cases))
        for a, b in ((order[:half], order[half:]), (order[half:], order[:half])):
            p[b] = stated([cases[i] for i in b], fit([cases[i] for i in a], "half", "-"))
        eces.append(reliability(p, right, LEVEL_BINS)["ece"])
        first = p if first is None else first
    assert first is not None
    out = reliability(first, right, LEVEL_BINS)
    out["ece_first_halving"], out["ece"] = out["ece"], round(float(np.mean(eces)), 4)
    out["ece_range"] = [round(float(min(eces)), 4), round(float(max(eces)), 4)]
    return out, first


def confusion(cases) -> dict:
    return {ref: {lv: sum(c.reference == ref and c.level == lv for c in cases) for lv in LEVELS} for ref in LEVELS}


def print_set(name: str, cases, before: dict, after: dict) -> None:
    matrix = confusion(cases)
    print(f"\n{name}: {len(cases)} texts, {sum(c.sentences for c in cases)} sentences; level right "
          f"{np.mean([c.right for c in cases]):.3f}")
    print("  reference level (rows) x the model's (columns):  " + " ".join(f"{lv:>7}" for lv in LEVELS))
    for ref in LEVELS:
        print(f"  {ref:>47}  " + " ".join(f"{matrix[ref][lv]:>7}" for lv in LEVELS))
    print(f"  {'':9} {'mean confidence':>16} {'ECE':>7}")
    for label, r in (("before", before), ("after", after)):
        print(f"  {label:9} {r['mean_confidence']:>16.3f} {r['ece']:>7.3f}")
    print("  after, by bin: " + "; ".join(f"{b['from']:.1f}-{b['to']:.1f} n={b['n']} stated {b['confidence']:.2f} "
                                          f"right {b['accuracy']:.2f}" for b in after["bins"]))


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "level_confidence.json")
    args = parser.parse_args()

    from callscope.scoring.fit_level_confidence import amazon_reviews, level_cases, model_without
    from callscope.scoring.level_confidence import load_map
    from callscope.scoring.sentiment import SentimentModel

    shipped_map = load_map()
    amazon = level_cases(model_without("amazon"), amazon_reviews())
    amazon_right = np.array([c.right for c in amazon])
    amazon_before = reliability(np.array([c.confidence_before for c in amazon]), amazon_right, LEVEL_BINS)
    amazon_after, _ = cross_fitted(amazon)

    held = level_cases(SentimentModel(), held_out_texts())
    held_right = np.array([c.right for c in held])
    held_before = reliability(np.array([c.confidence_before for c in held]), held_right, LEVEL_BINS)
    held_after = reliability(stated(held, shipped_map), held_right, LEVEL_BINS)

    print(f"map: {shipped_map.version}: P(right) = 1/(1+exp(-({shipped_map.slope} x margin {shipped_map.intercept:+})))")
    print_set("Amazon reviews, head without Amazon, map cross-fitted", amazon, amazon_before, amazon_after)
    print(f"  cross-fitted ECE over {HALVINGS} halvings: {amazon_after['ece_range'][0]:.3f}..{amazon_after['ece_range'][1]:.3f}")
    print_set(f"held-out vader sentences in texts of {TEXT_SENTENCES}, shipped head, shipped map", held, held_before, held_after)

    RESULTS.mkdir(parents=True, exist_ok=True)
    plot({"Amazon before": {**amazon_before, "style": ":", "color": "tab:blue"},
          "Amazon after (cross-fitted)": {**amazon_after, "color": "tab:blue"},
          "held-out before": {**held_before, "style": ":", "color": "tab:orange"},
          "held-out after": {**held_after, "color": "tab:orange"}},
         "Level confidence, before / after\n(right: the level people's sentence ratings give)", RESULTS / "confidence_levels.png", low=0.0)
    args.out.write_text(json.dumps({
        "benchmark": "level_confidence", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "map": shipped_map.to_json(),
        "amazon_reviews": {"texts": len(amazon), "confusion": confusion(amazon), "before": amazon_before, "after": amazon_after},
        "held_out_texts": {"texts": len(held), "sentences_per_text": TEXT_SENTENCES, "confusion": confusion(held),
                           "before": held_before, "after": held_after},
    }, indent=1))


if __name__ == "__main__":
    main()
