"""resemblyzer's GE2E speaker encoder run by onnxruntime: no torch and no librosa when a call is analysed.

The network is resemblyzer's own (Apache-2.0, weights ``pretrained.pt`` in the ``resemblyzer``
wheel): 40 mel bands of 25 ms windows every 10 ms, a 3-layer LSTM of 256 units, the last
layer's final state through a linear layer, ReLU and L2 normalisation. Importing torch (1.4 s)
and librosa's spectral code (1.4 s) cost more than the network does on a short call, and
torch's teardown adds about half a second at exit (``benchmarks/startup.py``), so:

* the weights are read with torch **once**, on the first load, and written with the mel filter
  bank (librosa's, as resemblyzer computes it) into the cache directory
  (``CALLSCOPE_CACHE_DIR``, default ``~/.cache/callscope``; in memory when it is not writable) as
  an ONNX graph (the LSTM as ONNX's ``LSTM`` operator, gates reordered from torch's i, f, g, o to
  ONNX's i, o, f, c) and a ``.npy`` filter bank; later loads read those two files only;
* the mel spectrogram is numpy's (:mod:`callscope.audio.spectral`'s framing and window): frames
  of 400 samples every 160 (``center=False``), a periodic Hann window, the power spectrum, the
  filter bank: what
  ``librosa.feature.melspectrogram`` computes for resemblyzer.

Its d-vectors agree with resemblyzer's torch model to a cosine of 0.9999 or more
(``tests/test_speaker_runtime.py``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np

from callscope.audio import spectral

SAMPLE_RATE = 16_000
N_FFT = 400  #: 25 ms at 16 kHz (resemblyzer's mel_window_length)
HOP = 160  #: 10 ms (mel_window_step)
N_MELS = 40
HIDDEN = 256
LAYERS = 3
PARTIAL_FRAMES = 160  #: frames per window (1.6 s; resemblyzer's partials_n_frames)
#: bump when :func:`build` changes: cached files of another version are not used
GRAPH_VERSION = 1


def weights_path() -> Path:
    """resemblyzer's ``pretrained.pt``, found without importing the package (which imports torch)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the PyPI package 'resemblyzer' is not installed (pip install resemblyzer==0.1.4)")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise FileNotFoundError(f"resemblyzer's weights {path} are missing: reinstall resemblyzer==0.1.4")
    return path


