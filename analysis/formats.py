"""Write a :class:`~callscope.analysis.schema.CallAnalysis` as json, rttm, srt, vtt or txt."""

from __future__ import annotations

import os
from pathlib import Path

from callscope.analysis.schema import CallAnalysis

FORMATS = ("json", "rttm", "srt", "vtt", "txt")


def _clock(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_json(result: CallAnalysis) -> str:
    return result.model_dump_json(indent=2) + "\n"


def to_rttm(result: CallAnalysis) -> str:
    """NIST RTTM speaker turns (the diarisation, not the words)."""
    uri = Path(result.file).stem.replace(" ", "_") or "call"
    return "".join(
        f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in result.turns
    )


def to_srt(result: CallAnalysis) -> str:
    blocks = [
        f"{i}\n{_clock(u.start, ',')} --> {_clock(u.end, ',')}\n[{u.speaker}] {u.text}\n"
        for i, u in enumerate(result.utterances, 1)
    ]
    return "\n".join(blocks)


def to_vtt(result: CallAnalysis) -> str:
    cues = [f"{_clock(u.start, '.')} --> {_clock(u.end, '.')}\n<v {u.speaker}>{u.text}\n" for u in result.utterances]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_txt(result: CallAnalysis) -> str:
    return "".join(f"[{_clock(u.start, '.')}] {u.speaker}: {u.text}\n" for u in result.utterances)


WRITERS = {"json": to_json, "rttm": to_rttm, "srt": to_srt, "vtt": to_vtt, "txt": to_txt}


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path`` through a temporary file, so a reader never
    sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    os.replace(tmp, path)


def write_outputs(result: CallAnalysis, out_dir: Path, stem: str, formats: list[str]) -> list[Path]:
    """Write ``result`` in each of ``formats`` as ``out_dir/stem.<format>``; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        write_atomic(path, WRITERS[fmt](result))
        written.append(path)
    return written
