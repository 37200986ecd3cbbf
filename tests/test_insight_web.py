"""What the call is about, in a real browser (issue 27): Debian's headless Chromium against a real
``callscope serve`` (SQLite, its own worker) that analysed the real Call01 under the starter rule
set. The list shows the contact reason and outcome under the file name and filters by them; the
review page's "About the call" card shows the reason with its evidence, the outcome and the
extractive summary, and a summary line seeks the player to its moment. axe-core: no critical or
serious violation. Screenshots go to ``test-artifacts/screenshots`` (insight-*)."""

from __future__ import annotations

import pytest

from benchmarks.reference import AUDIO
from tests.support.accessibility import violations
from tests.support.browser import Browser
from tests.support.server import running_service, wait_done

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("insight-web")
    with running_service(data, None) as svc:
        with svc.client(svc.key) as admin:
            with open(AUDIO / "callytics" / "Call01.wav", "rb") as f:
                r = admin.post("/v1/calls", files={"files": ("Call01.wav", f)}, data={"agent_id": "a-17"})
            assert r.status_code == 202, r.text
            svc.call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, svc.call_id)["status"] == "done"
            svc.insight = admin.get(f"/v1/calls/{svc.call_id}").json()["insight"]
        yield svc


@pytest.fixture(scope="module")
def browser(app):
    b = Browser(app.base)
    b.viewport(1366, 768)
    try:
        yield b
    finally:
        b.driver.quit()


def test_the_list_shows_and_filters_reason_and_outcome(app, browser):
    b = browser
    b.sign_in(app.key)
    b.get("/?reason=technical_fault&outcome=resolved")
    b.ready()
    rows = b.finds("tr[data-call-id]")
    assert [r.get_attribute("data-call-id") for r in rows] == [app.call_id]
    about = b.find(f"tr[data-call-id='{app.call_id}'] .about")
    assert about.text == "technical fault · resolved"
    b.screenshot("insight-list-desktop")
    b.get("/?reason=billing")
    b.ready()
    assert b.finds("tr[data-call-id]") == []
    assert violations(b.driver) == []


def test_the_review_page_says_what_the_call_is_about_and_a_summary_line_seeks_the_player(app, browser):
    b = browser
    b.get(f"/calls/{app.call_id}")
    b.ready()
    reason = b.find("#insight-reason")
    assert reason.get_attribute("data-reason") == "technical_fault" and "technical fault" in reason.text
    assert b.find("#insight-outcome").get_attribute("data-outcome") == "resolved"
    lines = b.finds("#insight-summary li")
    assert len(lines) == len(app.insight["summary"]) >= 3
    last = app.insight["summary"][-1]
    assert last["text"] in lines[-1].text
    lines[-1].find_element("css selector", "a").click()
    b.wait(lambda: abs(b.js("return document.getElementById('audio').currentTime") - last["start"]) < 0.3,
           message="the summary line did not seek the player to its utterance")
    b.js("document.getElementById('insight-card').scrollIntoView()")
    b.screenshot("insight-review-desktop")
    assert violations(b.driver) == []


def test_a_search_by_meaning_lists_the_moment_and_seeks_the_player_there(app, browser):
    """Words not said in the call ("e-mails arrive late"; the customer said "trouble receiving
    notification emails ... a long delay") find the customer's utterance; its link opens the
    review page at that moment."""
    b = browser
    b.get("/")
    b.ready()
    box = b.find("input[name=meaning]")
    box.send_keys("my e-mails arrive late")
    box.submit()
    b.wait(lambda: b.finds("#meaning-results li.meaning-hit"), message="no result of the search by meaning")
    hits = b.finds("#meaning-results li.meaning-hit")
    assert [h.get_attribute("data-call-id") for h in hits] == [app.call_id]
    assert "meaning=" in b.driver.current_url and not b.find("#calls").is_displayed()
    assert "notification" in hits[0].find_element("css selector", "q").text.lower()
    utterance = int(hits[0].get_attribute("data-utterance"))
    with app.client(app.key) as admin:
        start = admin.get(f"/v1/calls/{app.call_id}/transcript").json()["utterances"][utterance]["start"]
    b.screenshot("meaning-search-desktop")
    assert violations(b.driver) == []
    b.viewport(390, 844)
    b.screenshot("meaning-search-phone")
    assert b.js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    b.viewport(1366, 768)
    hits[0].find_element("css selector", ".search-match a").click()
    b.ready()
    b.wait(lambda: abs(b.js("return document.getElementById('audio').currentTime") - start) < 0.3,
           message="the result did not seek the player to its utterance")
