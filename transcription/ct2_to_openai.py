"""Fill openai-whisper's PyTorch model from a CTranslate2 Whisper ``model.bin``.

Names map one to one (conv1/conv2, blocks.N.attn.{query,key,value,out}, mlp, layer norms);
CTranslate2 stores self-attention q/k/v fused (and cross-attention k/v fused), so they are
split here; Whisper's key projections have no bias. The converted state dict is cached on
disk (``<cache>/openai-whisper/<name>.pt``) so later runs skip the conversion.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import torch

from callscope.transcription.ct2_format import read_ct2_model
from callscope.transcription.weights import cache_dir


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.float32).copy())


def _layer_count(variables: dict[str, np.ndarray], prefix: str) -> int:
    pat = re.compile(rf"^{prefix}/layer_(\d+)/")
    return 1 + max(int(m.group(1)) for k in variables if (m := pat.match(k)))


def _attention(v: dict, src: str, dst: str, sd: dict, fused_qkv: bool) -> None:
    if fused_qkv:
        w, b = v[f"{src}/linear_0/weight"], v[f"{src}/linear_0/bias"]
        q, k, val = np.split(w, 3, axis=0)
        qb, _kb, vb = np.split(b, 3, axis=0)
        out_w, out_b = v[f"{src}/linear_1/weight"], v[f"{src}/linear_1/bias"]
    else:  # cross-attention: linear_0 = query, linear_1 = fused key/value, linear_2 = out
        q, qb = v[f"{src}/linear_0/weight"], v[f"{src}/linear_0/bias"]
        k, val = np.split(v[f"{src}/linear_1/weight"], 2, axis=0)
        _kb, vb = np.split(v[f"{src}/linear_1/bias"], 2, axis=0)
        out_w, out_b = v[f"{src}/linear_2/weight"], v[f"{src}/linear_2/bias"]
    sd[f"{dst}.query.weight"], sd[f"{dst}.query.bias"] = _t(q), _t(qb)
    sd[f"{dst}.key.weight"] = _t(k)
    sd[f"{dst}.value.weight"], sd[f"{dst}.value.bias"] = _t(val), _t(vb)
    sd[f"{dst}.out.weight"], sd[f"{dst}.out.bias"] = _t(out_w), _t(out_b)


def _norm(v: dict, src: str, dst: str, sd: dict) -> None:
    sd[f"{dst}.weight"], sd[f"{dst}.bias"] = _t(v[f"{src}/gamma"]), _t(v[f"{src}/beta"])


def _mlp(v: dict, src: str, dst: str, sd: dict) -> None:
    sd[f"{dst}.0.weight"], sd[f"{dst}.0.bias"] = _t(v[f"{src}/linear_0/weight"]), _t(v[f"{src}/linear_0/bias"])
    sd[f"{dst}.2.weight"], sd[f"{dst}.2.bias"] = _t(v[f"{src}/linear_1/weight"]), _t(v[f"{src}/linear_1/bias"])


def convert(model_dir: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """Dimensions (openai-whisper ``ModelDimensions`` fields) and state dict for ``model_dir``."""
    _spec, v = read_ct2_model(model_dir / "model.bin")
    n_audio_layer, n_text_layer = _layer_count(v, "encoder"), _layer_count(v, "decoder")
    conv1 = v["encoder/conv1/weight"]
    emb = v["decoder/embeddings/weight"]
    dims = dict(
        n_mels=int(conv1.shape[1]),
        n_audio_ctx=int(v["encoder/position_encodings/encodings"].shape[0]),
        n_audio_state=int(conv1.shape[0]),
        n_audio_head=int(v["encoder/num_heads"]),
        n_audio_layer=n_audio_layer,
        n_vocab=int(emb.shape[0]),
        n_text_ctx=int(v["decoder/position_encodings/encodings"].shape[0]),
        n_text_state=int(emb.shape[1]),
        n_text_head=int(v["decoder/num_heads"]),
        n_text_layer=n_text_layer,
    )
    sd: dict[str, torch.Tensor] = {}
    for c in ("conv1", "conv2"):
        sd[f"encoder.{c}.weight"], sd[f"encoder.{c}.bias"] = _t(v[f"encoder/{c}/weight"]), _t(v[f"encoder/{c}/bias"])
    sd["encoder.positional_embedding"] = _t(v["encoder/position_encodings/encodings"])
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        _attention(v, f"{src}/self_attention", f"{dst}.attn", sd, fused_qkv=True)
        _norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", sd)
        _mlp(v, f"{src}/ffn", f"{dst}.mlp", sd)
        _norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln", sd)
    _norm(v, "encoder/layer_norm", "encoder.ln_post", sd)
    sd["decoder.token_embedding.weight"] = _t(emb)
    sd["decoder.positional_embedding"] = _t(v["decoder/position_encodings/encodings"])
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        _attention(v, f"{src}/self_attention", f"{dst}.attn", sd, fused_qkv=True)
        _norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", sd)
        _attention(v, f"{src}/attention", f"{dst}.cross_attn", sd, fused_qkv=False)
        _norm(v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln", sd)
        _mlp(v, f"{src}/ffn", f"{dst}.mlp", sd)
        _norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln", sd)
    _norm(v, "decoder/layer_norm", "decoder.ln", sd)
    return dims, sd


def _cache_key(model_dir: Path) -> str:
    st = (model_dir / "model.bin").stat()
    return hashlib.sha1(f"{model_dir.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]


def load_openai_whisper(model_dir: Path, device: str = "cpu"):
    """An openai-whisper ``Whisper`` model with the weights of the CTranslate2 model in ``model_dir``.

    The first call converts and caches; later calls load the cached state dict.
    """
    from whisper.model import ModelDimensions, Whisper

    cached = cache_dir() / "openai-whisper" / f"{_cache_key(model_dir)}.pt"
    if cached.is_file():
        payload = torch.load(cached, map_location="cpu", weights_only=True)
        dims, sd = payload["dims"], payload["state_dict"]
    else:
        dims, sd = convert(model_dir)
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".tmp{os.getpid()}")
        torch.save({"dims": dims, "state_dict": sd}, tmp)
        os.replace(tmp, cached)
    model = Whisper(ModelDimensions(**dims))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if k not in ("decoder.mask",)]
    if missing or unexpected:
        raise RuntimeError(f"converted Whisper weights do not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")
    config = json.loads((model_dir / "config.json").read_text())
    heads = config.get("alignment_heads")
    if heads:
        mask = torch.zeros(dims["n_text_layer"], dims["n_text_head"], dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.to(device).eval()


def write_checkpoint(model_dir: Path, path: Path) -> Path:
    """The CTranslate2 Whisper model in ``model_dir`` as an OpenAI Whisper checkpoint at ``path``
    (``{"dims", "model_state_dict"}`` in float16, as openai-whisper's own are saved)."""
    dims, sd = convert(model_dir)
    torch.save({"dims": dims, "model_state_dict": {k: v.half() for k, v in sd.items()}}, path)
    return path
