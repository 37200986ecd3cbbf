"""Crypto-shredding (issue 24, item 2): a call's personal text reaches the database only sealed
under a key of its own, erasure destroys the key, and a keyring rotation makes every copy of an
erased call's key (in table files, WAL, backups) useless.

The needle test runs a real service (real model, real worker) on SQLite and on a PostgreSQL
cluster of its own, then reads every file of the database's directory after a CHECKPOINT (and
ANALYZE, so the planner statistics sample the columns) for the call's file name, words of its
transcript and a correction's reason and display name."""

from __future__ import annotations

import shutil
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from benchmarks.reference import AUDIO
from tests.support.server import running_service, stop, wait_done

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

FILE_NEEDLE = "needle-file-5b2e"
REASON_NEEDLE = "needle-reason-9d41 the customer asked for a callback"
NAME_NEEDLE = "Needle Reviewer 3c7a"


def _files_holding(root: Path, needles: list[bytes]) -> dict[str, list[str]]:
    """Which files under ``root`` hold which needle (every regular file, read whole)."""
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            hits = [n.decode() for n in needles if n in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(request, tmp_path):
    """(database URL, the directory its files live in) on a database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'callscope.db'}", tmp_path / "data"
        return
    from tests.support.postgres import TempPostgres, bin_dir, new_database

    if bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (Debian package 'postgresql'); `bash .ci/run` installs it")
    pg = TempPostgres()
    try:
        yield new_database(pg.start(), "callscope_shred"), pg.data
    finally:
        pg.stop()
        shutil.rmtree(pg.root, ignore_errors=True)


def _settle(url: str) -> None:
    """What a disk holds after the server wrote it all out: statistics sampled, a checkpoint."""
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.execute(text("CHECKPOINT"))
        engine.dispose()


def test_personal_text_is_on_disk_only_as_ciphertext_and_erasure_destroys_its_key(tmp_path, deployment):
    url, db_files = deployment
    with running_service(tmp_path / "data", url) as svc:
        svc.start_worker()
        with svc.client(svc.key, timeout=120) as c:
            with (AUDIO / "jfk.flac").open("rb") as f:
                r = c.post("/v1/calls", files={"files": (f"{FILE_NEEDLE}.flac", f)}, data={"agent_id": "agent-7"})
            assert r.status_code == 202, r.text
            cid = r.json()["calls"][0]["id"]
            assert wait_done(c, cid, timeout=300)["status"] == "done"
            made = c.post(f"/v1/calls/{cid}/corrections",
                          json={"escalation": "yellow", "reason": REASON_NEEDLE, "display_name": NAME_NEEDLE})
            assert made.status_code == 201, made.text
            # the service reads it all back in clear
            call = c.get(f"/v1/calls/{cid}").json()
            assert call["filename"] == f"{FILE_NEEDLE}.flac" and call["escalation"] == "yellow"
            words = " ".join(u["text"] for u in c.get(f"/v1/calls/{cid}/transcript").json()["utterances"])
            assert "country" in words.lower()
            listed = c.get("/v1/calls", params={"q": "your country"}).json()
            assert [x["id"] for x in listed["calls"]] == [cid] and listed["total"] == 1
            assert listed["calls"][0]["filename"] == f"{FILE_NEEDLE}.flac"
            assert c.get("/v1/calls", params={"q": "not in this call"}).json()["total"] == 0
            audit = c.get(f"/v1/calls/{cid}/corrections").json()["corrections"]
            assert audit[0]["reason"] == REASON_NEEDLE and audit[0]["display_name"] == NAME_NEEDLE
            # ... while the database stores ciphertext only
            stored = svc.sql("SELECT filename, result_json, transcript_text FROM calls WHERE id = :c", c=cid)[0]
            assert all(v.startswith("cs1:") for v in stored)
            assert svc.sql("SELECT reason, display_name FROM corrections WHERE call_id = :c", c=cid)[0][0].startswith("cs1:")
            needles = [FILE_NEEDLE.encode(), b"your country", b"fellow americans", REASON_NEEDLE[:20].encode(),
                       NAME_NEEDLE.encode()]
            _settle(url)
            assert _files_holding(db_files, needles) == {}, "personal text in clear in the database's files"
            wrapped = svc.sql("SELECT kek_id, wrapped FROM call_keys WHERE call_id = :c", c=cid)
            assert len(wrapped) == 1

            assert c.delete(f"/v1/calls/{cid}").json()["deleted"] == cid
            assert svc.sql("SELECT count(*) FROM call_keys WHERE call_id = :c", c=cid) == [(0,)]
            _settle(url)
            assert _files_holding(db_files, needles) == {}

        # a copy of the erased call's key (a backup made before the erasure) opens with today's
        # keyring, and no longer once the keyring is rotated
        from callscope.privacy.call_keys import CallKeyError, Keyring, Wrapped, unwrap

        keyring = Keyring.in_data_dir(tmp_path / "data")
        kek_id, blob = wrapped[0]
        kek = keyring.get(kek_id)
        assert kek is not None and len(unwrap(Wrapped(kek_id, blob), kek, cid)) == 32
        out = svc_cli(svc, "rotate-keyring", "--settle-s", "0")
        assert out.returncode == 0, out.stderr
        assert keyring.get(kek_id) is None and keyring.ids() != [kek_id]
        with pytest.raises(CallKeyError):
            from callscope.store.db import crypt_for

            crypt_for(tmp_path / "data" / "call-keys.keyring")._open_stored(Wrapped(kek_id, blob), cid)


def svc_cli(svc, *args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "callscope.cli", *args], env=svc.env, capture_output=True, text=True,
                          timeout=120)


def test_rotation_rewraps_live_keys_and_values_stay_readable(tmp_path, database):
    from callscope.privacy.call_keys import CallKeyError, open_value, rotate, seal_value
    from callscope.store.db import CallKey, make_engine, migrate, session_factory

    url = database(tmp_path)
    migrate(url)
    sessions = session_factory(make_engine(url), tmp_path)
    with sessions() as s:
        sealed = {cid: seal_value(s, cid, "filename", f"call {cid}.wav") for cid in ("a", "b", "c")}
        s.commit()
    with sessions() as s:
        before = dict(s.execute(select(CallKey.call_id, CallKey.kek_id)).all())
    assert len(set(before.values())) == 1
    report = rotate(sessions, settle_s=0)
    assert report["keys_rewrapped"] == 3 and report["key_encryption_key"] not in before.values()
    # another process (a fresh crypt, no cached keys) reads every value through the new keyring
    from callscope.privacy.call_keys import CallCrypt, Keyring

    fresh = session_factory(make_engine(url), tmp_path)
    fresh.kw["info"]["call_crypt"] = CallCrypt(Keyring.in_data_dir(tmp_path))
    with fresh() as s:
        assert {cid: open_value(s, cid, "filename", v) for cid, v in sealed.items()} == {
            cid: f"call {cid}.wav" for cid in sealed}
        # a value moved to another call or column does not open
        with pytest.raises(CallKeyError):
            open_value(s, "b", "filename", sealed["a"])
        with pytest.raises(CallKeyError):
            open_value(s, "a", "result_json", sealed["a"])


def test_rows_stored_in_clear_before_are_sealed_at_start(tmp_path, database):
    """A database from before crypto-shredding: its rows are sealed by the service in the
    background, and read the same before and after."""
    from callscope.privacy.call_keys import open_value, seal_existing
    from callscope.store.db import Call, Correction, make_engine, migrate, session_factory

    url = database(tmp_path)
    migrate(url)
    sessions = session_factory(make_engine(url), tmp_path)
    with sessions() as s:
        s.add(Call(id="old", sha256="0" * 64, filename="old-call.wav", audio_key="x", size_bytes=1, status="done",
                   result_json='{"utterances": []}', transcript_text="hello there"))
        s.flush()
        s.add(Correction(call_id="old", field="escalation", original='"red"', value='"green"', reviewer="k",
                         reason="clear reason", display_name="Jane"))
        s.commit()
    assert seal_existing(sessions) == 2
    assert seal_existing(sessions) == 0
    with sessions() as s:
        row = s.execute(select(Call.filename, Call.result_json, Call.transcript_text)).one()
        assert all(v.startswith("cs1:") for v in row)
        assert open_value(s, "old", "filename", row[0]) == "old-call.wav"
        assert open_value(s, "old", "transcript_text", row[2]) == "hello there"
        fix = s.execute(select(Correction.reason, Correction.display_name)).one()
        assert open_value(s, "old", "correction.reason", fix[0]) == "clear reason"
        assert open_value(s, "old", "correction.display_name", fix[1]) == "Jane"


def test_the_keyring_setting_is_where_every_process_finds_the_keys(tmp_path, monkeypatch):
    """``CALLSCOPE_KEYRING`` puts the keyring outside the data directory (a shared mount for many
    machines); sessions built from those settings seal under it, and a process with another
    keyring cannot open the values: it is told so, it does not read garbage."""
    from callscope.privacy.call_keys import CallKeyError, open_value, seal_value
    from callscope.service.config import ServiceSettings
    from callscope.store.db import make_engine, migrate, session_factory

    shared = tmp_path / "shared-mount" / "deployment.keyring"
    monkeypatch.setenv("CALLSCOPE_KEYRING", str(shared))
    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    settings = ServiceSettings()
    assert settings.keyring_file == shared.resolve()
    migrate(settings.database_url)
    sessions = session_factory(make_engine(settings.database_url), keyring_file=settings.keyring_file)
    with sessions() as s:
        stored = seal_value(s, "c1", "filename", "agent-call.wav")
        s.commit()
    assert shared.exists() and oct(shared.stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / "data" / "call-keys.keyring").exists()
    with session_factory(make_engine(settings.database_url), keyring_file=settings.keyring_file)() as s:
        assert open_value(s, "c1", "filename", stored) == "agent-call.wav"
    with session_factory(make_engine(settings.database_url), tmp_path / "elsewhere")() as s:
        with pytest.raises(CallKeyError):
            open_value(s, "c1", "filename", stored)
    # a process pointed at the wrong keyring, or at none, is refused at start, and makes no key
    from callscope.privacy.call_keys import KeyringMismatch, check_keyring

    missing = tmp_path / "typo" / "deployment.keyring"
    with pytest.raises(KeyringMismatch, match="no keyring"):
        check_keyring(session_factory(make_engine(settings.database_url), keyring_file=missing))
    assert not missing.exists()
    with pytest.raises(KeyringMismatch, match="holds none of the keys"):
        check_keyring(session_factory(make_engine(settings.database_url), tmp_path / "elsewhere"))
    check_keyring(sessions)  # the right one passes
    import subprocess
    import sys

    env = {**os.environ, "CALLSCOPE_KEYRING": str(missing)}
    serve = subprocess.run([sys.executable, "-m", "callscope.cli", "serve", "--no-worker", "--port", "1"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert serve.returncode == 2 and "CALLSCOPE_KEYRING" in serve.stdout + serve.stderr, serve.stdout + serve.stderr
    workers = subprocess.run([sys.executable, "-m", "callscope.cli", "worker"], env=env, capture_output=True, text=True,
                             timeout=120)  # refused once, before any worker process starts (none restarted in a loop)
    assert workers.returncode == 2 and "CALLSCOPE_KEYRING" in workers.stdout + workers.stderr, workers.stdout
    rotation = subprocess.run([sys.executable, "-m", "callscope.cli", "rotate-keyring"], env=env, capture_output=True,
                              text=True, timeout=120)  # a wrong keyring is never rotated in
    assert rotation.returncode == 2 and "CALLSCOPE_KEYRING" in rotation.stdout + rotation.stderr, rotation.stdout
    assert not missing.exists()


def test_a_read_that_races_an_erasure_gets_a_404_not_a_500(tmp_path):
    """The state a read sees when an erasure commits between reading a call's row and opening its
    text (PostgreSQL, read committed): the row is there, its key is not. Made here by deleting the
    key row, as the erasure's transaction does; the call answers 404, lists and searches leave it out."""
    from sqlalchemy import create_engine

    with running_service(tmp_path / "data") as svc:
        svc.start_worker()
        with svc.client(svc.key, timeout=120) as c:
            with (AUDIO / "jfk.flac").open("rb") as f:
                cid = c.post("/v1/calls", files={"files": ("jfk.flac", f)}).json()["calls"][0]["id"]
            assert wait_done(c, cid, timeout=300)["status"] == "done"
            engine = create_engine(svc.database_url)
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM call_keys WHERE call_id = :c"), {"c": cid})
            engine.dispose()
            stop(svc.api)  # a server process that has not read the call yet (none has its key in memory)
            svc.start_api()
            r = c.get(f"/v1/calls/{cid}")
            assert r.status_code == 404 and "erased" in r.json()["error"]["message"], r.text
            listed = c.get("/v1/calls")
            assert listed.status_code == 200 and cid not in [x["id"] for x in listed.json()["calls"]]
            searched = c.get("/v1/calls", params={"q": "country"})
            assert searched.status_code == 200 and searched.json()["calls"] == []
