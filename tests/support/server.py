"""Start ``callscope`` service processes (API server, workers, admin commands) for the tests and
benchmarks, and wait for them: real processes, real ports on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict:
    """Environment for a service process: its data directory and database, plus ``extra``."""
    env = dict(os.environ, CALLSCOPE_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    env.pop("CALLSCOPE_DATABASE_URL", None)
    if database_url:
        env["CALLSCOPE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """``callscope <args>`` as a background process, its output appended to the file ``log`` (read
    by the tests: error messages, and no personal data in log lines)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "callscope.cli", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def admin_key(env: dict, name: str = "tests") -> str:
    """A new admin key, made with ``callscope keys create`` (the way an operator makes the first)."""
    out = subprocess.run([sys.executable, "-m", "callscope.cli", "keys", "create", "--name", name, "--scope", "admin"],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("server did not become ready")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Ask a process to stop (SIGINT), kill it if it does not."""
    if proc.poll() is None:
        proc.send_signal(2)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class Service:
    """One deployment: a data directory and database, an API server on a fixed port (it can be
    killed and started again on the same port) and any number of worker processes."""

    def __init__(self, data_dir: Path, database_url: str | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.database_url = database_url or f"sqlite:///{data_dir / 'callscope.db'}"
        self.env = service_env(data_dir, self.database_url, **env)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        #: where the server's and the workers' output goes (outside data_dir: erasure tests walk it)
        self.log_dir = data_dir.with_name(data_dir.name + "-logs")

    def start_api(self, *flags: str) -> subprocess.Popen:
        self.api = start(["serve", "--port", str(self.port), *flags], self.env, self.log_dir / "api.log")
        wait_ready(self.base, self.api)
        return self.api

    def start_worker(self) -> subprocess.Popen:
        proc = start(["worker"], self.env, self.log_dir / f"worker-{len(self.workers)}.log")
        self.workers.append(proc)
        return proc

    def client(self, key: str | None, timeout: float = 60) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=timeout)

    def sql(self, query: str, **params) -> list:
        """Rows of a read-only SQL query on this deployment's database (for checks in tests)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(query), params).all()
        finally:
            engine.dispose()

    def opened(self, call_id: str, column: str) -> str | None:
        """A call's sealed column (``filename``, ``result_json``, ``transcript_text``) as plaintext,
        opened with this deployment's keyring (privacy/call_keys.py)."""
        from sqlalchemy import select

        from callscope.privacy.call_keys import open_value
        from callscope.store.db import Call, make_engine, session_factory

        engine = make_engine(self.database_url)
        try:
            with session_factory(engine, self.data_dir)() as s:
                stored = s.execute(select(getattr(Call, column)).where(Call.id == call_id)).scalar_one_or_none()
                return open_value(s, call_id, column, stored)
        finally:
            engine.dispose()

    def log_text(self) -> str:
        """Everything the server and the workers wrote so far."""
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def close(self) -> None:
        for proc in [*self.workers, *([self.api] if self.api else [])]:
            stop(proc)


def wait_done(client: httpx.Client, call_id: str, timeout: float = 300) -> dict:
    """The call once its analysis ended (status done, failed or unsupported_language); TimeoutError
    after ``timeout`` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.get(f"/v1/calls/{call_id}").json()
        if body["status"] in ("done", "failed", "unsupported_language"):
            return body
        time.sleep(0.5)
    raise TimeoutError(f"call {call_id} still {body['status']}")


def new_key(admin: httpx.Client, name: str, *scopes: str) -> str:
    """A new API key made over HTTP by an admin client."""
    r = admin.post("/v1/keys", json={"name": name, "scopes": list(scopes)})
    assert r.status_code == 201, r.text
    return r.json()["key"]


@contextmanager
def running_service(data_dir: Path, database_url: str | None = None, *flags: str, **env: str) -> Iterator[Service]:
    """A started API server (``callscope serve`` with ``flags``) with an admin key in ``.key``;
    stopped, with its workers, on exit."""
    svc = Service(data_dir, database_url, **env)
    svc.key = admin_key(svc.env)
    try:
        svc.start_api(*flags)
        yield svc
    finally:
        svc.close()
