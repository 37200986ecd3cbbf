"""Schemathesis against the running server's own OpenAPI document: generated requests to every
operation (except revoking keys, which would lock the fuzzer out) must never get a 5xx. One real
call is analysed first, so the call operations see a real id through the schema's links."""

from __future__ import annotations

import pytest
import subprocess
import sys
import time
from pathlib import Path

from tests.support.server import Service, admin_key

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

@pytest.fixture(scope="module")
def database(postgres_admin_url):
    """PostgreSQL only (the database of a deployment with several API and worker processes): CI
    has 90 minutes for the whole suite, and this is the slowest module to run twice."""
    from tests.support.postgres import new_postgres_database

    return lambda _data_dir: new_postgres_database(postgres_admin_url)


SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_schemathesis_finds_no_server_errors(tmp_path, database):
    # rate limits off: the fuzzer sends thousands of requests, and a 429 would hide the operations
    svc = Service(tmp_path, database(tmp_path), CALLSCOPE_RATE_LIMIT_PER_KEY="off", CALLSCOPE_RATE_LIMIT_PER_IP="off")
    key = admin_key(svc.env)
    try:
        svc.start_api()
        with svc.client(key) as c:
            call_id = c.post("/v1/calls", files={"files": ("seed.wav", (SAMPLES / "stereo_diarization.wav").read_bytes())},
                             data={"team": "fuzz"}).json()["calls"][0]["id"]
            deadline = time.time() + 240
            while c.get(f"/v1/calls/{call_id}").json()["status"] != "done":
                assert time.time() < deadline
                time.sleep(0.5)
        st = Path(sys.executable).with_name("st")
        run = subprocess.run(
            [str(st), "run", f"{svc.base}/openapi.json", "-H", f"Authorization: Bearer {key}",
             "--checks", "not_a_server_error", "--max-examples", "10", "--seed", "20261123",
             "--generation-database", "none", "--exclude-path-regex", "^/v1/keys/", "--no-color"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its .schemathesis/ cache: not in the tree
    finally:
        svc.close()
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert "Server error" not in run.stdout and " passed" in summary, summary
