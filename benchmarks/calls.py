"""End-to-end accuracy on every shared recording with a reference: the regression gate for model
and rule changes (issue 9, item 6; issue 15 adds to it).

One table: the language heard and its confidence, WER, the transcript's reliability and the
share of its words in unreliable passages, DER (±0.25 s collar, overlap scored), words given the
right speaker, roles right, the customer's sentiment at start and end and the call's escalation
level (outputs: the shared data has no human label for them), whether two analyses gave the
same result (all but timings), and the model/rule versions. Only references the data carries are used:

* Callytics Call01 (and its G.711 µ-law copy): hand-timed turns with text and roles
  (``Call01.turns.tsv``; CSR = agent).
* stereo_diarization: one speaker per channel, verbatim text per channel (``.left/.right.txt``).
* pyannote_sample: speaker turns (RTTM), no text, no roles.
* SpokenWOZ MUL1011: no text or turns usable here; its roles are the fact stated in issue 15
  (the caller, the customer, is on channel 0).

    .venv/bin/python benchmarks/calls.py [--rounds 2] [--out benchmarks/results/calls.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import (  # noqa: E402
    AUDIO,
    normalise_text,
    reference_interruptions,
    rttm_turns,
    speaker_mapping,
    tsv_turns,
    word_attribution_accuracy,
)

RESULTS = Path(__file__).resolve().parent / "results"
Turn = tuple[str, float, float]


@dataclass(frozen=True)
class Case:
    """A recording and what is known about it.

    Attributes:
        text: reference transcript (None: no WER).
        turns: reference speaker turns (None: no DER or word attribution).
        roles: role per reference speaker (turn label), or per channel as ``ch0``/``ch1``.
    """

    name: str
    path: Path
    text: str | None = None
    turns: list[Turn] | None = None
    roles: dict[str, str] = field(default_factory=dict)
    roles_source: str = ""
    turn_texts: list[str] | None = None


def cases() -> list[Case]:
    call01 = AUDIO / "callytics" / "Call01.turns.tsv"
    call01_text = " ".join(line.split("\t", 3)[3] for line in call01.read_text().splitlines()[1:] if line.strip())
    call01_roles = {"CSR": "agent", "Customer": "customer"}
    call01_texts = [line.split("\t", 3)[3] for line in call01.read_text().splitlines()[1:] if line.strip()]
    ami = AUDIO / "ami_debug"
    stereo_text = " ".join((AUDIO / f"stereo_diarization.{side}.txt").read_text() for side in ("left", "right"))
    return [
        Case("Call01 (8 kHz WAV)", AUDIO / "callytics" / "Call01.wav", call01_text, tsv_turns(call01), call01_roles,
             "Call01.turns.tsv", call01_texts),
        Case("Call01 (G.711 µ-law)", AUDIO / "telephone_codecs" / "Call01_mulaw_8k.wav", call01_text, tsv_turns(call01),
             call01_roles, "Call01.turns.tsv", call01_texts),
        Case("stereo_diarization", AUDIO / "stereo_diarization.wav", stereo_text),
        Case("pyannote_sample", AUDIO / "pyannote_sample" / "sample.wav", turns=rttm_turns(AUDIO / "pyannote_sample" / "sample.rttm")),
        *(Case(f"AMI {name}", ami / f"{name}.wav", turns=rttm_turns(ami / rttm, name))
          for name, rttm in (("dev00", "debug.development.rttm"), ("tst00", "debug.test.rttm"), ("tst01", "debug.test.rttm"))),
        Case("SpokenWOZ MUL1011", AUDIO / "spokenwoz" / "MUL1011.opus", roles={"ch0": "customer", "ch1": "agent"},
             roles_source="issue 15: the caller is on channel 0"),
    ]


def _annotation(turns: list[Turn]):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for i, (spk, s, e) in enumerate(turns):
        ann[Segment(s, e), i] = spk
    return ann


def _hyp_text(result) -> str:
    """The result's words in time order (per channel, channel 0 first, for dual-channel calls,
    as the stereo reference is written)."""
    words = [(w.start, u.speaker, w.word) for u in result.utterances for w in u.words]
    if result.channel_layout == "dual_channel":
        words.sort(key=lambda x: (x[1], x[0]))
    else:
        words.sort()
    return " ".join(w for _, _, w in words)


def _roles_right(case: Case, result) -> tuple[int, int] | None:
    """(right, judged): each found speaker's role against the reference speaker it overlaps most
    (or its channel's role)."""
    if not case.roles or result.call_scores is None:
        return None
    found = result.call_scores.roles
    mapping = speaker_mapping(result, case.turns or [])
    right = judged = 0
    for sp in result.speakers:
        if sp.channel is not None and f"ch{sp.channel}" in case.roles:
            expected = case.roles[f"ch{sp.channel}"]
        else:
            expected = case.roles.get(mapping.get(sp.id, ""))
        if expected is None:
            continue
        judged += 1
        right += found.get(sp.id) == expected
    return right, judged


def _with_corrected_roles(result):
    """The result as a deployment with ``correct_channel_map`` would have its roles (the words
    decide when they contradict the map), without analysing again."""
    from callscope.scoring.roles import roles_from_channels

    channel_of = {sp.id: sp.channel for sp in result.speakers if sp.channel is not None}
    if not channel_of:
        return result
    found = roles_from_channels(list(channel_of), channel_of, ("agent", "customer"), result.utterances, correct=True)
    return result.model_copy(update={"call_scores": result.call_scores.model_copy(update={"roles": found.roles})})


def _interruption_precision(case: Case, result) -> tuple[int, int, int] | None:
    """(predicted that match a reference interruption, predicted, reference): a match is the same
    (mapped) speaker cutting in within ±1 s."""
    if not case.turns or result.call_scores is None:
        return None
    reference = reference_interruptions(case.turns, case.turn_texts)
    mapping = speaker_mapping(result, case.turns or [])
    found = result.call_scores.interruptions
    matched = sum(any(mapping.get(x.by) == who and abs(x.at_s - at) <= 1.0 for who, at in reference) for x in found)
    return matched, len(found), len(reference)


def evaluate(case: Case, results: list) -> dict:
    import jiwer
    from pyannote.metrics.diarization import DiarizationErrorRate

    r = results[0]
    row: dict = {"call": case.name, "file": str(case.path.relative_to(AUDIO)), "duration_s": r.duration_s,
                 "layout": r.channel_layout, "speakers_found": len(r.speakers)}
    row["wer"] = round(jiwer.wer(normalise_text(case.text), normalise_text(_hyp_text(r))), 4) if case.text else None
    if case.turns:
        hyp = [(t.speaker, t.start, t.end) for t in r.turns]
        row["der_collar_0.25"] = round(DiarizationErrorRate(collar=0.5)(_annotation(case.turns), _annotation(hyp)), 4)
        words = [(u.speaker, w.start, w.end) for u in r.utterances for w in u.words]
        row["words_right_speaker"] = round(word_attribution_accuracy(words, case.turns), 4) if words else None
    else:
        row["der_collar_0.25"] = row["words_right_speaker"] = None
    roles = _roles_right(case, r)
    row["roles_right"] = None if roles is None else f"{roles[0]}/{roles[1]}"
    corrected = _roles_right(case, _with_corrected_roles(r)) if r.call_scores and r.call_scores.role_note else roles
    row["roles_right_with_correct_channel_map"] = None if corrected is None else f"{corrected[0]}/{corrected[1]}"
    row["roles_source"] = case.roles_source or None
    cuts = _interruption_precision(case, r)
    row["interruptions_matched_predicted_reference"] = None if cuts is None else list(cuts)
    row["interruption_precision"] = None if cuts is None or not cuts[1] else round(cuts[0] / cuts[1], 4)
    row["role_confidence"] = r.call_scores.role_confidence if r.call_scores else None
    row["language"] = r.language
    row["language_confidence"] = r.language_confidence
    row["language_supported"] = r.language_supported
    t = r.transcript_reliability
    row["transcript_reliability"] = t.score if t else None
    row["unreliable_share"] = t.unreliable_share if t else None
    row["speech_without_words_s"] = t.speech_without_words_s if t else None
    row["direction"] = r.call_scores.direction if r.call_scores else None
    cs = r.call_scores
    customer = next((s for s in r.speaker_scores if s.role == "customer"), None)
    row["customer_sentiment_start"] = customer.sentiment_start.value if customer else None
    row["customer_sentiment_end"] = customer.sentiment_end.value if customer else None
    row["escalation"] = cs.escalation.value if cs else None
    row["role_note"] = cs.role_note if cs else None
    agent = [s for s in r.speaker_scores if s.role == "agent"]
    row["agent_dissatisfied_share"] = (round(sum(s.emotion_shares.get("dissatisfied", 0) + s.emotion_shares.get("frustrated", 0)
                                                 for s in agent) / len(agent), 4) if agent else None)
    row["agent_empathy_statements"] = sum(s.empathy_statements for s in agent) if agent else None
    row["versions"] = {"engine": r.engine, "model": r.model, **(cs.versions if cs else {})}
    dumps = [x.model_dump_json(exclude={"timings_s"}) for x in results]
    row["identical_runs"] = f"{sum(d == dumps[0] for d in dumps)}/{len(dumps)}"
    fastest = min(results, key=lambda x: x.timings_s.total)
    row["analysis_s"] = round(fastest.timings_s.total, 2)
    row["rtf"] = round(fastest.timings_s.total / r.duration_s, 4)
    t = fastest.timings_s
    row["scoring_share_of_asr"] = round((t.sentiment + t.fusion) / t.asr, 4) if t.asr else None
    return row


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="analyses per call (reproducibility is judged across them)")
    parser.add_argument("--out", type=Path, default=RESULTS / "calls.json")
    parser.add_argument("--asr", action="append", metavar="MODEL:BEAM",
                        help="ASR configuration(s) to run, e.g. tiny.en:5 base:5 (default: the product's default); "
                             "several are measured one after another in this run")
    args = parser.parse_args()

    from callscope.analysis.pipeline import AnalysisSettings, Analyzer
    from callscope.transcription.redaction.apply import RedactionPolicy
    from callscope.transcription.engine import AsrSettings

    default = AsrSettings(device="cpu")
    configs = [AsrSettings(model=c.split(":")[0], beam_size=int(c.split(":")[1]), device="cpu") for c in args.asr] if args.asr else [default]
    runs = []
    for asr in configs:
        # the ASR as written: redaction placeholders would count as word errors
        analyzer = Analyzer(AnalysisSettings(asr=asr, redaction=RedactionPolicy(enabled=False)))
        rows = [evaluate(case, [analyzer.analyze(case.path) for _ in range(args.rounds)]) for case in cases()]
        runs.append({"asr": f"{asr.model} beam {asr.beam_size}", "default": asr == default, "calls": rows})
        print_table(rows, asr, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "calls", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "rounds": args.rounds, "runs": runs}, indent=2, ensure_ascii=False) + "\n")


