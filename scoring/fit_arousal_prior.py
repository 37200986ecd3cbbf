"""Fit the population prior for arousal (``scoring/models/arousal_prior.json``).

A speaker with too few utterances of their own (a short call, a voicemail) is normalised
against this prior instead of against themself (see :mod:`callscope.scoring.arousal_prior`).
For each of the product's arousal features it holds the median and the robust spread
(1.4826 × median absolute deviation) over many speakers' utterances, for wideband audio and
for telephone audio (the same speech band-limited through 8 kHz, as a narrowband source is).

Data (only recordings whose licence allows a shipped model; EmoDB, the acted emotional speech
used to evaluate arousal, is never used here):

* LibriVox read sentences (public domain; cmusphinx/pocketsphinx test data), 5 clips;
* JFK's inaugural address excerpt (public domain; openai/whisper tests/jfk.flac);
* FLEURS de/fr/es read sentences (CC BY 4.0, Google), 12 clips;
* NPSC Norwegian parliament speech (CC0), 2 clips;
* AMI meeting excerpts (CC BY 4.0), 3 × 30 s cut into 3 s windows (no transcript: no speaking rate).

A clip with a transcript is one utterance, its speaking rate the transcript's words per minute
of the span from its first to its last loud frame (within 35 dB of the loudest).

    .venv/bin/python -m callscope.scoring.fit_arousal_prior [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from callscope.environment import shared_data
from callscope.scoring.arousal_prior import FEATURES, PRIOR_PATH

WINDOW_S = 3.0


def _sources(data: Path) -> list[tuple[Path, Path | None]]:
    audio, multi = data / "audio", data / "multilingual" / "audio"
    with_text = sorted((audio / "librivox").glob("*.wav")) + [audio / "jfk.flac"] + sorted(multi.glob("fleurs_*.ogg")) \
        + sorted(multi.glob("no_npsc_*.mp3"))
    out: list[tuple[Path, Path | None]] = [(p, p.with_suffix(".txt")) for p in with_text]
    return out + [(p, None) for p in sorted((audio / "ami_debug").glob("*.wav"))]


def _rows(y: np.ndarray, text: str | None) -> list[dict[str, float | None]]:
    from callscope.audio.features import frame_features, summarise
    from callscope.scoring.results import UtteranceFeatures
    from callscope.scoring.utterance_scores import arousal_inputs

    frames = frame_features(y, 16_000)
    duration = len(y) / 16_000
    spans = [(0.0, duration)] if text is not None else [(a, min(a + WINDOW_S, duration)) for a in np.arange(0.0, duration - 1.0, WINDOW_S)]
    rows = []
    for a, b in spans:
        s = summarise(frames, a, b)
        if s is None or s.f0_median_hz is None:
            continue
        wpm = None
        if text is not None:
            loud = np.flatnonzero(frames.rms_dbfs > frames.rms_dbfs.max() - 35.0)
            span = (loud[-1] - loud[0]) * frames.hop_s if len(loud) > 1 else 0.0
            wpm = 60.0 * len(text.split()) / span if span >= 0.5 else None
        rows.append(arousal_inputs(UtteranceFeatures(loudness_dbfs=s.loudness_dbfs, f0_median_hz=s.f0_median_hz,
                                                     centroid_hz=s.centroid_hz, flux=s.flux, words_per_minute=wpm)))
    return rows


def fit(data: Path) -> dict:
    import soxr

    from callscope.audio.decode import decode_file

    bands: dict[str, dict] = {}
    files = _sources(data)
    for band in ("wideband", "narrowband"):
        rows = []
        for path, text_path in files:
            y = decode_file(path).mono()
            if band == "narrowband":
                y = soxr.resample(soxr.resample(y, 16_000, 8_000), 8_000, 16_000).astype(np.float32)
            rows += _rows(y, text_path.read_text() if text_path is not None else None)
        features = {}
        for key in FEATURES:
            v = np.array([r[key] for r in rows if r[key] is not None], dtype=float)
            med = float(np.median(v))
            features[key] = {"median": round(med, 4), "spread": round(1.4826 * float(np.median(np.abs(v - med))), 4), "n": int(len(v))}
        bands[band] = features
    return {"version": f"arousal-prior/1 (LibriVox PD, JFK PD, FLEURS de/fr/es CC BY 4.0, NPSC CC0, AMI CC BY 4.0; "
                       f"{len(files)} recordings; median and 1.4826 MAD; {time.strftime('%Y-%m-%d')})",
            "bands": bands}


def main() -> None:
    default = shared_data(Path(__file__).resolve().parents[2] / "shared" / "data")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--out", type=Path, default=PRIOR_PATH)
    args = parser.parse_args()
    prior = fit(args.data)
    args.out.write_text(json.dumps(prior, indent=2) + "\n")
    for band, feats in prior["bands"].items():
        print(band, {k: (v["median"], v["spread"], v["n"]) for k, v in feats.items()})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
