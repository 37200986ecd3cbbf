"""faster-whisper's batched pipeline vs its sequential decoding over the same speech-gated audio
(issue 9, item 5: "if base becomes the default, make it fast").

Same clips as ``benchmarks/asr_phone.py`` (real phone audio with references), VAD in silero's
8 kHz mode as the pipeline runs it. Sequential: ``transcribe_speech`` (what the product does).
Batched: ``BatchedInferencePipeline`` over the same joined speech, cut at region boundaries into
clips of at most 30 s, batch 8. WER over all clips, seconds of ASR, one run.

    .venv/bin/python benchmarks/asr_batched.py [--out benchmarks/results/asr_batched.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.asr_phone import clips  # noqa: E402
from benchmarks.reference import normalise_text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def clip_spans(speech_map, max_s: float = 30.0) -> list[dict]:
    """Spans (s) of the joined speech, cut at region boundaries, each at most ``max_s`` long."""
    spans, start, prev_end = [], None, 0.0
    for offset, region in zip(speech_map.offsets, speech_map.regions):
        end = offset + region.duration
        if start is None:
            start = offset
        elif end - start > max_s:
            spans.append((start, prev_end))
            start = offset
        prev_end = end
    if start is not None:
        spans.append((start, prev_end))
    out = []
    for a, b in spans:
        while b - a > max_s:
            out.append({"start": a, "end": a + max_s})
            a += max_s
        out.append({"start": a, "end": b})
    return out


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "asr_batched.json")
    args = parser.parse_args()
    import jiwer
    from faster_whisper import BatchedInferencePipeline

    from callscope.audio.vad import SileroVad
    from callscope.transcription.engine import AsrSettings, create_engine
    from callscope.transcription.speech_gate import ASR_GAP_S, gather_speech, transcribe_speech

    data = clips()
    vad = SileroVad()
    regions = [vad.regions(x, narrowband=True) for _, x, _ in data]
    refs = [normalise_text(t) for _, _, t in data]
    rows = []
    for model in ("tiny.en", "base"):
        for beam in (1, 5):
            engine = create_engine(AsrSettings(model=model, beam_size=beam, device="cpu", language="en"))
            t0 = time.perf_counter()
            seq = [normalise_text(" ".join(w.word for w in transcribe_speech(engine, x, r, 16000)))
                   for (_, x, _), r in zip(data, regions)]
            seq_s = time.perf_counter() - t0
            pipeline = BatchedInferencePipeline(engine.model)
            t0 = time.perf_counter()
            batched = []
            for (_, x, _), r in zip(data, regions):
                joined, speech_map = gather_speech(x, r, 16000, ASR_GAP_S)
                segments, _ = pipeline.transcribe(joined, language="en", beam_size=beam, word_timestamps=True,
                                                  clip_timestamps=clip_spans(speech_map), batch_size=8)
                batched.append(normalise_text(" ".join(w.word for s in segments for w in (s.words or []))))
            batched_s = time.perf_counter() - t0
            rows.append({"model": model, "beam": beam, "sequential_wer": round(jiwer.wer(refs, seq), 4), "sequential_s": round(seq_s, 2),
                         "batched_wer": round(jiwer.wer(refs, batched), 4), "batched_s": round(batched_s, 2)})
            r = rows[-1]
            print(f"{model:8} beam {beam}: sequential WER {100 * r['sequential_wer']:.1f} % in {r['sequential_s']:.1f} s, "
                  f"batched WER {100 * r['batched_wer']:.1f} % in {r['batched_s']:.1f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "asr_batched", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "configs": rows},
                                   indent=2) + "\n")


if __name__ == "__main__":
    main()
