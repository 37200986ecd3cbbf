"""ASR at telephone quality: Whisper tiny.en vs base, beam 1 vs 5, with and without the speech
gate (silero-vad regions only, as the pipeline runs it, vs the whole signal), on real phone
recordings with reference text (issue 9, item 5).

Clips: Callytics Call01 (WhatsApp call, 8 kHz), its G.711 µ-law copy, and the four LibriVox
sentences band-limited to telephone quality (decoded at 8 kHz, then back to 16 kHz). WER
(jiwer) on lower-cased text without punctuation over all clips together; RTF = ASR seconds /
audio seconds, one run, models loaded once (not timed).

    .venv/bin/python benchmarks/asr_phone.py [--out benchmarks/results/asr_phone.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.calls import cases  # noqa: E402
from benchmarks.reference import AUDIO, normalise_text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: speech gate: None = off (whole signal), "16k" = silero's 16 kHz mode, "8k" = its 8 kHz (telephone) mode
CONFIGS = [(model, beam, gate) for model in ("tiny.en", "base") for beam in (1, 5) for gate in ("8k", "16k", None)]


def clips() -> list[tuple[str, "np.ndarray", str]]:  # noqa: F821
    import soxr

    from callscope.audio.decode import decode_file

    call01 = next(c for c in cases() if c.name.startswith("Call01 (8"))
    out = [("Call01", decode_file(call01.path).mono(), call01.text),
           ("Call01 µ-law", decode_file(AUDIO / "telephone_codecs" / "Call01_mulaw_8k.wav").mono(), call01.text)]
    for wav in sorted((AUDIO / "librivox").glob("*.wav")):
        narrow = decode_file(wav, target_sample_rate=8000).mono()
        out.append((f"librivox {wav.stem[-4:]} (8 kHz)", soxr.resample(narrow, 8000, 16000).astype("float32"),
                    wav.with_suffix(".txt").read_text()))
    return out


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "asr_phone.json")
    args = parser.parse_args()
    import jiwer

    from callscope.audio.vad import SileroVad
    from callscope.transcription.engine import AsrSettings, create_engine
    from callscope.transcription.speech_gate import transcribe_speech

    data = clips()
    vad = SileroVad()
    regions = {mode: [vad.regions(x, narrowband=mode == "8k") for _, x, _ in data] for mode in ("8k", "16k")}
    audio_s = sum(len(x) for _, x, _ in data) / 16000
    refs = [normalise_text(t) for _, _, t in data]
    engines: dict[tuple[str, int], object] = {}
    rows = []
    for model, beam, gate in CONFIGS:
        engine = engines.get((model, beam)) or create_engine(AsrSettings(model=model, beam_size=beam, device="cpu", language="en"))
        engines[(model, beam)] = engine
        t0 = time.perf_counter()
        hyps = []
        for k, (_, x, _) in enumerate(data):
            words = transcribe_speech(engine, x, regions[gate][k], 16000) if gate else engine.transcribe(x)
            hyps.append(normalise_text(" ".join(w.word for w in words)))
        took = time.perf_counter() - t0
        rows.append({"model": model, "beam": beam, "speech_gate": gate, "wer": round(jiwer.wer(refs, hyps), 4),
                     "wer_per_clip": {n: round(jiwer.wer(r, h), 4) for (n, _, _), r, h in zip(data, refs, hyps)},
                     "asr_s": round(took, 2), "rtf": round(took / audio_s, 4)})
        print(f"{model:8} beam {beam} gate {gate or 'off':3}  WER {100 * rows[-1]['wer']:5.1f}%  "
              f"RTF {rows[-1]['rtf']:.3f}  Call01 {100 * rows[-1]['wer_per_clip']['Call01']:5.1f}%", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "asr_phone", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "audio_s": round(audio_s, 1), "clips": [n for n, _, _ in data], "configs": rows},
                                   indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
