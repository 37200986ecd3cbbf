"""The unredacted original, for deployments that must keep it (issue 12): sealed at rest with
AES-256-GCM under a key from the environment, read back whole by admin keys only, every read in
the access log, gone with the call. Through the real service (SQLite, its worker) on the real
Call01, whose customer reads out a user name and an e-mail address."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from benchmarks.reference import AUDIO
from tests.support.server import new_key, running_service, service_env, wait_done
from callscope.privacy.sealed import MAGIC, SealError, parse_key, seal, unseal

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

CALL01 = AUDIO / "callytics" / "Call01.wav"
KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    data = tmp_path_factory.mktemp("originals")
    with running_service(data, None, CALLSCOPE_KEEP_ORIGINAL="on", CALLSCOPE_ORIGINAL_KEY=KEY) as svc:
        with svc.client(svc.key) as admin:
            r = admin.post("/v1/calls", files={"files": ("Call01.wav", CALL01.read_bytes())})
            call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, call_id)["status"] == "done"
            yield svc, admin, call_id, data


def test_the_original_is_sealed_and_the_served_recording_is_redacted(kept):
    svc, admin, call_id, data = kept
    assert admin.get(f"/v1/calls/{call_id}/audio").headers["content-type"] == "audio/flac"  # redacted
    sealed = list((data / "audio" / "originals").rglob("*"))
    sealed = [p for p in sealed if p.is_file()]
    assert len(sealed) == 1
    raw, original = sealed[0].read_bytes(), CALL01.read_bytes()
    assert raw.startswith(MAGIC) and b"RIFF" not in raw and b"WAVE" not in raw
    assert original[20_000:24_096] not in raw  # no stretch of the recording in clear


def test_only_admins_read_it_back_whole_and_every_read_is_logged(kept):
    svc, admin, call_id, _ = kept
    reader = new_key(admin, "qa-reader", "read")
    with svc.client(reader) as c:
        assert c.get(f"/v1/calls/{call_id}/audio").status_code == 200
        denied = c.get(f"/v1/calls/{call_id}/audio/original")
        assert denied.status_code == 403 and "admin" in denied.json()["error"]["message"]
    for _ in range(2):
        r = admin.get(f"/v1/calls/{call_id}/audio/original")
        assert r.status_code == 200 and r.content == CALL01.read_bytes()
        assert r.headers["content-type"] == "audio/wav"
    log = admin.get("/v1/access-log", params={"call_id": call_id}).json()
    rows = [e for e in log["entries"] if e["resource"] == "audio_original"]
    assert len(rows) == 2 and all(e["key_name"] == "tests" for e in rows)  # both reads, a minute apart or not


def test_erasing_the_call_removes_its_sealed_original(kept):
    svc, admin, call_id, data = kept
    assert admin.delete(f"/v1/calls/{call_id}").status_code == 200
    assert not [p for p in (data / "audio").rglob("*") if p.is_file()]
    assert admin.get(f"/v1/calls/{call_id}/audio/original").status_code == 404


def test_a_sealed_file_opens_only_whole_with_its_key_and_label(tmp_path):
    key = parse_key(KEY)
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(2_500_000))  # three chunks
    out = tmp_path / "sealed"
    seal(src, out, key, "label-a")
    assert b"".join(unseal(out, key, "label-a")) == src.read_bytes()
    with pytest.raises(SealError):
        b"".join(unseal(out, parse_key(base64.urlsafe_b64encode(os.urandom(32)).decode()), "label-a"))
    with pytest.raises(SealError):
        b"".join(unseal(out, key, "label-b"))  # another file's chunks do not open as this one's
    raw = out.read_bytes()
    (tmp_path / "cut").write_bytes(raw[:-100])
    with pytest.raises(SealError, match="cut off|does not open"):
        b"".join(unseal(tmp_path / "cut", key, "label-a"))
    flipped = bytearray(raw)
    flipped[len(MAGIC) + 40] ^= 1
    (tmp_path / "flipped").write_bytes(bytes(flipped))
    with pytest.raises(SealError):
        b"".join(unseal(tmp_path / "flipped", key, "label-a"))
    with pytest.raises(ValueError, match="32-byte"):
        parse_key(base64.urlsafe_b64encode(b"short").decode())


def test_keeping_originals_without_a_key_stops_the_server(tmp_path):
    env = service_env(tmp_path, None, CALLSCOPE_KEEP_ORIGINAL="on")
    out = subprocess.run([sys.executable, "-m", "callscope.cli", "serve", "--port", "1"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "CALLSCOPE_ORIGINAL_KEY" in out.stdout + out.stderr, out.stdout + out.stderr
