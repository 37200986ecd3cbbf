"""Written contact-centre dialogues (``benchmarks/data/dialogues.json``) spoken into telephone calls.

Each line of a dialogue is marked agent or customer, so the roles are known by construction.
espeak-ng (Debian's ``espeak-ng``) speaks each line, agent and customer with different voice
variants and pitches; the lines follow each other with short pauses, and the call is written as
a G.711 µ-law WAV at 8 kHz, mono, as a telephone line carries it. The speech is synthetic: these
calls test what the words and the turn order say about roles (who answers, who introduces the
company, who pitches), not acoustics.

    from benchmarks.dialogue_audio import dialogues, speak
    path, turns = speak(dialogues()[0], Path("/tmp"))
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

DIALOGUES = Path(__file__).resolve().parent / "data" / "dialogues.json"
#: espeak-ng voice per language.
VOICES = {"en": "en-us", "sv": "sv", "da": "da", "no": "nb", "fi": "fi", "de": "de", "fr": "fr-fr", "es": "es",
          "pl": "pl", "ru": "ru", "pt": "pt"}
#: (voice variant, pitch 0..99) for the two parties; which party gets which alternates by dialogue.
PARTIES = (("f2", 62), ("m3", 38))
RATE = 8000  # callscope.audio.telephone.RATE


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def dialogues() -> list[dict]:
    return json.loads(DIALOGUES.read_text(encoding="utf-8"))["dialogues"]


def _say(text: str, voice: str, pitch: int, speed: int, out: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(out), text],
                   check=True, capture_output=True, timeout=60)
    from callscope.audio.decode import decode_file

    return decode_file(out, target_sample_rate=RATE).mono()


def speak(dialogue: dict, out_dir: Path) -> tuple[Path, list[tuple[str, float, float]]]:
    """The dialogue as a G.711 µ-law call at 8 kHz in ``out_dir``: its path and the reference turns
    (role, start s, end s)."""
    from callscope.audio.telephone import write_g711

    rng = np.random.default_rng(sum(map(ord, dialogue["id"])))
    flip = sum(map(ord, dialogue["id"])) % 2
    voice = VOICES[dialogue["language"]]
    pieces = [np.zeros(int(0.6 * RATE), dtype=np.float32)]
    turns, t = [], 0.6
    with tempfile.TemporaryDirectory() as tmp:
        for n, (role, text) in enumerate(dialogue["lines"]):
            variant, pitch = PARTIES[(role == "agent") ^ flip]
            speech = _say(text, f"{voice}+{variant}", pitch, 150 if role == "agent" else 140, Path(tmp) / f"{n}.wav")
            speech = 0.5 * speech / max(float(np.max(np.abs(speech))), 1e-6)
            turns.append((role, round(t, 3), round(t + len(speech) / RATE, 3)))
            gap = float(rng.uniform(0.35, 0.8))
            pieces += [speech.astype(np.float32), np.zeros(int(gap * RATE), dtype=np.float32)]
            t += len(speech) / RATE + int(gap * RATE) / RATE
    path = write_g711(np.concatenate(pieces), out_dir / f"{dialogue['id']}.wav")
    return path, turns
