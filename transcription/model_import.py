"""Bring a Whisper model of the deployment's own into callscope: convert, check, register.

Three kinds of source are taken (:func:`kind_of`):

* a **CTranslate2** directory (``model.bin`` + ``config.json``): copied as it is;
* a **Hugging Face** Whisper directory (``config.json`` with ``model_type`` ``whisper`` and its
  weights), e.g. KBLab's KB-Whisper or a CoRal Danish model: converted by CTranslate2's own
  converter (``ctranslate2.converters.TransformersConverter``);
* an **OpenAI Whisper checkpoint** (``.pt``, as openai-whisper saves them: ``dims`` and
  ``model_state_dict``): converted to Hugging Face format by transformers' own conversion
  (``transformers.models.whisper.convert_openai_to_hf``, with the tokenizer from openai-whisper's
  bundled vocabulary and the generation settings built here instead of fetched), then as above.

The weights are kept in float16 (``weights="float16"``, the default: as the source, for a GPU,
and on CPU computed in int8 at load, as the bundled models are) or quantised to int8 for CPU-only
machines (``weights="int8"``: half the size; transcripts can differ in a few words from
float16's, as they did on Call01). The converted model is loaded and
decodes a shipped clip (``samples/jfk.flac``) before it is registered; a model that does not load
or hears nothing is not registered. Nothing is downloaded: Hugging Face's offline mode is forced.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from callscope.errors import CallscopeError
from callscope.transcription.model_registry import RegisteredModel, check_name, models_dir, register
from callscope.transcription.weights import force_offline

ROOT = Path(__file__).resolve().parents[1]
CHECK_CLIP = ROOT / "samples" / "jfk.flac"
KINDS = ("ctranslate2", "hugging-face", "openai")
WEIGHTS = ("float16", "int8")
#: OpenAI's model sizes by (encoder layers, decoder layers, width, mel bands): their name in
#: openai-whisper's table of alignment heads (large-v1 has large-v2's shape: v2's heads are used).
OPENAI_SHAPES = {(4, 4, 384, 80): "tiny", (6, 6, 512, 80): "base", (12, 12, 768, 80): "small",
                 (24, 24, 1024, 80): "medium", (32, 32, 1280, 80): "large-v2", (32, 32, 1280, 128): "large-v3",
                 (32, 4, 1280, 128): "large-v3-turbo"}
CT2_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json", "preprocessor_config.json")


class ImportFailed(CallscopeError):
    """A model could not be taken in; the message says why and what to do."""


def kind_of(path: Path) -> str:
    """``ctranslate2``, ``hugging-face`` or ``openai`` for the model at ``path``."""
    if path.is_file():
        if path.suffix == ".pt":
            return "openai"
        raise ImportFailed(f"{path}: a file must be an OpenAI Whisper checkpoint ending in .pt")
    if not path.is_dir():
        raise ImportFailed(f"{path}: no such file or directory")
    if (path / "model.bin").is_file() and (path / "config.json").is_file():
        return "ctranslate2"
    config = path / "config.json"
    if config.is_file():
        try:
            model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
        except ValueError as exc:
            raise ImportFailed(f"{config} is not JSON ({exc})") from exc
        if model_type == "whisper" and any((path / f).is_file() for f in ("model.safetensors", "pytorch_model.bin")) \
                or model_type == "whisper" and any(path.glob("model-*.safetensors")):
            return "hugging-face"
        raise ImportFailed(f"{path}: a Hugging Face directory, but not of a Whisper model with its weights "
                           f"(model_type {model_type!r})")
    raise ImportFailed(f"{path}: neither a CTranslate2 Whisper directory (model.bin, config.json) nor a Hugging Face "
                       "one (config.json, model.safetensors)")


def _alignment_heads(name: str | None, layers: int, heads: int) -> list[list[int]] | None:
    """OpenAI's alignment heads for the model size ``name`` (from openai-whisper's table)."""
    if name is None:
        return None
    import whisper

    dump = whisper._ALIGNMENT_HEADS.get(name)  # noqa: SLF001 - openai-whisper keeps them only here
    if dump is None:
        return None
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(layers, heads)
    return [[int(a), int(b)] for a, b in zip(*np.nonzero(mask))]


def openai_to_hf(checkpoint: Path, out_dir: Path) -> list[str]:
    """Convert an OpenAI Whisper checkpoint to a Hugging Face directory with transformers' own
    conversion; notes on what was assumed."""
    force_offline()
    import torch
    import transformers.models.whisper.convert_openai_to_hf as conv
    import whisper
    from tiktoken.load import load_tiktoken_bpe
    from transformers import GenerationConfig, WhisperFeatureExtractor, WhisperProcessor, WhisperTokenizerFast
    from whisper.tokenizer import LANGUAGES, get_tokenizer

    try:  # weights only: a checkpoint is never unpickled as code
        dims = torch.load(checkpoint, map_location="cpu", weights_only=True)["dims"]
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise ImportFailed(f"{checkpoint}: not an OpenAI Whisper checkpoint (torch cannot read it as a dictionary of "
                           f"dims and weights: {type(exc).__name__})") from exc
    assets = Path(whisper.__file__).parent / "assets"

    def generation_config(is_multilingual: bool, num_languages: int = 100, openai_version=None) -> GenerationConfig:
        """What transformers would fetch from the hub, built from openai-whisper's tokenizer."""
        tok = get_tokenizer(is_multilingual, num_languages=num_languages)
        config = GenerationConfig(
            decoder_start_token_id=tok.sot, bos_token_id=tok.eot, eos_token_id=tok.eot, pad_token_id=tok.eot,
            begin_suppress_tokens=[tok.encode(" ")[0], tok.eot],
            suppress_tokens=sorted(set(tok.non_speech_tokens) | {tok.translate, tok.transcribe, tok.sot, tok.sot_prev,
                                                                  tok.sot_lm, tok.no_speech}),
            no_timestamps_token_id=tok.no_timestamps, prev_sot_token_id=tok.sot_prev, max_length=448,
            max_initial_timestamp_index=50, is_multilingual=is_multilingual, return_timestamps=False)
        if is_multilingual:
            config.lang_to_id = {f"<|{code}|>": tok.encoding.encode_single_token(f"<|{code}|>")
                                 for code in list(LANGUAGES)[:num_languages]}
            config.task_to_id = {"transcribe": tok.transcribe, "translate": tok.translate}
        return config

    conv._TOKENIZERS = {"multilingual": str(assets / "multilingual.tiktoken"), "english": str(assets / "gpt2.tiktoken")}
    conv._get_generation_config = generation_config
    conv.load_tiktoken_bpe = load_tiktoken_bpe  # the script imports it only under __main__
    with contextlib.redirect_stdout(io.StringIO()):  # it prints every renamed key
        model, multilingual, languages = conv.convert_openai_whisper_to_tfms(str(checkpoint), str(out_dir))
    shape = (dims["n_audio_layer"], dims["n_text_layer"], dims["n_audio_state"], dims["n_mels"])
    size = OPENAI_SHAPES.get(shape)
    name = None if size is None else (size + ".en" if not multilingual and size in ("tiny", "base", "small", "medium") else size)
    heads = _alignment_heads(name, dims["n_text_layer"], dims["n_text_head"])
    notes = []
    if heads:
        model.generation_config.alignment_heads = heads
        notes.append(f"word timing: OpenAI's alignment heads of Whisper {name} (the checkpoint has {name}'s shape)")
    else:
        notes.append("word timing: no known alignment heads for this shape; CTranslate2 uses the last half of the "
                     "decoder's heads")
    tokenizer = conv.convert_tiktoken_to_hf(multilingual, languages)
    extractor = WhisperFeatureExtractor(feature_size=model.config.num_mel_bins)
    WhisperProcessor(tokenizer=tokenizer, feature_extractor=extractor).save_pretrained(out_dir)
    WhisperTokenizerFast.from_pretrained(out_dir).save_pretrained(out_dir, legacy_format=False)
    model.save_pretrained(out_dir)
    return notes


