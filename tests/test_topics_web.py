"""The Topics page and the surge alert, in a real browser (issue 27): Debian's headless Chromium
against a real ``callscope serve`` (SQLite, its own worker) that analysed Call01, with eight
days of stored calls whose problem statements are real customer queries (banking77, CC BY 4.0;
``tests/support/topic_days.py``), one intent surging on the last day. ``callscope topics`` makes
the run; the page shows the surging topic first with its terms, its calls per day and its
representative statements, and its link opens the list of exactly its calls; the surge alert
that arrives at a real webhook receiver links to the same calls, and that link opened in the
browser lists them. axe-core: no critical or serious violation; screenshots (topics-*) at
desktop and phone width."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.reference import AUDIO
from tests.support import topic_days
from tests.support.accessibility import violations
from tests.support.browser import Browser
from tests.support.server import running_service, wait_done
from tests.support.webhooks import SECRET, Receiver

pytestmark = pytest.mark.slow
SURGING = "lost_or_stolen_card"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("topics-web")
    receiver = Receiver()
    receiver.start()
    with running_service(data, None, CALLSCOPE_ALERT_POLL_S="0.2", CALLSCOPE_WEBHOOK_ALLOW="127.0.0.1/32",
                         CALLSCOPE_TOPICS_DAILY="false") as svc:
        with svc.client(svc.key) as admin:
            assert admin.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["window"]}).status_code == 201
            with open(AUDIO / "callytics" / "Call01.wav", "rb") as f:
                call_id = admin.post("/v1/calls", files={"files": ("Call01.wav", f)}).json()["calls"][0]["id"]
            assert wait_done(admin, call_id)["status"] == "done"
        svc.day = datetime.now(UTC).date() - timedelta(days=1)
        days = [svc.day - timedelta(days=k) for k in range(7, -1, -1)]
        svc.ids = topic_days.seed(svc.database_url, data, call_id, days, per_day=120, surge_day=svc.day, surging=SURGING)
        out = subprocess.run([sys.executable, "-m", "callscope.cli", "topics", "--from", svc.day.isoformat()],
                             env=svc.env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        with svc.client(svc.key) as admin:
            svc.run = admin.get("/v1/topics").json()
        svc.receiver = receiver
        yield svc
    receiver.stop()


@pytest.fixture(scope="module")
def browser(app):
    b = Browser(app.base)
    b.viewport(1366, 768)
    try:
        yield b
    finally:
        b.driver.quit()


def test_the_topics_page_puts_the_surge_first_and_links_to_its_calls(app, browser):
    b = browser
    b.sign_in(app.key)
    b.get("/topics")
    b.wait(lambda: b.finds("#topics li.topic"), message="no topic shown")
    cards = b.finds("#topics li.topic")
    assert len(cards) == len(app.run["topics"])
    first, surging = cards[0], app.run["topics"][0]
    assert first.get_attribute("data-surge") == "1" and first.get_attribute("data-key") == str(surging["key"])
    assert first.find_element("css selector", "h2").text == ", ".join(surging["terms"])
    assert "surging" in first.find_element("css selector", ".flag.surge").text
    assert len(first.find_elements("css selector", ".day-bars .bar")) == 8  # the day and its seven baseline days
    assert len(first.find_elements("css selector", ".representatives li")) == len(surging["representatives"]) >= 1
    b.screenshot("topics-desktop")
    assert violations(b.driver) == []
    first.find_element("css selector", "a.calls-link").click()
    b.ready()
    assert f"topic={app.run['id']}.{surging['key']}" in b.driver.current_url
    b.wait(lambda: f"of {surging['calls']}" in b.find("#summary").text or
           (surging["calls"] <= 25 and len(b.finds("tr[data-call-id]")) == surging["calls"]),
           message=f"the list does not show the topic's {surging['calls']} calls: {b.find('#summary').text!r}")
    listed = {r.get_attribute("data-call-id") for r in b.finds("tr[data-call-id]")}
    assert len(listed & set(app.ids[SURGING])) >= 0.7 * len(listed)


def test_the_surge_alert_links_to_the_calls_of_its_topic(app, browser):
    deadline = time.monotonic() + 60
    while not (got := [g for g in app.receiver.got if g["payload"].get("alert") == "topic_surge"]):
        assert time.monotonic() < deadline, "no surge alert arrived"
        time.sleep(0.2)
    payload = got[0]["payload"]
    topic = next(t for t in app.run["topics"] if t["key"] == payload["topic"])
    b = browser
    b.get(payload["calls_link"])
    b.ready()
    shown = len(b.finds("tr[data-call-id]"))
    assert shown == min(topic["calls"], 25)
    summary = b.find("#summary").text
    assert summary.endswith(f"of {topic['calls']}"), summary
    b.viewport(390, 844)
    b.get("/topics")
    b.wait(lambda: b.finds("#topics li.topic"), message="no topic shown at phone width")
    b.screenshot("topics-phone")
    assert violations(b.driver) == []
    assert b.js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    b.viewport(1366, 768)
