"""What a backfill analyses: the recordings under a directory, or the rows of a manifest.

A manifest is a CSV or Parquet file with a ``path`` column (relative paths are taken from the
manifest's directory) and any of the metadata an upload takes (:class:`~callscope.service.intake.UploadMeta`:
``external_id``, ``agent_id``, ``team``, ``queue``, ``recorded_at``, ``channel_map``, ``language``,
``customer_id``, …). A row that is invalid is reported as a failure of its own; the other rows go on.

Each recording is named by its key: the SHA-256 of its bytes plus its external id, the pair an
upload is idempotent on. Hashing happens lazily, as the pool asks for work.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from callscope.service.intake import MetaError, UploadMeta, checked

#: File name endings taken as recordings when SOURCE is a directory.
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".ogg", ".opus", ".oga", ".m4a"})
#: Manifest formats, by file name ending.
MANIFEST_SUFFIXES = frozenset({".csv", ".parquet"})


class SourceError(Exception):
    """The source cannot be read at all (no such directory, unreadable manifest, no ``path`` column)."""


@dataclass(frozen=True)
class Recording:
    """One recording to analyse.

    Attributes:
        path: where it is, absolute (every node of the cluster must see the same path).
        meta: its metadata, validated as an upload's.
        origin: where it was listed, for messages (the path, or ``manifest.csv:12``).
    """

    path: Path
    meta: UploadMeta
    origin: str


@dataclass(frozen=True)
class Problem:
    """A listed item that cannot be analysed (reported, never retried)."""

    origin: str
    reason: str


def sha256_of(path: Path, chunk: int = 1 << 20) -> tuple[str, int]:
    """The SHA-256 (hex) of the file's bytes and its size (bytes), read in ``chunk``-byte pieces."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def key_of(sha256: str, external_id: str | None) -> str:
    """The name a result is stored under: the content hash, plus a hash of the external id when
    there is one (an external id may hold any character, so it is never used as a file name)."""
    if external_id is None:
        return sha256
    return f"{sha256}-{hashlib.sha256(external_id.encode('utf-8')).hexdigest()[:16]}"


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if Path(name).suffix.lower() in AUDIO_SUFFIXES and not name.startswith("."):
                yield Path(folder) / name


def _manifest_rows(manifest: Path) -> list[dict]:
    try:
        if manifest.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(manifest).to_pylist()
        else:
            import csv

            with open(manifest, newline="", encoding="utf-8-sig") as f:
                rows = list(csv.DictReader(f))
    except Exception as exc:  # OSError, bad UTF-8, pyarrow's own errors (not a Parquet file, …)
        raise SourceError(f"{manifest}: cannot read the manifest: {type(exc).__name__}: {exc}") from exc
    if rows and "path" not in rows[0]:
        raise SourceError(f"{manifest}: a manifest needs a 'path' column (found: {', '.join(map(str, rows[0]))})")
    return rows


def read_source(source: Path, retention_days: int | None = None,
                direction_for: Callable[[str | None], str | None] | None = None) -> tuple[list[Recording], list[Problem]]:
    """The recordings ``source`` lists, and the items that cannot be analysed (bad metadata, a
    missing file). ``retention_days``: the deployment's retention (a ``recorded_at`` older is refused
    as an upload would refuse it); ``direction_for``: the deployment's direction for a queue.

    Raises:
        SourceError: the source itself cannot be read.
    """
    if source.is_dir():
        meta = checked(UploadMeta(), None, direction_for)
        return [Recording(p.absolute(), meta, str(p)) for p in _walk(source)], []
    if not source.is_file():
        raise SourceError(f"{source}: no such directory or manifest")
    if source.suffix.lower() not in MANIFEST_SUFFIXES:
        raise SourceError(f"{source}: give a directory, or a manifest ending in .csv or .parquet")
    recordings, problems = [], []
    for n, row in enumerate(_manifest_rows(source), start=2 if source.suffix.lower() == ".csv" else 1):
        origin = f"{source.name}:{n}"
        raw = str(row.get("path") or "").strip()
        if not raw:
            problems.append(Problem(origin, "no path"))
            continue
        path = (Path(raw) if Path(raw).is_absolute() else source.parent / raw).absolute()
        fields = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in row.items()
                  if k != "path" and v is not None and str(v).strip() != ""}
        try:
            meta = checked(UploadMeta.model_validate(fields), retention_days, direction_for)
        except ValidationError as exc:
            problems.append(Problem(origin, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())))
            continue
        except MetaError as exc:
            problems.append(Problem(origin, exc.message))
            continue
        if not path.is_file():
            problems.append(Problem(origin, f"{path}: no such file"))
            continue
        recordings.append(Recording(path, meta, origin))
    return recordings, problems