def hf_to_ct2(hf_dir: Path, out_dir: Path, quantization: str) -> None:
    """Convert a Hugging Face Whisper directory with CTranslate2's own converter."""
    force_offline()
    import ctranslate2

    class Converter(ctranslate2.converters.TransformersConverter):
        def load_model(self, model_class, model_name_or_path, **kwargs):
            # CTranslate2 4.8 names the dtype argument as transformers 5 does; transformers 4 calls it torch_dtype
            if "dtype" in kwargs:
                kwargs["torch_dtype"] = kwargs.pop("dtype")
            return model_class.from_pretrained(model_name_or_path, **kwargs)

    with tempfile.TemporaryDirectory() as tmp:
        source = hf_dir
        if not (hf_dir / "tokenizer.json").is_file():  # faster-whisper reads tokenizer.json, else downloads one
            from transformers import WhisperTokenizerFast

            source = Path(tmp) / "hf"
            shutil.copytree(hf_dir, source)
            WhisperTokenizerFast.from_pretrained(hf_dir).save_pretrained(source, legacy_format=False)
        extra = [f for f in ("tokenizer.json", "preprocessor_config.json") if (source / f).is_file()]
        Converter(str(source), copy_files=extra).convert(str(out_dir), quantization=quantization, force=True)


def check(ct2_dir: Path, language: str | None, device: str = "cpu") -> dict:
    """Load the model and decode the shipped check clip; what it heard and how long it took."""
    from faster_whisper import WhisperModel

    from callscope.audio.decode import decode_file

    t0 = time.perf_counter()
    try:
        model = WhisperModel(str(ct2_dir), device=device, compute_type="int8" if device == "cpu" else "float16",
                             local_files_only=True)
        audio = decode_file(CHECK_CLIP).mono()
        segments, info = model.transcribe(audio, language=language if model.model.is_multilingual else None,
                                          beam_size=1, temperature=(0.0,), condition_on_previous_text=False)
        text = " ".join(s.text.strip() for s in segments).strip()
    except Exception as exc:  # noqa: BLE001 - whatever CTranslate2 says, the model is not usable
        raise ImportFailed(f"the converted model does not load or decode: {type(exc).__name__}: {exc}") from exc
    if not text:
        raise ImportFailed(f"the converted model heard nothing in {CHECK_CLIP.name}: it is not registered")
    return {"clip": CHECK_CLIP.name, "text": text, "seconds": round(time.perf_counter() - t0, 2),
            "multilingual": bool(model.model.is_multilingual), "language": info.language}


