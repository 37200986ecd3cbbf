"""Peak memory of decoding small hostile files: FLAC of digital silence at 192 kHz on 8 channels
(a few hundred KB that expand to gigabytes if decoded at their own rate).

Each file is decoded by :func:`callscope.audio.decode.decode_file` in a fresh process whose peak
resident memory (``ru_maxrss``) is reported, beside the same process doing nothing but imports.

    .venv/bin/python benchmarks/hostile_decode.py [--minutes 2 4] [--out benchmarks/results/hostile_decode.json]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

_PROBE = """
import resource, sys, time
from callscope.audio.decode import decode_file
t = time.perf_counter()
a = decode_file(sys.argv[1]) if sys.argv[1] != "-" else None
took = time.perf_counter() - t
shape = "x".join(map(str, a.samples.shape)) if a is not None else "-"
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, took, shape)
"""


def flac_of_silence(seconds: float, rate: int = 192_000, channels: int = 8) -> bytes:
    """A FLAC file of digital silence: tiny on disk, huge once decoded at its own rate."""
    import av

    layouts = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}
    buf = io.BytesIO()
    with av.open(buf, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate)
        stream.layout = layouts[channels]
        stream.format = "s16"
        block = 4608
        zeros = np.zeros((1, block * channels), dtype=np.int16)
        for _ in range(int(seconds * rate / block)):
            frame = av.AudioFrame.from_ndarray(zeros, format="s16", layout=layouts[channels])
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def probe(path: str) -> tuple[float, float, str]:
    """(peak RSS MB, decode seconds, decoded shape as channels x samples) in a fresh process."""
    out = subprocess.run([sys.executable, "-c", _PROBE, path], capture_output=True, text=True, check=True)
    rss, took, shape = out.stdout.split()
    return float(rss), float(took), shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[2.0, 4.0])
    parser.add_argument("--out", type=Path, default=RESULTS / "hostile_decode.json")
    args = parser.parse_args()
    idle_rss, _, _ = probe("-")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = Path(tmp) / f"silence_{minutes:g}min_192k_8ch.flac"
            path.write_bytes(flac_of_silence(minutes * 60))
            rss, took, shape = probe(str(path))
            rows.append({"file": path.name, "file_kb": round(path.stat().st_size / 1024), "peak_rss_mb": round(rss),
                         "over_imports_mb": round(rss - idle_rss), "decode_s": round(took, 2), "decoded_shape": shape})
    print(f"Decoding hostile FLAC (digital silence, 192 kHz, 8 channels); imports alone: {idle_rss:.0f} MB")
    print(f"{'file':32} {'KB':>6} {'peak MB':>8} {'+MB':>6} {'s':>6}  decoded (channels x samples at 16 kHz)")
    for r in rows:
        print(f"{r['file']:32} {r['file_kb']:>6} {r['peak_rss_mb']:>8} {r['over_imports_mb']:>6} {r['decode_s']:>6.2f}  {r['decoded_shape']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "hostile_decode", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "imports_only_rss_mb": round(idle_rss), "files": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
