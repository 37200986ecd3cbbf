"""Recognise audio containers by their first bytes (not by the file name a user chose)."""

from __future__ import annotations


def audio_kind(head: bytes) -> str | None:
    """The container of a file starting with ``head`` (≥ 12 bytes), or None if it is not audio."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0):
        return "mp3"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    return None


MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "m4a": "audio/mp4",
               "mp3": "audio/mpeg", "webm": "audio/webm"}
