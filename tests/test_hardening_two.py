"""Issue 24, the smaller items, through the real service on SQLite and PostgreSQL; each failed on
main before the change (e165068): a channel map longer than a call can have gave
a 500, a ``recorded_at`` in the future was stored (and then never purged), filter values had no
length cap, and a URL of 200,000 characters got no HTTP answer. (The sign-in redirect is in
``test_web.py``, the retention setting in ``test_service_hardening.py``, rule sets in
``test_hostile_rules.py``.)"""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.server import running_service

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

@pytest.fixture(scope="module")
def database():
    """SQLite only: this module's checks do not depend on the database, and CI has 90 minutes for
    the whole suite; the PostgreSQL paths they pass through are run by test_service.py,
    test_crypto_shredding.py, test_rules_service.py and the other modules on both databases."""
    return lambda data_dir: f"sqlite:///{data_dir / 'callscope.db'}"


ROOT = Path(__file__).resolve().parents[1]
STEREO = (ROOT / "samples" / "stereo_diarization.wav").read_bytes()  # real, dual-channel, 5 s


@pytest.fixture(scope="module")
def service(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("hardening-two")
    with running_service(data, database(data), "--no-worker") as svc:
        with svc.client(svc.key) as admin:
            yield svc, admin


def _upload(admin, **data):
    return admin.post("/v1/calls", files={"files": ("call.wav", STEREO, "audio/wav")}, data=data)


def _calls(svc) -> int:
    return svc.sql("SELECT count(*) FROM calls")[0][0]


def test_a_channel_map_longer_than_eight_channels_is_a_422(service):
    svc, admin = service
    before = _calls(svc)
    r = _upload(admin, channel_map=",".join(["agent", "customer"] * 4 + ["agent"]))  # 9 entries
    assert r.status_code == 422, r.text
    assert "channel_map" in r.text and r.json()["error"]
    assert _calls(svc) == before
    assert _upload(admin, channel_map="customer,agent").status_code == 202


def test_a_call_recorded_in_the_future_is_refused(service):
    svc, admin = service
    before = _calls(svc)
    later = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    r = _upload(admin, recorded_at=later)
    assert r.status_code == 422, r.text
    assert "in the future" in r.json()["error"]["message"]
    assert _calls(svc) == before
    local_now = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=2)  # a local time sent without its zone
    assert _upload(admin, recorded_at=local_now.isoformat()).status_code == 202


def test_filter_values_are_capped(service):
    _svc, admin = service
    for name in ("agent_id", "team", "queue", "product"):
        r = admin.get("/v1/calls", params={name: "x" * 201})
        assert r.status_code == 422 and name in r.text, (name, r.status_code)
        assert admin.get("/v1/calls", params={name: "x" * 200}).status_code == 200
    assert admin.get("/v1/calls", params={"cursor": "c" * 501}).status_code == 422


def _raw_get(svc, target: bytes, key: str | None) -> bytes:
    """The whole answer to a GET of ``target`` sent on a raw socket (httpx refuses such URLs)."""
    host, port = urlsplit(svc.base).hostname, urlsplit(svc.base).port
    auth = b"Authorization: Bearer " + key.encode() + b"\r\n" if key else b""
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def test_a_huge_query_string_gets_a_414_with_a_json_body(service):
    svc, admin = service
    for key in (svc.key, None):
        answer = _raw_get(svc, b"/v1/calls?agent_id=a&junk=" + b"j" * 200_000, key)
        assert answer.startswith(b"HTTP/1.1 414"), answer[:200]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["message"].startswith("the URL is over")
    assert _raw_get(svc, b"/v1/calls?agent_id=a", svc.key).startswith(b"HTTP/1.1 200")
    assert admin.get("/healthz").status_code == 200


def test_workers_finishing_the_first_analyses_at_once_share_one_active_rule_set(tmp_path, database):
    """Found by the Ray worker test under load: two workers completing the first analyses of a
    fresh database at once each installed and activated the starter set, and from then on every
    analysis failed at scoring ("Multiple rows were found"). Two sessions interleaved as the two
    workers' transactions were; the set is now installed when the database is migrated, and a
    unique index keeps one version active whatever happens."""
    from sqlalchemy import text

    from callscope.qa import categories
    from callscope.store.db import make_engine, migrate, session_factory

    url = database(tmp_path)
    migrate(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    try:
        first, second = sessions(), sessions()
        a = categories.active(first)  # worker A, inside its completion, not yet committed
        b = categories.active(second)  # worker B, meanwhile
        second.commit()
        first.commit()
        first.close()
        second.close()
        with sessions() as s:
            assert s.execute(text("SELECT count(*) FROM rule_sets WHERE active")).scalar() == 1
            assert categories.active(s).number == a.number == b.number == 1
    finally:
        engine.dispose()


def test_two_api_processes_share_one_rate_limit(tmp_path, database):
    """Two `callscope serve` processes on one deployment: a key limited to 20 requests a minute
    gets 20 answers in all, not 20 from each (on main each process counted alone: 40)."""
    url = database(tmp_path)
    limit = {"CALLSCOPE_RATE_LIMIT_PER_KEY": "20/minute"}
    with running_service(tmp_path / "data", url, "--no-worker", **limit) as one, \
            running_service(tmp_path / "data", url, "--no-worker", **limit) as two:
        with one.client(one.key) as a, two.client(one.key) as b:
            codes = [(a if i % 2 else b).get("/v1/calls", params={"limit": 1}).status_code for i in range(60)]
            refused = (a if codes[-1] == 429 else b).get("/v1/calls")
    assert codes.count(200) == 20 and codes.count(429) == 40, codes
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1 and "error" in refused.json()
    if url.startswith("sqlite"):  # counters in a database of their own beside the deployment's (one writer each)
        from sqlalchemy import create_engine, text

        engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'rate-limits.db'}")
        with engine.connect() as conn:
            counters = conn.execute(text("SELECT key FROM rate_counters")).all()
        engine.dispose()
    else:
        counters = one.sql("SELECT key FROM rate_counters")
    assert counters and all(len(k) == 64 and one.key not in k for (k,) in counters)  # HMACs, not the key
