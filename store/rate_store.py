"""Rate-limit counters in the deployment's database, shared by every API process.

A ``limits`` storage (:class:`DatabaseStorage`, used with its fixed-window strategy) over one
table, ``rate_counters``: a counter per limit and caller, incremented in a single upsert
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``), which restarts it when its window has ended.
Every ``callscope serve`` process on the same database therefore counts against the same
limit; with ``memory://`` each process would count alone and N processes would let a key make N
times its limit. Callers are not stored as they are: the key of a counter is an HMAC of the
limit and the caller (an API key id, a client address) under the deployment's secret, and
counters whose window ended are deleted by the housekeeping sweep. On SQLite the counters live
in a database file of their own (:meth:`DatabaseStorage.for_deployment`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import lru_cache
from pathlib import Path

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from callscope.store.db import RateCounter


def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert

    return insert


class DatabaseStorage(Storage):
    """Counters in ``rate_counters`` (see the module docstring)."""

    STORAGE_SCHEME = None  # built by :func:`callscope.api.guard.RateLimits`, never from a URL

    def __init__(self, sessions: sessionmaker, secret: bytes) -> None:
        super().__init__()
        self.sessions = sessions
        self.secret = secret
        self.dialect = sessions.kw["bind"].dialect.name

    @classmethod
    def for_deployment(cls, sessions: sessionmaker, secret: bytes, data_dir) -> DatabaseStorage:
        """The storage for a deployment whose database ``sessions`` opens (:func:`counter_sessions`)."""
        return cls(counter_sessions(sessions, data_dir), secret)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def _key(self, key: str) -> str:
        return hmac.new(self.secret, key.encode(), hashlib.sha256).hexdigest()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter (a new window of ``expiry`` s when the last one ended);
        the count in the window."""
        now = time.time()
        insert = _upsert(self.dialect)
        table = RateCounter.__table__
        stmt = insert(table).values(key=self._key(key), count=amount, expires_at=now + expiry)
        ended = table.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(index_elements=[table.c.key], set_={
            "count": case((ended, amount), else_=table.c.count + amount),
            "expires_at": case((ended, now + expiry), else_=table.c.expires_at),
        }).returning(table.c.count)
        with self.sessions() as s:
            count = s.execute(stmt).scalar_one()
            s.commit()
        return int(count)

    def _row(self, key: str):
        with self.sessions() as s:
            return s.execute(select(RateCounter.count, RateCounter.expires_at)
                             .where(RateCounter.key == self._key(key))).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row.count) if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires_at) if row is not None else time.time()

    def check(self) -> bool:
        try:
            with self.sessions() as s:
                s.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.sessions() as s:
            n = s.execute(delete(RateCounter)).rowcount
            s.commit()
            return n

    def clear(self, key: str) -> None:
        with self.sessions() as s:
            s.execute(delete(RateCounter).where(RateCounter.key == self._key(key)))
            s.commit()


def counter_sessions(sessions: sessionmaker, data_dir) -> sessionmaker:
    """Where a deployment's counters live. On PostgreSQL, its ``rate_counters`` table (row locks:
    counting never waits for other writes). On SQLite, whose one writer at a time would make
    every request wait for the analysis and correction transactions, a database of its own
    beside it (``<data_dir>/rate-limits.db``, shared by the API processes of the machine)."""
    if sessions.kw["bind"].dialect.name != "sqlite":
        return sessions
    return _side_database(str(Path(data_dir) / "rate-limits.db"))


@lru_cache(maxsize=4)
def _side_database(path: str) -> sessionmaker:
    from callscope.store.db import make_engine, session_factory

    engine = make_engine(f"sqlite:///{path}")
    RateCounter.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]  # a Table
    Path(path).chmod(0o600)
    return session_factory(engine)


def purge_ended(sessions: sessionmaker) -> int:
    """Delete counters whose window ended; how many."""
    with sessions() as s:
        n = s.execute(delete(RateCounter).where(RateCounter.expires_at <= time.time())).rowcount
        s.commit()
        return n
