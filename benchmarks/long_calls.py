"""Memory and stage times of a full analysis on long calls (30 min, 2 h, 4 h), mono and
dual-channel, built by concatenating real shared calls.

* mono: Callytics Call01 (8 kHz phone call, agent + customer) and the pyannote two-speaker
  sample, alternated, written as 8 kHz 16-bit WAV;
* dual: the SpokenWOZ MUL1011 call (one party per channel), repeated, as 8 kHz stereo WAV.

Each recording is analysed in a fresh analysis process (the one the service's workers use,
:class:`callscope.analysis.child_process.AnalysisProcess`), whose resident memory is sampled every
0.1 s: ``base`` is after the models are loaded, ``peak`` the highest seen during the analysis.
Memory must not grow faster than linearly with the call, and diarisation should stay a small
share of ASR time (target ≤ 25 % on 2 cores).

    .venv/bin/python benchmarks/long_calls.py [--hours 0.5 2 4] [--layouts mono dual]
        [--out benchmarks/results/long_calls.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
STAGES = ("decode", "vad", "asr", "diarise", "features", "sentiment", "fusion", "redaction", "total")
RATE = 8000


def build(layout: str, hours: float, folder: Path) -> Path:
    """A ``hours``-long 8 kHz WAV of real calls, written block by block (never whole in memory)."""
    from callscope.audio.decode import decode_file

    if layout == "mono":
        pieces = [decode_file(AUDIO / "callytics" / "Call01.wav", target_sample_rate=RATE).mono(),
                  decode_file(AUDIO / "pyannote_sample" / "sample.wav", target_sample_rate=RATE).mono()]
        pieces = [p[None, :] for p in pieces]
    else:
        pieces = [decode_file(AUDIO / "spokenwoz" / "MUL1011.opus", target_sample_rate=RATE).samples[:2]]
    channels = pieces[0].shape[0]
    path = folder / f"{layout}_{hours:g}h.wav"
    target = int(hours * 3600 * RATE)
    written = 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(RATE)
        i = 0
        while written < target:
            p = pieces[i % len(pieces)][:, : target - written]
            w.writeframes((np.clip(p, -1, 1) * 32767).astype(np.int16).T.tobytes())
            written += p.shape[1]
            i += 1
    return path


def measure(path: Path, memory_limit_mb: int) -> dict:
    from callscope.analysis.child_process import AnalysisProcess
    from callscope.service.config import ServiceSettings
    from callscope.service.worker import analysis_settings

    settings = analysis_settings(ServiceSettings.from_env(max_duration_h=6))
    proc = AnalysisProcess(settings, memory_limit_mb)
    try:
        t0 = time.perf_counter()
        proc.start()
        load_s = time.perf_counter() - t0
        time.sleep(1.0)
        base = proc._rss_mb()
        t0 = time.perf_counter()
        result = proc.analyze(path)
        wall = time.perf_counter() - t0
        peak = proc.peak_rss_mb
    finally:
        proc.close()
    t = result.timings_s.model_dump()
    return {"file": path.name, "duration_s": result.duration_s, "layout": result.channel_layout,
            "speakers": len(result.speakers), "utterances": len(result.utterances), "model_load_s": round(load_s, 1),
            "rss_base_mb": round(base), "rss_peak_mb": round(peak), "rss_growth_mb": round(peak - base),
            "growth_mb_per_audio_hour": round((peak - base) / (result.duration_s / 3600), 1),
            "timings_s": t, "wall_s": round(wall, 1), "rtf": round(t["total"] / result.duration_s, 4),
            "diarise_share_of_asr": round(t["diarise"] / t["asr"], 4) if t["asr"] else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, nargs="+", default=[0.5, 2.0, 4.0])
    parser.add_argument("--layouts", nargs="+", default=["mono", "dual"], choices=["mono", "dual"])
    parser.add_argument("--memory-limit-mb", type=int, default=16_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "long_calls.json")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="callscope-long-") as tmp:
        for hours in args.hours:  # shorter calls of both layouts first: the JSON is rewritten after each
            for layout in args.layouts:
                path = build(layout, hours, Path(tmp))
                row = measure(path, args.memory_limit_mb)
                rows.append(row)
                path.unlink()
                print(f"done {row['file']}: peak {row['rss_peak_mb']} MB, total {row['timings_s']['total']:.0f} s", flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({"benchmark": "long_calls", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                                "model": "faster-whisper tiny.en beam 5, CPU int8", "cores": 2,
                                                "calls": rows}, indent=2) + "\n")
    print("\nLong calls, faster-whisper tiny.en beam 5, CPU; fresh analysis process per call; RSS in MB")
    print(f"{'call':14} {'dur h':>5} {'base':>6} {'peak':>6} {'+MB/h':>6} " + " ".join(f"{s:>9}" for s in STAGES)
          + f" {'RTF':>6} {'diar/ASR':>8}")
    for r in rows:
        print(f"{r['file']:14} {r['duration_s'] / 3600:>5.2f} {r['rss_base_mb']:>6} {r['rss_peak_mb']:>6} "
              f"{r['growth_mb_per_audio_hour']:>6.0f} " + " ".join(f"{r['timings_s'][s]:>9.1f}" for s in STAGES)
              + f" {r['rtf']:>6.3f} {100 * r['diarise_share_of_asr']:>7.1f}%")


if __name__ == "__main__":
    main()