def add(source: Path, name: str, language: str | None = None, default: bool = False, weights: str = "float16",
        root: Path | None = None, say=lambda _msg: None) -> RegisteredModel:
    """Convert (where needed), check and register the model at ``source`` as ``name``.

    ``language``: the language it is for (None: any); ``default``: it replaces Whisper base for
    calls no model was asked for; ``weights``: ``float16`` (as the source) or ``int8`` (quantised).
    Raises :class:`ImportFailed` (nothing is registered or left behind then)."""
    check_name(name)
    source = source.expanduser().resolve()
    kind = kind_of(source)
    root = root or models_dir()
    target = root / name
    if weights not in WEIGHTS:
        raise ImportFailed(f"weights {weights!r}: choose {' or '.join(WEIGHTS)}")
    quantization = weights
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    notes: list[str] = []
    try:
        out = staging / "ct2"
        if kind == "ctranslate2":
            say(f"copying the CTranslate2 model from {source}")
            out.mkdir()
            for f in CT2_FILES:
                if (source / f).is_file():
                    shutil.copy2(source / f, out / f)
            quantization = "as given"
        else:
            hf = source
            if kind == "openai":
                say(f"converting {source.name} to Hugging Face format (transformers' conversion)")
                hf = staging / "hf"
                notes += openai_to_hf(source, hf)
            say(f"converting to CTranslate2, {quantization} (CTranslate2's converter)")
            hf_to_ct2(hf, out, quantization)
        say(f"checking that it loads and decodes {CHECK_CLIP.name}")
        heard = check(out, language)
        if target.exists():
            shutil.rmtree(target)
        out.replace(target)
    except ImportFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - a converter's own error, said plainly
        raise ImportFailed(f"{source}: the conversion failed: {type(exc).__name__}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    entry = RegisteredModel(name=name, path=str(target), kind=kind, source=str(source), language=language,
                            default=default, quantization=quantization, multilingual=heard.pop("multilingual"),
                            added=datetime.now(UTC).isoformat(timespec="seconds"),
                            check={**heard, "notes": notes})
    register(entry, root)
    return entry