def _onnx_gates(w: np.ndarray) -> np.ndarray:
    """torch's LSTM gate blocks (i, f, g, o along the first axis) in ONNX's order (i, o, f, c)."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build(weights: Path) -> tuple[bytes, np.ndarray]:
    """The ONNX graph (serialised) of the encoder in ``weights`` and the mel filter bank (40, 201).
    Imports torch, librosa and onnx: run once, its result cached (:func:`cached_model`)."""
    import librosa
    import torch
    from onnx import TensorProto, helper, numpy_helper

    state = torch.load(weights, map_location="cpu")["model_state"]
    p = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in state.items()}
    nodes, inits = [], []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    nodes.append(helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2]))  # (T, B, 40)
    x = "x0"
    squeeze_1, squeeze_0 = const("axis1", np.array([1], np.int64)), const("axis0", np.array([0], np.int64))
    for layer in range(LAYERS):
        w = const(f"W{layer}", _onnx_gates(p[f"lstm.weight_ih_l{layer}"])[None])
        r = const(f"R{layer}", _onnx_gates(p[f"lstm.weight_hh_l{layer}"])[None])
        b = const(f"B{layer}", np.concatenate([_onnx_gates(p[f"lstm.bias_ih_l{layer}"]),
                                               _onnx_gates(p[f"lstm.bias_hh_l{layer}"])])[None])
        nodes.append(helper.make_node("LSTM", [x, w, r, b], [f"y{layer}", f"h{layer}"], hidden_size=HIDDEN))
        nodes.append(helper.make_node("Squeeze", [f"y{layer}", squeeze_1], [f"x{layer + 1}"]))  # (T, B, H)
        x = f"x{layer + 1}"
    nodes.append(helper.make_node("Squeeze", [f"h{LAYERS - 1}", squeeze_0], ["last"]))  # (B, H)
    nodes.append(helper.make_node("MatMul", ["last", const("linear_w", p["linear.weight"].T)], ["lin"]))
    nodes.append(helper.make_node("Add", ["lin", const("linear_b", p["linear.bias"])], ["lin_b"]))
    nodes.append(helper.make_node("Relu", ["lin_b"], ["raw"]))
    nodes.append(helper.make_node("LpNormalization", ["raw"], ["embeddings"], axis=1, p=2))
    graph = helper.make_graph(
        nodes, "ge2e",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "frames", N_MELS])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    mel_basis = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32)
    return model.SerializeToString(), mel_basis


def cached_model(weights: Path | None = None) -> tuple[str | bytes, np.ndarray]:
    """The graph (a path in the cache directory, or the bytes when it cannot be written) and the
    filter bank, built on the first call for these weights (path, size, time) and
    :data:`GRAPH_VERSION`."""
    from callscope.environment import cache_root

    weights = weights or weights_path()
    st = weights.stat()
    key = hashlib.sha256(f"{GRAPH_VERSION}:{weights.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    graph_file, mel_file = cache_root() / f"ge2e-{key}.onnx", cache_root() / f"ge2e-{key}-mel.npy"
    if graph_file.is_file() and mel_file.is_file():
        try:
            return str(graph_file), np.load(mel_file)
        except (OSError, ValueError):  # a damaged cached file: built again below
            pass
    graph, mel_basis = build(weights)
    try:
        graph_file.parent.mkdir(parents=True, exist_ok=True)
        for target, write in ((mel_file, lambda f: np.save(f, mel_basis)), (graph_file, lambda f: f.write(graph))):
            tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
            with open(tmp, "wb") as f:
                write(f)
            os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file
    except OSError:
        return graph, mel_basis
    return str(graph_file), mel_basis


def mel_frames(segment: np.ndarray, mel_basis: np.ndarray) -> np.ndarray:
    """Mel power frames (frames, 40) of ``segment`` (float32, 16 kHz): 400-sample frames every
    160 samples, not centred, periodic Hann window, |FFT|², the filter bank. Empty when the
    segment is shorter than one frame."""
    if len(segment) < N_FFT:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = spectral.frame(segment.astype(np.float32), N_FFT, HOP).T
    power = np.abs(np.fft.rfft(frames * spectral.hann(N_FFT).astype(np.float32), axis=1)) ** 2
    return (power.astype(np.float32) @ mel_basis.T).astype(np.float32)


def partial_slices(n_samples: int, rate: float, min_coverage: float) -> tuple[list[slice], list[slice]]:
    """resemblyzer's ``VoiceEncoder.compute_partial_slices`` (Apache-2.0), without importing it:
    the waveform and mel-frame slices of windows of :data:`PARTIAL_FRAMES` frames, ``rate``
    windows a second; a last window under ``min_coverage`` (0..1] covered is dropped unless it is
    the only one."""
    samples_per_frame = HOP
    n_frames = int(np.ceil((n_samples + 1) / samples_per_frame))
    frame_step = int(np.round((SAMPLE_RATE / rate) / samples_per_frame))
    if not 0 < frame_step <= PARTIAL_FRAMES:
        raise ValueError(f"a rate of {rate} windows/s is outside what {PARTIAL_FRAMES}-frame windows allow")
    wav_slices, mel_slices = [], []
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    for i in range(0, steps, frame_step):
        mel_slices.append(slice(i, i + PARTIAL_FRAMES))
        wav_slices.append(slice(i * samples_per_frame, (i + PARTIAL_FRAMES) * samples_per_frame))
    last = wav_slices[-1]
    coverage = (n_samples - last.start) / (last.stop - last.start)
    if coverage < min_coverage and len(mel_slices) > 1:
        mel_slices, wav_slices = mel_slices[:-1], wav_slices[:-1]
    return wav_slices, mel_slices


class SpeakerRuntime:
    """Unit-length 256-dim d-vectors of mel windows, by onnxruntime on ``threads`` threads (0: its choice)."""

    def __init__(self, threads: int = 0) -> None:
        import onnxruntime as ort

        graph, self.mel_basis = cached_model()
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """d-vectors (n, 256) of ``mels`` (n, frames, 40)."""
        return self.session.run(["embeddings"], {"mels": np.ascontiguousarray(mels, dtype=np.float32)})[0]
