"""Builds ``benchmarks/data/multidogo/`` from a clone of MultiDoGo (run once; the result is committed).

MultiDoGo (Peskov et al., EMNLP 2019): human-to-human customer-service chats in six domains
(airline, fast food, finance, insurance, media, software), crowd workers as agent and customer;
each customer turn labelled with its intent by the corpus's annotators.
Source: awslabs/multi-domain-goal-oriented-dialogues-dataset @ baa30639c4b2 :
data/paper_splits/splits_annotated_at_turn_level/<domain>/{train,test}.tsv. Licence: CDLA-Permissive-1.0
(LICENSE.txt at that commit; the README before it said Apache-2.0), copied beside the data.

Written: ``test.jsonl.gz`` (one line per test conversation: domain, id, the customer's turns in
order with their intent labels) and ``examples.json`` (per domain and intent, five customer turns
of at least four words from the *train* split, drawn with seed 27: the examples a deployment's
taxonomy would hold). Nothing is relabelled; an intent label with ``<div>`` is kept as the list
of its intents.

    .venv/bin/python benchmarks/multidogo_prepare.py /path/to/clone
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import subprocess
from pathlib import Path

import numpy as np

COMMIT = "baa30639c4b271f394b81443c842193407cdf26d"
DOMAINS = ("airline", "fastfood", "finance", "insurance", "media", "software")
#: Intent labels that say how a turn speaks, not what the contact is about.
GENERIC = frozenset({"contentonly", "confirmation", "openinggreeting", "rejection", "thankyou", "outofdomain",
                     "closinggreeting"})
OUT = Path(__file__).resolve().parent / "data" / "multidogo"
SEED = 27
EXAMPLES = 5


def _read(clone: Path, domain: str, split: str) -> list[dict]:
    path = f"data/paper_splits/splits_annotated_at_turn_level/{domain}/{split}.tsv"
    text = subprocess.run(["git", "-C", str(clone), "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def _conversations(rows: list[dict]) -> dict[str, list[tuple[float, str, list[str]]]]:
    convs: dict[str, list[tuple[float, str, list[str]]]] = {}
    for r in rows:
        try:
            turn = float(r["turnNumber"])
        except (TypeError, ValueError):
            continue  # a row the corpus's own quoting broke
        intents = [i.strip() for i in (r.get("intent") or "").split("<div>") if i.strip()]
        text = " ".join((r.get("utterance") or "").split())
        if text and intents:
            convs.setdefault(r["conversationId"], []).append((turn, text, intents))
    return {k: sorted(v) for k, v in convs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clone", type=Path, help="a git clone of awslabs/multi-domain-goal-oriented-dialogues-dataset")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    examples: dict[str, dict[str, list[str]]] = {}
    lines = []
    for domain in DOMAINS:
        by_intent: dict[str, list[str]] = {}
        for turns in _conversations(_read(args.clone, domain, "train")).values():
            for _, text, intents in turns:
                if len(intents) == 1 and intents[0] not in GENERIC and len(text.split()) >= 4:
                    by_intent.setdefault(intents[0], []).append(text)
        examples[domain] = {}
        for intent in sorted(by_intent):
            pool = sorted(set(by_intent[intent]))
            examples[domain][intent] = [pool[k] for k in sorted(rng.permutation(len(pool))[:EXAMPLES])]
        for cid, turns in sorted(_conversations(_read(args.clone, domain, "test")).items()):
            lines.append(json.dumps({"domain": domain, "id": cid, "turns": [[t, i] for _, t, i in turns]},
                                    ensure_ascii=False))
    with gzip.open(OUT / "test.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(lines) + "\n")
    (OUT / "examples.json").write_text(json.dumps(examples, indent=1, ensure_ascii=False) + "\n")
    licence = subprocess.run(["git", "-C", str(args.clone), "show", f"{COMMIT}:LICENSE.txt"], check=True,
                             capture_output=True, text=True).stdout
    (OUT / "LICENSE.txt").write_text(licence)
    print(f"wrote {len(lines)} test conversations and the train examples to {OUT}")


if __name__ == "__main__":
    main()
