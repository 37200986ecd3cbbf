"""Webhooks under an egress policy (issue 24, item 3), through the real service on SQLite and
PostgreSQL: a subscription may not target the service itself, loopback, link-local, private,
unspecified or multicast addresses however they are written; the policy is checked again at
delivery; the record of deliveries does not tell an open port from a closed one; deleting a
subscription cancels its pending retries; secrets are stored encrypted. The alerts are daily
digests, which the server queues by itself (``CALLSCOPE_DIGEST_HOUR=0``), so no call is analysed."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from tests.support.server import free_port, running_service
from tests.support.webhooks import SECRET, Receiver

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

@pytest.fixture(scope="module")
def database():
    """SQLite only: this module's checks do not depend on the database, and CI has 90 minutes for
    the whole suite; the PostgreSQL paths they pass through are run by test_service.py,
    test_crypto_shredding.py, test_rules_service.py and the other modules on both databases."""
    return lambda data_dir: f"sqlite:///{data_dir / 'callscope.db'}"


FAST = {"CALLSCOPE_ALERT_POLL_S": "0.2", "CALLSCOPE_ALERT_RETRY_S": "0.3", "CALLSCOPE_DIGEST_HOUR": "0"}
LOOPBACK_ALLOWED = {**FAST, "CALLSCOPE_WEBHOOK_ALLOW": "127.0.0.1/32"}


def _wait(predicate, timeout: float = 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


class Listener:
    """A TCP port that is open but speaks no HTTP (a database, a cache): it accepts and hangs up,
    counting connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _digests(c, hook_id: int) -> list[dict]:
    return c.get("/v1/alerts", params={"webhook_id": hook_id}).json()["alerts"]


def test_webhook_targets_on_this_machine_or_its_networks_are_refused(tmp_path, database):
    with running_service(tmp_path / "data", database(tmp_path), "--no-worker", **FAST) as svc, \
            svc.client(svc.key) as c:
        port = svc.port
        refused = [
            f"{svc.base}/v1/calls",                     # the service itself
            f"http://localhost:{port}/",
            f"http://[::1]:{port}/",
            f"http://0.0.0.0:{port}/",
            f"http://2130706433:{port}/",               # 127.0.0.1 written as one number
            f"http://[::ffff:127.0.0.1]:{port}/",       # IPv4-mapped IPv6
            "http://169.254.169.254/latest/meta-data/",  # the cloud metadata address
            "http://10.0.0.5/hook", "http://192.168.1.1/hook", "http://172.16.0.1/hook",
            "http://100.64.0.1/hook", "http://[fd00::1]/hook", "http://[fe80::1]/hook",
            "http://224.0.0.251/hook",                  # multicast
        ]
        for url in refused:
            r = c.post("/v1/webhooks", json={"url": url, "secret": SECRET, "events": ["digest"]})
            assert r.status_code == 422, (url, r.status_code, r.text)
            assert "url:" in r.json()["error"]["message"] and "CALLSCOPE_WEBHOOK_ALLOW" in r.json()["error"]["message"], r.text
        r = c.post("/v1/webhooks", json={"url": "ftp://93.184.216.34/hook", "secret": SECRET, "events": ["digest"]})
        assert r.status_code == 422
        assert c.get("/v1/webhooks").json()["webhooks"] == []  # nothing stored
        # a public address is accepted (nothing is sent to it here: no alert is due for "call")
        ok = c.post("/v1/webhooks", json={"url": "https://93.184.216.34/hook", "secret": SECRET, "events": ["call"]})
        assert ok.status_code == 201, ok.text


