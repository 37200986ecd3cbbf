"""A throwaway PostgreSQL server on 127.0.0.1, for the tests, the benchmarks and CI.

Uses the server binaries of Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``);
``.ci/run`` installs the package when it is missing. PostgreSQL refuses to run as root, so as
root the server runs as the ``postgres`` user the package creates. Only the standard library is
used, so CI can start the server before the project's virtual environment exists:

    python3 tests/support/postgres.py start DIR   # prints the admin URL; the server keeps running
    python3 tests/support/postgres.py stop DIR
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ADMIN_DB = "postgres"


def bin_dir() -> Path | None:
    """Where initdb/pg_ctl live, newest major version first; None if PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """A PostgreSQL cluster in ``root`` (created if needed), trusting loopback connections only.
    As root, ``root`` must lie where the ``postgres`` user can reach it (the default, a new
    directory in /tmp, does)."""

    def __init__(self, root: Path | None = None) -> None:
        self.bin = bin_dir()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries not found: install Debian's 'postgresql' package")
        self.root = Path(root or tempfile.mkdtemp(prefix="callscope-pg-"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-1500:]}")
        return done

    @property
    def port(self) -> int:
        return int((self.root / "port").read_text())

    def url(self, database: str = ADMIN_DB) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        """Create the cluster (first time) and start it; returns the admin database's URL."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--locale=C")
        (self.root / "port").write_text(str(_free_port()))
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
        return self.url()

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)


def new_database(admin_url: str, prefix: str) -> str:
    """A fresh, empty database named ``<prefix>_<random>`` on the server of ``admin_url``; its URL."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def benchmark_database(prefix: str) -> Iterator[str]:
    """A new database for a benchmark, on the server in ``CALLSCOPE_TEST_POSTGRES_URL`` (an admin
    URL) if set, else on a throwaway server started here and stopped afterwards; yields its URL."""
    pg, admin_url = None, os.environ.get("CALLSCOPE_TEST_POSTGRES_URL")
    if admin_url is None:
        pg = TempPostgres()
        admin_url = pg.start()
    try:
        yield new_database(admin_url, prefix)
    finally:
        if pg is not None:
            pg.stop()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    pg = TempPostgres(Path(argv[2]))
    if argv[1] == "start":
        try:
            print(pg.start())
        except RuntimeError as exc:
            print(f"could not start PostgreSQL: {exc}", file=sys.stderr)
            return 1
    else:
        pg.stop()
    return 0


def new_postgres_database(admin_url: str) -> str:
    """A fresh, empty database on the server of ``admin_url``; its URL."""
    return new_database(admin_url, "callscope_test")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