def print_table(rows: list[dict], asr, rounds: int) -> None:
    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}%"

    def num(v):
        return "–" if v is None else f"{v:+.2f}"

    print(f"\nCalls with references; {rows[0]['versions']['engine']} {asr.model} beam {asr.beam_size}, "
          f"sentiment {rows[0]['versions'].get('sentiment')}; {rounds} analyses each")
    print(f"{'call':22} {'dur s':>6} {'lang':>9} {'WER':>7} {'reliab':>6} {'unrel':>6} {'DER±.25':>8} {'words→spk':>9} "
          f"{'roles':>6} {'cust start':>10} "
          f"{'cust end':>9} {'level':>7} {'agent dissat':>12} {'empathy':>7} {'same':>5} {'RTF':>6} {'scoring/ASR':>11} "
          f"{'role conf':>9} {'roles*':>6} {'cut-ins ok/found/ref':>20}")
    for r in rows:
        lang = f"{r['language']} {r['language_confidence']:.2f}" if r["language"] else "–"
        rel = "–" if r["transcript_reliability"] is None else f"{r['transcript_reliability']:.2f}"
        print(f"{r['call']:22} {r['duration_s']:>6.1f} {lang:>9} {pct(r['wer']):>7} {rel:>6} {pct(r['unreliable_share']):>6} "
              f"{pct(r['der_collar_0.25']):>8} "
              f"{pct(r['words_right_speaker']):>9} {r['roles_right'] or '–':>6} {num(r['customer_sentiment_start']):>10} "
              f"{num(r['customer_sentiment_end']):>9} {r['escalation'] or '–':>7} {pct(r['agent_dissatisfied_share']):>12} "
              f"{r['agent_empathy_statements'] if r['agent_empathy_statements'] is not None else '–':>7} {r['identical_runs']:>5} "
              f"{r['rtf']:>6.3f} {pct(r['scoring_share_of_asr']):>11} {r['role_confidence'] if r['role_confidence'] is not None else '–':>9} "
              f"{r['roles_right_with_correct_channel_map'] or '–':>6} "
              f"{'/'.join(map(str, r['interruptions_matched_predicted_reference'] or [])) or '–':>20}")
    print("roles*: with the deployment opt-in correct_channel_map (the words overrule a contradicted channel map)")
    notes = [f"{r['call']}: {r['role_note']}" for r in rows if r["role_note"]]
    for n in notes:
        print(f"role_note {n}")
    levels = [r["escalation"] for r in rows if r["escalation"]]
    print("levels: " + ", ".join(f"{lv} {levels.count(lv)}" for lv in ("green", "yellow", "orange", "red")))


if __name__ == "__main__":
    main()