def test_the_policy_holds_at_delivery_and_errors_do_not_tell_open_ports_from_closed(tmp_path, database):
    db = database(tmp_path)
    listener = Listener()
    closed = free_port()
    try:
        with running_service(tmp_path / "data", db, "--no-worker", **LOOPBACK_ALLOWED) as svc, svc.client(svc.key) as c:
            hooks = {}
            for name, port in (("open", listener.port), ("closed", closed)):
                r = c.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hook", "secret": SECRET,
                                                 "events": ["digest"]})
                assert r.status_code == 201, r.text
                hooks[name] = r.json()["id"]
            tried = {name: _wait(lambda h=h: [d for d in _digests(c, h) if d["attempts"] >= 2])[0]
                     for name, h in hooks.items()}
            assert listener.connections >= 2
            assert tried["open"]["last_error"] == tried["closed"]["last_error"], tried
            assert tried["open"]["last_status_code"] is None and tried["closed"]["last_status_code"] is None
        seen = listener.connections
        # the same subscriptions after the deployment dropped the allow-list: checked at delivery, not sent
        with running_service(tmp_path / "data", db, "--no-worker", **FAST) as svc, svc.client(svc.key) as c:
            delivery = _digests(c, hooks["open"])[0]
            assert c.post(f"/v1/alerts/{delivery['id']}/retry").status_code == 200
            dead = _wait(lambda: [d for d in _digests(c, hooks["open"]) if d["status"] == "dead"])[0]
            assert "egress policy" in dead["last_error"] and "loopback" in dead["last_error"], dead
            time.sleep(1.0)
            assert listener.connections == seen
    finally:
        listener.close()


def test_deleting_a_subscription_cancels_its_pending_retries(tmp_path, database):
    receiver = Receiver()  # not started yet: every attempt fails and is retried
    with running_service(tmp_path / "data", database(tmp_path), "--no-worker", **LOOPBACK_ALLOWED) as svc, \
            svc.client(svc.key) as c:
        hook = c.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["digest"]}).json()
        pending = _wait(lambda: [d for d in _digests(c, hook["id"]) if d["status"] == "pending" and d["attempts"] >= 1])
        assert c.delete(f"/v1/webhooks/{hook['id']}").status_code == 200
        receiver.start()
        try:
            time.sleep(3.0)  # ten retry periods
            assert receiver.got == []  # no signed POST after the DELETE
            assert [d["status"] for d in _digests(c, hook["id"])] == ["cancelled"]
            assert c.post(f"/v1/alerts/{pending[0]['id']}/retry").status_code == 404
            assert c.get("/v1/alerts", params={"status": "cancelled"}).json()["alerts"][0]["id"] == pending[0]["id"]
        finally:
            receiver.stop()


def test_webhook_secrets_are_stored_encrypted_and_still_sign(tmp_path, database):
    db = database(tmp_path)
    receiver = Receiver()
    receiver.start()
    try:
        with running_service(tmp_path / "data", db, "--no-worker", **LOOPBACK_ALLOWED) as svc, svc.client(svc.key) as c:
            hook = c.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["digest"]}).json()
            [(stored,)] = svc.sql("SELECT secret FROM webhooks")
            assert stored.startswith("enc1:") and SECRET not in stored
            _wait(lambda: receiver.got)
            assert receiver.bad_signatures == 0 and "secret" not in hook
        # a secret stored in clear by an earlier version is sealed at the next start
        engine = create_engine(svc.database_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE webhooks SET secret = :s"), {"s": SECRET})
        engine.dispose()
        with running_service(tmp_path / "data", db, "--no-worker", **LOOPBACK_ALLOWED) as svc:
            [(stored,)] = svc.sql("SELECT secret FROM webhooks")
            assert stored.startswith("enc1:") and SECRET not in stored
    finally:
        receiver.stop()


@pytest.mark.parametrize("value", ["10.0.0.0/33", "intranet", "10.0.0.0/8,,nope"])
def test_a_malformed_allow_list_stops_the_server_naming_the_setting(tmp_path, value):
    from callscope.service.config import ConfigError, ServiceSettings

    with pytest.raises(ConfigError, match="CALLSCOPE_WEBHOOK_ALLOW: .* is not a network"):
        ServiceSettings.from_env(data_dir=tmp_path, webhook_allow=value)
