"""Service settings, from environment variables (all optional)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _flag(value: str, name: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "on", "true", "yes"):
        return True
    if v in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"{name}={value!r}: use on or off")


@dataclass(frozen=True)
class ServiceSettings:
    """
    Attributes:
        data_dir: where the SQLite database and the audio store live (``CALLSCOPE_DATA_DIR``).
        database_url: SQLAlchemy URL (``CALLSCOPE_DATABASE_URL``); SQLite in ``data_dir`` by default,
            ``postgresql+psycopg://…`` for PostgreSQL.
        max_upload_bytes: largest accepted file (``CALLSCOPE_MAX_UPLOAD_MB``, default 500 MB).
        max_files_per_request: files in one upload (``CALLSCOPE_MAX_FILES_PER_REQUEST``, default 100).
        lease_s: how long a worker holds a job without a heartbeat before another may take it.
        max_attempts: runs of one job before it is marked failed.
        retry_backoff_s: wait before the first retry; doubles with each further attempt.
        auth: require API keys (``CALLSCOPE_AUTH``, default on; ``off`` only for a single-user
            machine: every request is then an admin).
        retention_days: calls older than this many days are purged (``CALLSCOPE_RETENTION_DAYS``;
            unset: kept until deleted).
        retention_check_s: how often the server runs the purge (``CALLSCOPE_RETENTION_CHECK_S``).
    """

    data_dir: Path
    database_url: str
    max_upload_bytes: int = 500 * 1024 * 1024
    max_files_per_request: int = 100
    lease_s: float = 60.0
    max_attempts: int = 3
    retry_backoff_s: float = 5.0
    auth: bool = True
    retention_days: float | None = None
    retention_check_s: float = 3600.0

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    @classmethod
    def from_env(cls, **overrides) -> "ServiceSettings":
        data_dir = Path(overrides.pop("data_dir", None) or os.environ.get("CALLSCOPE_DATA_DIR", "callscope-data")).resolve()
        url = overrides.pop("database_url", None) or os.environ.get("CALLSCOPE_DATABASE_URL") or f"sqlite:///{data_dir / 'callscope.db'}"
        env = dict(
            max_upload_bytes=int(float(os.environ.get("CALLSCOPE_MAX_UPLOAD_MB", "500")) * 1024 * 1024),
            max_files_per_request=int(os.environ.get("CALLSCOPE_MAX_FILES_PER_REQUEST", "100")),
            lease_s=float(os.environ.get("CALLSCOPE_LEASE_S", "60")),
            max_attempts=int(os.environ.get("CALLSCOPE_MAX_ATTEMPTS", "3")),
            retry_backoff_s=float(os.environ.get("CALLSCOPE_RETRY_BACKOFF_S", "5")),
            auth=_flag(os.environ.get("CALLSCOPE_AUTH", "on"), "CALLSCOPE_AUTH"),
            retention_days=float(os.environ["CALLSCOPE_RETENTION_DAYS"]) if os.environ.get("CALLSCOPE_RETENTION_DAYS") else None,
            retention_check_s=float(os.environ.get("CALLSCOPE_RETENTION_CHECK_S", "3600")),
        )
        env.update(overrides)
        return cls(data_dir=data_dir, database_url=url, **env)
