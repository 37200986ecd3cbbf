"""ASR engines side by side on the same weights: RTF, WER and peak RSS; and the stage
breakdown of a full `analyze` of the 183 s SpokenWOZ phone call.

Every (engine, model, beam) runs in its own process (so peak RSS is its own), model load
excluded from the timing; configurations alternate within each round so machine noise hits
them alike, and the fastest round counts. WER (jiwer) is on lower-cased text without
punctuation, over jfk + the 5 librivox sentences + both channels of stereo_diarization.

    .venv/bin/python benchmarks/asr_engines.py [--rounds 2] [--models tiny.en base] [--beams 1 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO, normalise_text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ENGINES = ("faster-whisper", "openai-whisper")


def _clips():
    """(name, 16 kHz mono audio, reference text) for every clip with a verbatim transcript."""
    from callscope.audio.decode import decode_file

    clips = [("jfk", decode_file(AUDIO / "jfk.flac").mono(), (AUDIO / "jfk.txt").read_text())]
    for wav in sorted((AUDIO / "librivox").glob("*.wav")):
        clips.append((wav.stem[-4:], decode_file(wav).mono(), wav.with_suffix(".txt").read_text()))
    stereo = decode_file(AUDIO / "stereo_diarization.wav")
    for ch, side in enumerate(("left", "right")):
        clips.append((f"stereo.{side}", stereo.samples[ch], (AUDIO / f"stereo_diarization.{side}.txt").read_text()))
    return clips


def worker(engine: str, model: str, beam: int) -> dict:
    """Runs in a child process: load once, transcribe every clip, report times and text."""
    warnings.filterwarnings("ignore")
    from callscope.transcription.engine import AsrSettings, create_engine

    clips = _clips()
    t0 = time.perf_counter()
    asr = create_engine(AsrSettings(engine=engine, model=model, beam_size=beam, device="cpu", language="en"))
    load_s = time.perf_counter() - t0
    asr.transcribe(clips[0][1][:16000])  # warm-up (first call allocates)
    out = {"load_s": load_s, "clips": []}
    for name, audio, ref in clips:
        t0 = time.perf_counter()
        words = asr.transcribe(audio)
        out["clips"].append(
            {"name": name, "audio_s": len(audio) / 16000, "asr_s": time.perf_counter() - t0,
             "hyp": " ".join(w.word for w in words), "ref": ref}
        )
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def pipeline_worker() -> dict:
    """Stage breakdown of a full analysis of the 183 s dual-channel call (default settings)."""
    warnings.filterwarnings("ignore")
    from callscope.analysis.pipeline import Analyzer

    t0 = time.perf_counter()
    analyzer = Analyzer()
    load_s = time.perf_counter() - t0
    result = analyzer.analyze(AUDIO / "spokenwoz" / "MUL1011.opus")
    return {"file": result.file, "duration_s": result.duration_s, "load_s": load_s,
            "timings_s": result.timings_s.model_dump(), "utterances": len(result.utterances),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    import jiwer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--beams", nargs="+", type=int, default=[1, 5])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "asr_engines.json")
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "MODEL", "BEAM"), help=argparse.SUPPRESS)
    parser.add_argument("--pipeline-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], int(args.worker[2]))))
        return
    if args.pipeline_worker:
        print(json.dumps(pipeline_worker()))
        return

    configs = [(e, m, b) for m in args.models for b in args.beams for e in ENGINES]
    runs: dict[tuple, list[dict]] = {c: [] for c in configs}
    for r in range(args.rounds):
        order = configs if r % 2 == 0 else configs[::-1]
        for c in order:
            print(f"round {r + 1}/{args.rounds}: {c[0]} {c[1]} beam {c[2]}", file=sys.stderr, flush=True)
            runs[c].append(_child(["--worker", c[0], c[1], str(c[2])]))

    rows = []
    for (engine, model, beam), results in runs.items():
        best = min(results, key=lambda x: sum(c["asr_s"] for c in x["clips"]))
        audio_s = sum(c["audio_s"] for c in best["clips"])
        asr_s = sum(c["asr_s"] for c in best["clips"])
        refs = [normalise_text(c["ref"]) for c in best["clips"]]
        hyps = [normalise_text(c["hyp"]) for c in best["clips"]]
        per_clip = {c["name"]: round(jiwer.wer(rf, hp), 4) for c, rf, hp in zip(best["clips"], refs, hyps)}
        rows.append({
            "engine": engine, "model": model, "beam": beam, "audio_s": round(audio_s, 2),
            "asr_s": round(asr_s, 3), "rtf": round(asr_s / audio_s, 4),
            "rtf_rounds": [round(sum(c["asr_s"] for c in x["clips"]) / audio_s, 4) for x in results],
            "wer": round(jiwer.wer(refs, hyps), 4), "wer_per_clip": per_clip,
            "load_s": round(best["load_s"], 2), "peak_rss_mb": round(max(x["peak_rss_mb"] for x in results)),
        })
    pipeline = _child(["--pipeline-worker"])

    print(f"\nASR engines on the same weights, {rows[0]['audio_s']} s of speech, {args.rounds} alternating rounds (best):")
    print(f"{'engine':16} {'model':8} {'beam':>4} {'RTF':>7} {'WER %':>6} {'load s':>7} {'peak RSS MB':>12}")
    for row in rows:
        print(f"{row['engine']:16} {row['model']:8} {row['beam']:>4} {row['rtf']:>7.3f} {100 * row['wer']:>6.1f} {row['load_s']:>7.1f} {row['peak_rss_mb']:>12}")
    for model in args.models:
        for beam in args.beams:
            fw = next(r for r in rows if r["engine"] == "faster-whisper" and r["model"] == model and r["beam"] == beam)
            ow = next(r for r in rows if r["engine"] == "openai-whisper" and r["model"] == model and r["beam"] == beam)
            print(f"  {model} beam {beam}: openai-whisper / faster-whisper time = {ow['asr_s'] / fw['asr_s']:.2f}x")
    t = pipeline["timings_s"]
    print(f"\nFull analyze of {pipeline['file']} ({pipeline['duration_s']} s, dual-channel), faster-whisper tiny.en beam 1:")
    for stage in ("decode", "vad", "asr", "diarise", "total"):
        print(f"  {stage:8} {t[stage]:7.2f} s  ({100 * t[stage] / t['total']:5.1f} %)")
    print(f"  RTF {t['total'] / pipeline['duration_s']:.3f}; model load {pipeline['load_s']:.1f} s; peak RSS {pipeline['peak_rss_mb']:.0f} MB")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "asr_engines", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(), "rounds": args.rounds, "engines": rows, "pipeline": pipeline,
    }, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
