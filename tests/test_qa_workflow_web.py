"""The QA team's loop in a real browser (issue 26): Debian's headless Chromium against a real
``callscope serve`` (SQLite, its own worker) that analysed the real Call01 (queue "billing", whose
bands make it red) and the SpokenWOZ call MUL1011. In order, on one browser and one server:

a form is active; the red call is in the review queue with its due time; a reviewer claims it,
sees the pre-filled answers, follows an evidence link that seeks the player, changes an answer
with a reason, comments on a moment, leaves coaching and submits; the agent's session sees the
evaluation and coaching and nothing of another agent; a lead acknowledges; the agent disputes; the
lead resolves; the dashboard shows the score; three reviewers calibrate; links open the call at a
moment and search results jump to the words they found; the report prints and renders as PDF. The app defects of item 8 have their tests in
``tests/test_qa_app_defects.py``. axe-core runs on every page: no critical or serious violation.
Screenshots at 1366×768 and 390×844 go to ``test-artifacts/screenshots``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from benchmarks.reference import AUDIO
from tests.support.accessibility import violations
from tests.support.browser import Browser
from tests.support.server import new_key, running_service, wait_done
from tests.test_evaluations import STRICT_BANDS

from selenium.webdriver.support.ui import Select  # noqa: E402 - after the browser module's skip

pytestmark = pytest.mark.slow
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("workflow-web")
    with running_service(data, None) as svc:
        with svc.client(svc.key) as admin:
            assert admin.post("/v1/rules", json={"yaml": STRICT_BANDS, "activate": True}).status_code == 201
            # a form is activated: a new version of the English starter form, as a QA lead would add it
            en = next(f for f in admin.get("/v1/forms").json()["forms"] if f["name"] == "customer-service")
            text = admin.get(f"/v1/forms/{en['id']}").json()["yaml"].replace("title: Customer service call",
                                                                            "title: Customer service call (billing)")
            added = admin.post("/v1/forms", json={"yaml": text}).json()
            assert not added["active"]
            assert admin.post(f"/v1/forms/{added['id']}/activate").json()["active"]
            ids = {}
            for path, meta in [(AUDIO / "callytics" / "Call01.wav", {"agent_id": "a-17", "team": "north", "queue": "billing"}),
                               (AUDIO / "spokenwoz" / "MUL1011.opus", {"agent_id": "a-22", "team": "south", "queue": "travel"})]:
                with open(path, "rb") as f:
                    r = admin.post("/v1/calls", files={"files": (path.name, f)}, data=meta)
                assert r.status_code == 202, r.text
                ids[path.stem] = r.json()["calls"][0]["id"]
            for call_id in ids.values():
                assert wait_done(admin, call_id)["status"] == "done"
            svc.keys = {n: new_key(admin, n, *s) for n, s in {
                "rita": ("read", "review"), "rolf": ("read", "review"), "rut": ("read", "review"),
                "lena": ("read", "review", "lead")}.items()}
            r = admin.post("/v1/keys", json={"name": "agent a-17", "scopes": ["agent"], "agent_id": "a-17"})
            svc.keys["a-17"] = r.json()["key"]
        svc.ids = ids
        yield svc


@pytest.fixture(scope="module")
def browser(app):
    b = Browser(app.base)
    b.viewport(*SIZES["desktop"])
    try:
        yield b
    finally:
        b.driver.quit()


def _as(b: Browser, app, who: str) -> None:
    b.driver.delete_all_cookies()
    b.sign_in(app.keys[who])


def _accessible(b: Browser, page: str) -> None:
    found = violations(b.driver)
    assert not found, f"{page}: " + "; ".join(f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in found)


def _shots(b: Browser, name: str, ready=True) -> None:
    """Screenshots at both sizes; the page never scrolls sideways."""
    for size, (w, h) in SIZES.items():
        b.viewport(w, h)
        if ready:
            b.ready()
        time.sleep(0.4)  # the layout and charts follow the new size on the next frames
        b.screenshot(f"workflow-{name}-{size}")
        # wider than the screen, a phone lays the page out wider and zooms out: both are checked
        wide = b.js("return Math.max(document.documentElement.scrollWidth, document.documentElement.clientWidth)")
        if wide > w + 1:  # name what sticks out (an element, or text wider than its box), so the failure says where to look
            out = b.js("return [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap') && "
                       "e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible').slice(-3)"
                       ".map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 80))")
            raise AssertionError(f"{name} at {size} is laid out {wide} px wide: {out}")
    b.viewport(*SIZES["desktop"])


def _state(b: Browser) -> str | None:
    return b.js("const s = document.getElementById('evaluation-state'); return s ? s.dataset.state : null")


def _call01(app) -> str:
    return app.ids["Call01"]


# ---- the loop ---------------------------------------------------------------------------------------

def test_the_red_call_is_in_the_queue_with_its_due_time(app, browser):
    b = browser
    _as(b, app, "rita")
    b.get("/queue")
    b.ready()
    row = b.find(f'#queue tr[data-call-id="{_call01(app)}"]')
    assert row.get_attribute("data-reason") == "red"
    due = row.find_element("css selector", ".due").text
    assert "red call" in row.text and (due == "in 1 h" or due.endswith(" min")) and due.startswith("in "), due  # within the hour
    assert "1 red open" in b.find("#queue-counts").text
    _accessible(b, "queue")
    _shots(b, "queue")


def test_the_reviewer_sees_the_prefilled_form_changes_an_answer_comments_and_submits(app, browser):
    b = browser
    row = b.find(f'#queue tr[data-call-id="{_call01(app)}"]')
    row.find_element("css selector", "button").click()  # claim and open
    b.wait(lambda: urlparse(b.driver.current_url).path == f"/calls/{_call01(app)}")
    b.ready()
    b.find("#start-evaluation").click()
    b.wait(lambda: b.finds("#evaluation-form"))
    assert "form/customer-service/2+" in b.find(".eval-head .version").text  # the version activated
    greeting = b.find('li.question[data-question="greeting"]')
    assert greeting.get_attribute("data-source") == "auto"
    assert "Pre-filled: yes" in greeting.text and "confidence" in greeting.text
    # an evidence link seeks the player to its utterance
    link = greeting.find_element("css selector", ".auto a.ev")
    index = int(link.get_attribute("href").rsplit("#u", 1)[1])
    link.click()
    start = b.js(f"return Number(document.getElementById('u{index}').dataset.start)")
    b.wait(lambda: abs(b.js("return document.getElementById('audio').currentTime") - start) < 0.3)
    assert "evidence-target" in b.find(f"#u{index}").get_attribute("class")
    # a question without evidence is left for the reviewer
    resolution = b.find('li.question[data-question="resolution"]')
    assert Select(resolution.find_element("css selector", "select")).first_selected_option.get_attribute("value") == ""
    _accessible(b, "review page with the evaluation form")
    _shots(b, "prefilled-form")
    # change the pre-filled greeting: a reason is asked for
    Select(greeting.find_element("css selector", "select")).select_by_value("no")
    reason = greeting.find_element("css selector", "input.reason")
    assert reason.is_displayed() and reason.get_attribute("required") is not None
    reason.send_keys("said hello but never gave a name")
    for q in b.finds("li.question"):
        select = Select(q.find_element("css selector", "select"))
        if not select.first_selected_option.get_attribute("value"):
            select.select_by_index(1)
    Select(resolution.find_element("css selector", "select")).select_by_value("partly")
    b.find('textarea[name="coaching"]').send_keys("Give your name in the greeting.")
    # a comment on a moment, in the transcript and on the timeline
    b.find("#u2 .comment-button").click()
    b.find("#u2 .comment-form input").send_keys("good empathy here")
    b.find("#u2 .comment-form button[type=submit]").click()
    b.wait(lambda: b.finds("#u2 .moment-comments li"))
    assert "good empathy here" in b.find("#u2 .moment-comments").text
    b.find("#submit-evaluation").click()
    b.wait(lambda: _state(b) == "submitted")
    assert "/ 100" in b.find("#evaluation-score").text
    greeting = b.find('li.question[data-question="greeting"]')
    assert "disagrees" in greeting.get_attribute("class") and "never gave a name" in greeting.text
    with app.client(app.keys["rita"]) as rita:  # the queue item closed
        assert all(i["call_id"] != _call01(app) for i in rita.get("/v1/review-queue").json()["items"])


def test_the_agent_sees_the_evaluation_and_coaching_and_no_other_call(app, browser):
    b = browser
    _as(b, app, "a-17")
    b.wait(lambda: urlparse(b.driver.current_url).path == "/me")
    b.ready()
    assert "Give your name in the greeting." in b.find(".coaching-text").text
    assert "submitted" in b.find("#mine").text
    _accessible(b, "agent page")
    _shots(b, "agent")
    b.get(f"/calls/{app.ids['MUL1011']}")  # another agent's call: back to their own page
    b.wait(lambda: urlparse(b.driver.current_url).path == "/me")
    assert b.js("return fetch('/v1/calls').then(r => r.status)") == 403
    assert b.js(f"return fetch('/v1/calls/{_call01(app)}/transcript').then(r => r.status)") == 403


def test_a_lead_acknowledges_the_agent_disputes_and_the_lead_resolves(app, browser):
    b = browser
    _as(b, app, "lena")
    b.get(f"/calls/{_call01(app)}")
    b.ready()
    b.wait(lambda: b.finds("#acknowledge"))
    b.find("#acknowledge").click()
    b.wait(lambda: _state(b) == "acknowledged")
    _as(b, app, "a-17")
    b.ready()
    b.find("#mine input[name=note]").send_keys("I gave my name at 0:04")
    b.find("#mine form button").click()
    b.wait(lambda: "disputed" in b.find("#mine").text)
    _as(b, app, "lena")
    b.get(f"/calls/{_call01(app)}")
    b.ready()
    b.wait(lambda: b.finds("#evaluation-form select"))  # a lead may change a disputed evaluation
    greeting = b.find('li.question[data-question="greeting"]')
    Select(greeting.find_element("css selector", "select")).select_by_value("yes")
    b.find('input[name="note"]').send_keys("the agent did give a name")
    b.find("#submit-evaluation").click()
    b.wait(lambda: _state(b) == "resolved")
    history = [li.get_attribute("data-state") for li in b.finds("#evaluation-history li")]
    assert history == ["draft", "submitted", "acknowledged", "disputed", "resolved"]


def test_the_dashboard_and_the_feed_show_the_evaluation_score(app, browser):
    b = browser
    b.get("/dashboard?group_by=agent")
    b.ready()
    row = b.find('#groups tr[data-group="a-17"]')
    score = row.find_element("css selector", ".evaluation-score").text
    with app.client(app.keys["lena"]) as lead:
        ev = lead.get(f"/v1/calls/{_call01(app)}/evaluations").json()["evaluations"][0]
        assert score == f"{ev['score']:.0f}"
        day = ev["submitted_at"][:10]
        feed = lead.get("/v1/feeds/daily", params={"date": day, "format": "ndjson"}).text
    assert f'"evaluation_score": {ev["score"]}' in feed and '"eval_greeting": "yes"' in feed
    assert b.find('#groups tr[data-group="a-22"] .evaluation-score').text == "—"
    _accessible(b, "dashboard")


def test_a_calibration_session_with_three_reviewers_shows_agreement_per_question(app, browser):
    b = browser
    with app.client(app.keys["lena"]) as lead:
        r = lead.post("/v1/calibrations", json={"name": "week 49", "call_ids": [app.ids["MUL1011"]],
                                                "reviewers": ["rita", "rolf", "rut"]})
        assert r.status_code == 201, r.text
        cal = r.json()["id"]
    for who, resolution in (("rita", "resolved"), ("rolf", "resolved"), ("rut", "partly")):
        _as(b, app, who)
        b.get(f"/calibrations/{cal}")
        b.ready()
        assert b.finds("#cal-waiting")  # blind until all have submitted
        b.find("#cal-calls a").click()
        b.ready()
        b.wait(lambda: b.finds("#evaluation-form select"))
        assert not b.finds(".question .auto")  # no automatic answers in a calibration
        for q in b.finds("li.question"):
            Select(q.find_element("css selector", "select")).select_by_index(1)
        Select(b.find('li.question[data-question="resolution"] select')).select_by_value(resolution)
        b.find("#submit-evaluation").click()
        b.wait(lambda: _state(b) == "submitted")
    b.get(f"/calibrations/{cal}")
    b.ready()
    block = b.find('.cal-question[data-question="resolution"]')
    assert "kappa" in block.text and "no majority" not in block.text and "resolved" in block.text
    assert "agree 33 %" in block.text  # one pair of three agrees
    assert "agree 100 %" in b.find('.cal-question[data-question="greeting"]').text
    _accessible(b, "calibration")
    _shots(b, "calibration")


def test_links_open_the_call_at_a_moment(app, browser):
    b = browser
    _as(b, app, "rita")
    b.get(f"/calls/{_call01(app)}?t=40")
    b.ready()
    assert abs(b.js("return document.getElementById('audio').currentTime") - 40) < 0.5
    b.get(f"/calls/{_call01(app)}#u6")
    b.ready()
    assert "evidence-target" in b.find("#u6").get_attribute("class")
    start = b.js("return Number(document.getElementById('u6').dataset.start)")
    assert abs(b.js("return document.getElementById('audio').currentTime") - start) < 0.5
    b.find("#u3 .copy-link").click()
    b.wait(lambda: b.js("return location.hash") == "#u3")
    assert f"/calls/{_call01(app)}#u3" in b.find("#toast").text


def test_search_results_show_the_words_in_context_and_jump_to_them(app, browser):
    b = browser
    b.get("/?q=notification%20emails")
    b.ready()
    hit = b.find(f'tr[data-call-id="{_call01(app)}"] .search-match a')
    assert hit.find_element("css selector", "mark").text.lower() == "notification emails"
    assert "…" in hit.text  # with the words around it
    index = int(hit.get_attribute("href").rsplit("#u", 1)[1])
    hit.click()
    b.wait(lambda: urlparse(b.driver.current_url).path == f"/calls/{_call01(app)}")
    b.ready()
    assert "evidence-target" in b.find(f"#u{index}").get_attribute("class")
    assert "notification emails" in b.find(f"#u{index} .utt-text").text.lower()
    start = b.js(f"return Number(document.getElementById('u{index}').dataset.start)")
    assert abs(b.js("return document.getElementById('audio').currentTime") - start) < 0.5


def test_the_printable_report_and_its_pdf(app, browser, tmp_path):
    b = browser
    b.get(f"/calls/{_call01(app)}/report")
    b.wait(lambda: b.finds("h1"))
    text = b.find("main").text
    assert "Level: red" in text and "Give your name in the greeting." in text and "good empathy here" in text
    _accessible(b, "report")
    _shots(b, "report", ready=False)
    with app.client(app.keys["rita"]) as rita:
        r = rita.get(f"/v1/calls/{_call01(app)}/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(r.content))
    words = " ".join(page.extract_text() for page in pdf.pages)
    assert len(pdf.pages) == 1 and "Call report" in words and "Give your name in the greeting." in words
    out = Path(b.screenshot("workflow-report-desktop")).with_name("workflow-report.pdf")
    out.write_bytes(r.content)  # kept beside the screenshots, to be looked at


def test_every_other_page_passes_axe(app, browser):
    b = browser
    for path in ("/", f"/calls/{app.ids['MUL1011']}", "/dashboard?group_by=day"):
        b.get(path)
        b.ready()
        _accessible(b, path)
    b.driver.delete_all_cookies()
    b.get("/signin")
    b.wait(lambda: b.finds("#key"))
    _accessible(b, "/signin")


def test_no_request_left_127_0_0_1(app, browser):
    browser.drain()
    hosts = {urlparse(u).hostname for u in browser.requested if urlparse(u).scheme in ("http", "https")}
    assert hosts <= {"127.0.0.1"}, hosts
