"""Agent or customer: hand-written cue rules (roles/3) against the previous rules (roles/2) and
against a classifier over utterance embeddings, on every shared call with role labels; and the
fit of the rules' confidence slope (issue 15, item 1).

Labelled transcripts (roles are facts of the data, not guesses), the rules now (roles/3) against
the rules before issue 23 (roles/2, from git):

* Call01 reference: the hand-made transcript and turns (``Call01.turns.tsv``; CSR = agent).
* Call01 ASR: the product's own transcript of Call01.wav; each found speaker takes the role of
  the reference speaker it overlaps most.
* SpokenWOZ MUL1011 ASR: the product's transcript of the dual-channel call; channel 0 is the
  customer (issue 15), channel 1 the clerk.

Measures:

* whole call: are both roles right (rules, old rules, classifier);
* windows: every run of 6 consecutive utterances (step 2) holding both parties, as if the call
  were that short: accuracy, mean confidence and Brier score of the rules. The logistic slope
  from score margin to confidence (``roles.CONFIDENCE_SLOPE``) is fitted here by maximum
  likelihood on these windows (grid 0.1..3);
* classifier: logistic regression on multilingual-e5 utterance embeddings, trained on one
  call's utterances and tested on the other (leave one call out); a speaker is the agent
  when its mean P(agent) is the higher.

With two labelled calls these numbers are thin: they say whether a rule or model is grossly
wrong, not how well it generalises. The held-out calls are the real test.

Spoken dialogues: the contact-centre dialogues written for this benchmark
(``benchmarks/data/dialogues.json``: nine outbound calls, one per supported language, and three
inbound ones), spoken by espeak-ng into G.711 calls at 8 kHz (``benchmarks/dialogue_audio.py``)
and analysed by the product: per dialogue the language heard, the transcript's reliability and the
speakers given the right role by roles/3 and by roles/2 on the same transcript. Synthetic speech:
a test of what the words and the turn order say, at the transcript quality of poor 8 kHz audio.

    .venv/bin/python benchmarks/roles.py [--out benchmarks/results/roles.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO, speaker_mapping, tsv_turns  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WINDOW, STEP = 6, 2
OLD_RULES_COMMIT = "3f27784"  # main before issue 23 (roles/2)


def _reference_call01():
    from callscope.transcription.types import Utterance, Word

    with open(AUDIO / "callytics" / "Call01.turns.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    utts, roles = [], {}
    for r in rows:
        s, e, text = float(r["start_s"]), float(r["end_s"]), r["text"]
        toks = text.split()
        step = (e - s) / max(len(toks), 1)
        utts.append(Utterance(r["speaker"], s, e, [Word(t, s + i * step, s + (i + 1) * step, 1.0) for i, t in enumerate(toks)]))
        roles[r["speaker"]] = "agent" if r["speaker"] == "CSR" else "customer"
    return utts, roles


def _asr_transcripts(analyzer):
    out = {}
    ref_turns = tsv_turns(AUDIO / "callytics" / "Call01.turns.tsv")
    for name, path in (("Call01 ASR", AUDIO / "callytics" / "Call01.wav"), ("SpokenWOZ ASR", AUDIO / "spokenwoz" / "MUL1011.opus")):
        r = analyzer.analyze(path)
        roles = {sp: "agent" if ref == "CSR" else "customer" for sp, ref in speaker_mapping(r, ref_turns).items()}
        roles.update({sp.id: "customer" if sp.channel == 0 else "agent" for sp in r.speakers if sp.channel is not None})
        out[name] = (r.utterances, roles)
    return out


def _old_rules():
    """roles/2 as it was in main before issue 23 (``git show``), with the cues of that time."""
    root = Path(__file__).resolve().parents[1]
    try:
        sources = {name: subprocess.run(["git", "show", f"{OLD_RULES_COMMIT}:scoring/{name}.py"], cwd=root,
                                        capture_output=True, text=True, check=True).stdout
                   for name in ("role_cues", "roles")}
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    cues = types.ModuleType("role_cues_v2")
    sys.modules["role_cues_v2"] = cues  # its dataclasses look their module up
    exec(compile(sources["role_cues"], "role_cues_v2", "exec"), cues.__dict__)  # noqa: S102 - our own earlier source
    mod = types.ModuleType("roles_v2")
    sys.modules["roles_v2"] = mod
    import callscope.scoring.role_cues  # noqa: F401 - loaded, so that it can be swapped for the old cues and back

    saved = sys.modules["callscope.scoring.role_cues"]
    sys.modules["callscope.scoring.role_cues"] = cues  # its import of the cues gets the old ones
    try:
        exec(compile(sources["roles"], "roles_v2", "exec"), mod.__dict__)  # noqa: S102
    finally:
        sys.modules["callscope.scoring.role_cues"] = saved
    return mod


def _dialogues(analyzer, old) -> list[dict]:
    """The written dialogues spoken into 8 kHz calls (benchmarks/dialogue_audio.py): roles by the
    product (roles/3) and by the rules before (roles/2) on the same transcript."""
    import tempfile

    from benchmarks.dialogue_audio import available, dialogues, speak
    from benchmarks.reference import speaker_mapping
    from callscope.scoring import roles as rules

    if not available():
        print("espeak-ng is not installed: the spoken dialogues are left out")
        return []
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in dialogues():
            path, turns = speak(d, Path(tmp))
            r = analyzer.analyze(path)
            truth = speaker_mapping(r, turns)
            found = r.call_scores.roles
            previous = old.roles_from_text(r.utterances, {s.id: s.talk_time_s for s in r.speakers}).roles if old else {}
            cue_hits = {"agent cues on the agent": 0, "customer cues on the customer": 0, "cues on the wrong party": 0}
            for speaker, role in truth.items():
                ev = rules.speaker_evidence(r.utterances, speaker)
                own, other = (ev.agent, ev.customer) if role == "agent" else (ev.customer, ev.agent)
                cue_hits[f"{role} cues on the {role}"] += sum(len(v) for v in own.values())
                cue_hits["cues on the wrong party"] += sum(len(v) for v in other.values())
            out.append({"dialogue": d["id"], "direction": d["direction"], "speakers_found": len(r.speakers), **cue_hits,
                        "language": r.language, "language_confidence": r.language_confidence,
                        "transcript_reliability": r.transcript_reliability.score if r.transcript_reliability else None,
                        "roles/3 right": sum(found.get(s) == truth[s] for s in truth), "judged": len(truth),
                        "roles/2 right": sum(previous.get(s) == truth[s] for s in truth) if old else None,
                        "role_confidence": r.call_scores.role_confidence,
                        "direction_found": r.call_scores.direction, "direction_source": r.call_scores.direction_source})
            print(f"  {out[-1]['dialogue']:24} {out[-1]['speakers_found']} speakers, {r.language} "
                  f"({r.language_confidence:.2f}), roles/3 {out[-1]['roles/3 right']}/{len(truth)}, "
                  f"roles/2 {out[-1]['roles/2 right']}/{len(truth)}; cues right {cue_hits['agent cues on the agent']}+"
                  f"{cue_hits['customer cues on the customer']}, wrong {cue_hits['cues on the wrong party']}", flush=True)
    return out


def _talk(utts) -> dict[str, float]:
    talk: dict[str, float] = {}
    for u in utts:
        talk[u.speaker] = talk.get(u.speaker, 0.0) + u.end - u.start
    return talk


def _both_right(found: dict[str, str], truth: dict[str, str]) -> bool:
    judged = [s for s in truth if s in found]
    return bool(judged) and all(found[s] == truth[s] for s in judged) and {truth[s] for s in judged} == {"agent", "customer"}


def _windows(utts, truth):
    for a in range(0, max(len(utts) - WINDOW, 0) + 1, STEP):
        w = utts[a:a + WINDOW]
        if {truth.get(u.speaker) for u in w} >= {"agent", "customer"}:
            yield w


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "roles.json")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression

    from callscope.scoring import roles as rules
    from callscope.scoring.text_encoder import TextEncoder

    from callscope.analysis.pipeline import Analyzer

    analyzer = Analyzer()
    calls = {"Call01 reference": _reference_call01(), **_asr_transcripts(analyzer)}
    old = _old_rules()
    rows = []
    margins: list[tuple[float, bool]] = []
    for name, (utts, truth) in calls.items():
        new = rules.roles_from_text(utts, _talk(utts))
        row = {"call": name, "utterances": len(utts), "roles/3 right": _both_right(new.roles, truth),
               "roles/3 confidence": new.confidence, "direction": new.direction,
               "roles/2 right": _both_right(old.roles_from_text(utts, _talk(utts)).roles, truth) if old else None}
        right = []
        for w in _windows(utts, truth):
            pair = sorted({u.speaker for u in w if truth.get(u.speaker)}, key=lambda s: -_talk(w)[s])[:2]
            agent, _customer, _conf, _ev = rules.decide(w, pair, None)
            score = {s: rules.speaker_evidence(w, s).score + (rules.FIRST_SPEAKER_PRIOR if s == w[0].speaker else 0.0) for s in pair}
            margin = score[agent] - score[next(s for s in pair if s != agent)]
            ok = truth[agent] == "agent"
            right.append(ok)
            margins.append((margin, ok))
        row["windows"] = len(right)
        row["window accuracy"] = round(float(np.mean(right)), 3) if right else None
        rows.append(row)

    # the slope from margin to confidence, by maximum likelihood on all windows
    def nll(k: float) -> float:
        return -sum(math.log(p if ok else 1 - p) for m, ok in margins for p in [min(max(1 / (1 + math.exp(-k * m)), 1e-6), 1 - 1e-6)])

    grid = [round(0.1 * i, 1) for i in range(1, 31)]
    slope = min(grid, key=nll)
    conf = [1 / (1 + math.exp(-rules.CONFIDENCE_SLOPE * m)) for m, _ in margins]
    calibration = {"windows": len(margins), "fitted_slope": slope, "shipped_slope": rules.CONFIDENCE_SLOPE,
                   "accuracy": round(float(np.mean([ok for _, ok in margins])), 3),
                   "mean_confidence": round(float(np.mean(conf)), 3),
                   "brier": round(float(np.mean([(c - ok) ** 2 for c, (_, ok) in zip(conf, margins)])), 4)}

    # classifier over utterance embeddings, leave one call out (the two Call01 transcripts are one call)
    encoder = TextEncoder()
    groups = {"Call01": ["Call01 reference", "Call01 ASR"], "SpokenWOZ": ["SpokenWOZ ASR"]}
    emb = {name: encoder.encode([u.text for u in utts]) for name, (utts, _) in calls.items()}
    lab = {name: np.array([truth.get(u.speaker) == "agent" for u in utts]) for name, (utts, truth) in calls.items()}
    classifier = []
    for held, names in groups.items():
        train = [n for g, ns in groups.items() if g != held for n in ns]
        clf = LogisticRegression(C=1.0, max_iter=2000).fit(np.vstack([emb[n] for n in train]), np.concatenate([lab[n] for n in train]))
        for n in names:
            utts, truth = calls[n]
            p = clf.predict_proba(emb[n])[:, 1]
            keep = np.array([u.speaker in truth for u in utts])
            mean_p = {s: float(np.mean(p[[u.speaker == s for u in utts]])) for s in truth}
            agent = max(mean_p, key=mean_p.get)
            found = {s: "agent" if s == agent else "customer" for s in mean_p}
            classifier.append({"call": n, "trained_on": train, "utterance_accuracy": round(float(np.mean((p[keep] > 0.5) == lab[n][keep])), 3),
                               "roles right": _both_right(found, truth)})
    # the rules' own utterance-level view: share of utterances with a cue, and how often the cue's role is right
    cue_rows = []
    for name, (utts, truth) in calls.items():
        cued = right_cue = 0
        for u in utts:
            a = any(c.matches(u.text) for c in rules.AGENT_CUES + (rules.OUTBOUND_CUE, rules.PITCH_CUE))
            c_ = any(c.matches(u.text) for c in rules.CUSTOMER_CUES)
            if a != c_ and truth.get(u.speaker):
                cued += 1
                right_cue += (truth[u.speaker] == "agent") == a
        cue_rows.append({"call": name, "utterances_with_one_sided_cue": round(cued / len(utts), 3),
                         "cue_role_right": round(right_cue / cued, 3) if cued else None})

    print(f"\nRoles on labelled shared calls (rules {rules.ROLE_RULES_VERSION})")
    print(f"{'call':18} {'utts':>5} {'roles/3':>8} {'conf':>5} {'roles/2':>8} {'windows':>8} {'win acc':>8}")
    for r in rows:
        print(f"{r['call']:18} {r['utterances']:>5} {str(r['roles/3 right']):>8} {r['roles/3 confidence']:>5} "
              f"{str(r['roles/2 right']):>8} {r['windows']:>8} {r['window accuracy'] if r['window accuracy'] is not None else '–':>8}")
    print(f"confidence: {calibration}")
    print("classifier (e5 + logistic regression, leave one call out):")
    for c in classifier:
        print(f"  {c['call']:18} utterance accuracy {c['utterance_accuracy']:.3f}, roles right {c['roles right']}")
    print("rule cues per utterance:")
    for c in cue_rows:
        print(f"  {c['call']:18} one-sided cue on {c['utterances_with_one_sided_cue']:.0%} of utterances, its role right {c['cue_role_right']}")
    print("spoken dialogues (espeak-ng, G.711 8 kHz; roles known by construction):")
    spoken = _dialogues(analyzer, old)
    for kind in ("outbound", "inbound"):
        sel = [d for d in spoken if d["direction"] == kind]
        if sel:
            print(f"  {kind}: roles/3 {sum(d['roles/3 right'] for d in sel)}/{sum(d['judged'] for d in sel)} speakers right, "
                  f"roles/2 {sum(d['roles/2 right'] or 0 for d in sel)}/{sum(d['judged'] for d in sel)}; direction inferred "
                  f"right on {sum(d['direction_found'] == kind for d in sel)} of {len(sel)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "roles", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "rules_version": rules.ROLE_RULES_VERSION, "calls": rows, "confidence": calibration,
                                    "classifier": classifier, "cues": cue_rows, "spoken_dialogues": spoken},
                                   indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
