"""Writing audio as a telephone line carries it: G.711 µ-law WAV at 8 kHz, mono. Used to make
telephone copies of wideband recordings for measurements and tests (what Whisper hears on a call)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

RATE = 8000


def write_g711(samples: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """``samples`` (mono float32 at 8 kHz, -1..1) as a G.711 µ-law WAV at ``path``."""
    import av

    samples = np.asarray(samples, dtype=np.float32)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_mulaw", rate=RATE)
        stream.layout = "mono"
        for i in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[None, i:i + 1024]), format="fltp", layout="mono")
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Path(path)


def g711_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """The recording ``src`` as a G.711 µ-law WAV at 8 kHz, mono, at ``dst``."""
    from callscope.audio.decode import decode_file

    return write_g711(decode_file(src, target_sample_rate=RATE).mono(), dst)
