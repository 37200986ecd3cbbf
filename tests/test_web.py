"""The QA review app in a real browser: Debian's headless Chromium driven through its
chromedriver (Selenium), against a real ``callscope serve`` (SQLite, its own worker) that has
analysed real shared recordings: Call01 (Callytics, 8 kHz) and the SpokenWOZ dual-channel call
(MUL1011, 183 s). The tests run in order on one browser and one server.

Screenshots of the list, the review page and the dashboard at 1440×900 and 390×844 go to
``test-artifacts/screenshots`` (``CALLSCOPE_TEST_ARTIFACTS`` to move it). Every request the
browser makes is recorded from its network log and checked to stay on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from benchmarks.reference import AUDIO
from tests.support.browser import ARTIFACTS, Browser
from tests.support.server import new_key, running_service, wait_done

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
XSS_META = '<img src=x onerror="window.__xss=1">'
XSS_TEXT = '<script>window.__xss=2</script>'

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A server with two analysed real calls; XSS payloads in one call's metadata and, written into
    the stored result as if the ASR had heard them, in its transcript."""
    data = tmp_path_factory.mktemp("web")
    with running_service(data, None, CALLSCOPE_MAX_UPLOAD_MB="50") as svc:
        with svc.client(svc.key) as admin:
            uploads = [
                (AUDIO / "callytics" / "Call01.wav", {"agent_id": "a-17", "team": "north", "queue": "billing",
                                                      "product": XSS_META, "external_id": "crm-call01",
                                                      "recorded_at": "2026-11-20T10:00:00Z"}),
                (AUDIO / "spokenwoz" / "MUL1011.opus", {"agent_id": "a-22", "team": "south", "queue": "travel",
                                                        "product": "rail", "recorded_at": "2026-11-21T09:00:00Z"}),
            ]
            ids = {}
            for path, meta in uploads:
                with open(path, "rb") as f:
                    r = admin.post("/v1/calls", files={"files": (path.name, f)}, data=meta)
                assert r.status_code == 202, r.text
                ids[path.stem] = r.json()["calls"][0]["id"]
            for call_id in ids.values():
                assert wait_done(admin, call_id)["status"] == "done"
        _inject_transcript_payload(svc, ids["Call01"])
        svc.ids = ids
        yield svc


def _inject_transcript_payload(svc, call_id: str) -> None:
    result = json.loads(svc.opened(call_id, "result_json"))  # sealed under the call's key
    db = sqlite3.connect(svc.database_url.removeprefix("sqlite:///"))
    first = result["utterances"][0]
    first["text"] = f"{XSS_TEXT} {first['text']}"
    first["words"][0]["word"] = f" {XSS_TEXT}{first['words'][0]['word'].strip()}"
    db.execute("UPDATE calls SET result_json = ? WHERE id = ?", (json.dumps(result), call_id))  # in clear: read as it is
    db.commit()
    db.close()


@pytest.fixture(scope="module")
def browser(app):
    b = Browser(app.base)
    try:
        yield b
    finally:
        b.driver.quit()


@pytest.fixture(autouse=True)
def _network_log(browser):
    yield
    browser.drain()


@pytest.fixture(scope="module")
def reviewer_key(app) -> str:
    with app.client(app.key) as admin:
        return new_key(admin, "qa-reviewer", "read", "review", "upload")


def _rows(b: Browser) -> list[str]:
    return b.js("return [...document.querySelectorAll('#calls tbody tr')].map(r => r.dataset.callId)")


# ---- sign-in ----------------------------------------------------------------------------------
def test_sign_in_keeps_the_key_out_of_the_page(app, browser, reviewer_key):
    b = browser
    b.get("/")
    assert urlparse(b.driver.current_url).path == "/signin"  # no session: sent to sign in
    b.sign_in(reviewer_key)
    b.ready()
    assert urlparse(b.driver.current_url).path == "/"
    assert reviewer_key not in b.driver.current_url
    cookies = {c["name"]: c for c in b.driver.get_cookies()}
    session = cookies["callscope_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["value"] != reviewer_key
    assert "callscope_session" not in b.js("return document.cookie")  # HttpOnly: scripts cannot read it
    assert reviewer_key not in b.js("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage)")
    assert b.find(".who").text.startswith("qa-reviewer")


def test_cookie_session_needs_the_csrf_token_for_changes(app, browser):
    token = browser.driver.get_cookie("callscope_session")["value"]
    csrf = browser.js("return document.body.dataset.csrf")
    call_id = app.ids["MUL1011"]
    with httpx.Client(base_url=app.base, cookies={"callscope_session": token}) as c:
        assert c.get(f"/v1/calls/{call_id}").status_code == 200  # reads need no token
        body = {"escalation": "orange", "reason": "csrf check"}
        forged = c.post(f"/v1/calls/{call_id}/corrections", json=body)
        assert forged.status_code == 403 and "CSRF" in forged.json()["error"]["message"]
        wrong = c.post(f"/v1/calls/{call_id}/corrections", json=body, headers={"X-CSRF-Token": "not-it"})
        assert wrong.status_code == 403
        assert c.get(f"/v1/calls/{call_id}/corrections").json()["corrections"] == []  # nothing was stored
    assert csrf and len(csrf) > 20
    other_site = httpx.post(f"{app.base}/app/session", json={"key": app.key}, headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403 and "set-cookie" not in other_site.headers
    pages = httpx.get(f"{app.base}/", cookies={"callscope_session": token})
    csp = pages.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


# ---- the list -----------------------------------------------------------------------------------
def test_list_filters_narrow_the_list_and_live_in_the_url(app, browser):
    b = browser
    b.get("/")
    b.ready()
    assert set(_rows(b)) == set(app.ids.values())
    team = b.find("#filters input[name=team]")
    team.send_keys("south", Keys.ENTER)
    b.wait(lambda: _rows(b) == [app.ids["MUL1011"]], message="team filter did not narrow the list")
    assert "team=south" in b.driver.current_url
    # the URL alone reproduces the view (a shared link)
    b.get("/?q=cambridge")
    b.ready()
    assert _rows(b) == [app.ids["MUL1011"]]  # only the SpokenWOZ call talks about Cambridge
    assert b.find("#filters input[name=q]").get_attribute("value") == "cambridge"
    b.get("/?q=nothing-says-this")
    b.ready()
    assert _rows(b) == [] and "No calls match" in b.find("#summary").text
    # sort by duration, longest first, then shortest first
    b.get("/")
    b.ready()
    b.find("th[data-sort=duration]").click()
    b.wait(lambda: "sort=-duration" in b.driver.current_url and _rows(b)[0] == app.ids["MUL1011"])
    b.find("th[data-sort=duration]").click()
    b.wait(lambda: "sort=duration" in b.driver.current_url and _rows(b)[0] == app.ids["Call01"])
    row = b.find(f"tr[data-call-id='{app.ids['MUL1011']}']").text
    assert "→" in row and "3:0" in row and "a-22" in row  # sentiment start → end, duration 3:0x, agent


# ---- the review page ------------------------------------------------------------------------------
def test_review_page_is_interactive_within_a_second_and_light(app, browser):
    b = browser
    b.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})  # the first visit: nothing cached
    try:
        b.get(f"/calls/{app.ids['MUL1011']}")
        b.ready()
        ready_ms = b.js("return performance.getEntriesByName('callscope-ready')[0].startTime")
        nav, resources = b.js("""return [performance.getEntriesByType('navigation')[0].transferSize,
            performance.getEntriesByType('resource').map(e => [e.name, e.transferSize, e.initiatorType])]""")
    finally:
        b.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    not_audio = [r for r in resources if not urlparse(r[0]).path.endswith("/audio")]
    total = nav + sum(r[1] for r in not_audio)
    print(f"review page of the 183 s call: ready {ready_ms:.0f} ms after navigation start, {total / 1000:.1f} kB "
          f"transferred without audio ({len(not_audio)} requests)")
    assert ready_ms < 1000, ready_ms
    assert total < 500_000, total
    assert len(b.finds("#transcript .utt")) > 20 and b.finds("#chart-valence canvas")


def test_unreliable_passages_are_marked_in_the_transcript(app, browser):
    """The SpokenWOZ call has passages the reliability model marks (transcription/reliability.py):
    each is drawn apart (a dashed, hatched box in italics) with its score and why, and the header
    says how much of the transcript they hold."""
    b = browser
    with app.client(app.key) as admin:
        transcript = admin.get(f"/v1/calls/{app.ids['MUL1011']}/transcript").json()
    marked = [i for i, u in enumerate(transcript["utterances"]) if not u["reliability"]["reliable"]]
    assert marked, "the setting of the test: some passages of the call are unreliable"
    b.get(f"/calls/{app.ids['MUL1011']}")
    b.ready()
    shown = [int(li.get_attribute("data-i")) for li in b.finds("#transcript .utt.unreliable")]
    assert shown == marked
    tag = b.find(f"#u{marked[0]} .unreliable-tag").text
    assert tag.startswith("unreliable transcript (") and "%" in tag
    style = b.js(f"const s = getComputedStyle(document.getElementById('u{marked[0]}')); return [s.borderTopStyle, "
                 f"getComputedStyle(document.querySelector('#u{marked[0]} .utt-text')).fontStyle]")
    assert style == ["dashed", "italic"]
    reliable = next(i for i in range(len(transcript["utterances"])) if i not in marked)
    assert not b.finds(f"#u{reliable} .unreliable-tag")
    header = b.find("#transcript-reliability").text
    assert header.startswith("Transcript reliability") and "marked unreliable" in header
    b.js(f"document.getElementById('u{marked[0]}').scrollIntoView({{block: 'center'}})")
    b.screenshot("review-unreliable-passage")


def test_playing_advances_the_highlighted_word(app, browser):
    b = browser
    b.get(f"/calls/{app.ids['MUL1011']}")
    b.ready()
    b.js("const a = document.getElementById('audio'); a.currentTime = 20; return a.play()")
    b.wait(lambda: b.js("return document.querySelector('.w.now') !== null"), message="no word highlighted while playing")
    first = float(b.find(".w.now").get_attribute("data-t"))
    b.wait(lambda: b.finds(".w.now") and float(b.finds(".w.now")[0].get_attribute("data-t")) > first + 0.5,
           timeout=15, message="the highlighted word did not advance")
    assert b.find(".utt.current .w.now")  # the word's utterance is marked too
    b.js("document.getElementById('audio').pause()")


def test_clicking_an_utterance_seeks_the_player(app, browser):
    b = browser
    b.get(f"/calls/{app.ids['MUL1011']}")
    b.ready()
    target = b.find("#u12")
    start = float(target.get_attribute("data-start"))
    target.find_element(By.CSS_SELECTOR, ".utt-head .spk").click()
    b.wait(lambda: abs(b.js("return document.getElementById('audio').currentTime") - start) < 0.25,
           message="the player did not seek to the utterance")
    # a word seeks to the word; the keyboard moves to the next utterance (J)
    word = b.finds("#u15 .w")[2]
    word.click()
    b.wait(lambda: abs(b.js("return document.getElementById('audio').currentTime") - float(word.get_attribute("data-t"))) < 0.25)
    b.find("body").send_keys("j")
    b.wait(lambda: b.js("return document.getElementById('audio').currentTime") >= float(b.find("#u16").get_attribute("data-start")) - 0.05)
    # a reason's evidence link jumps to its utterance
    link = b.find("#reasons a.ev")
    link.click()
    index = int(link.text.split()[0].lstrip("#"))
    b.wait(lambda: "evidence-target" in b.find(f"#u{index}").get_attribute("class"))


def _dashboard_row(b: Browser, group: str) -> dict:
    row = b.find(f"#groups tr[data-group='{group}']")
    bars = b.finds("#levels .row")
    bar = next(r for r in bars if r.find_element(By.CSS_SELECTOR, ".label").text == group)
    return {"calls": row.find_element(By.CSS_SELECTOR, ".calls-count").text,
            "levels": [s.get_attribute("class").split()[-1] for s in bar.find_elements(By.CSS_SELECTOR, ".seg")]}


def test_a_correction_shows_in_the_page_the_audit_trail_and_the_aggregates(app, browser):
    b = browser
    call_id = app.ids["MUL1011"]
    b.get("/dashboard?group_by=agent&from=2026-11-01&to=2026-11-24")
    b.ready()
    before = _dashboard_row(b, "a-22")
    assert before["calls"] == "1" and "red" not in before["levels"]

    b.get(f"/calls/{call_id}")
    b.ready()
    # an utterance's sentiment and emotion
    customer = next(u for u in b.finds("#transcript .utt.customer") if u.find_elements(By.CSS_SELECTOR, "button.edit"))
    index = customer.get_attribute("data-i")
    customer.find_element(By.CSS_SELECTOR, "button.edit").click()
    form = customer.find_element(By.CSS_SELECTOR, ".edit-form")
    sentiment = form.find_element(By.NAME, "sentiment")
    sentiment.clear()
    sentiment.send_keys("-0.9")
    Select(form.find_element(By.NAME, "emotion")).select_by_value("frustrated")
    form.find_element(By.NAME, "reason").send_keys("customer is annoyed at the booking, heard on the recording")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    b.wait(lambda: b.finds(f"#u{index} .tag.corrected") and b.finds("#audit li"), message="correction not shown")
    tags = b.find(f"#u{index} .utt-head").text
    assert "sentiment −0.90" in tags and "frustrated" in tags
    assert b.find(f"#u{index} .tag.corrected .orig").text  # the original value, struck through
    assert "annoyed at the booking" in b.find("#audit").text and "qa-reviewer" in b.find("#audit").text

    # the call's level, with a required reason
    level = b.find("#level-form")
    Select(level.find_element(By.NAME, "escalation")).select_by_value("red")
    level.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert b.find("#level-form input[name=reason]").get_attribute("validationMessage")  # refused without a reason
    level.find_element(By.NAME, "reason").send_keys("customer threatened to cancel")
    level.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    b.wait(lambda: b.find("#level .chip").text == "red", message="level not shown as corrected")
    assert "threatened to cancel" in b.find("#reasons").text and len(b.finds("#audit li")) == 3  # sentiment, emotion, level

    b.get("/dashboard?group_by=agent&from=2026-11-01&to=2026-11-24")
    b.ready()
    after = _dashboard_row(b, "a-22")
    assert after["levels"] == ["red"]
    link = b.find("#levels .seg.red")
    assert "escalation=red" in link.get_attribute("href") and "agent_id=a-22" in link.get_attribute("href")
    link.click()
    b.ready()
    assert _rows(b) == [call_id] and b.find(f"tr[data-call-id='{call_id}'] .chip").text == "red"
    assert b.find(f"tr[data-call-id='{call_id}']").text.rstrip().endswith("3")  # corrections column


def test_swapping_roles_rescoring_the_new_customer(app, browser):
    """SpokenWOZ's default channel map is the wrong way round (the page says so): swap it."""
    b = browser
    b.get(f"/calls/{app.ids['MUL1011']}")
    b.ready()
    assert "check the channel map" in b.find("#meta").text
    s0 = b.find("#u0 .spk").text
    swap = b.find("#swap-form")
    swap.find_element(By.NAME, "reason").send_keys("channel map reversed: channel 1 offers help")
    swap.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    b.wait(lambda: b.find("#u0 .spk").text != s0, message="roles not swapped on the page")
    assert b.find("#u0 .spk").text.endswith("customer") and s0.endswith("agent")
    assert "roles swapped by QA reviewer" in b.find("#reasons").text
    assert "check the channel map" not in b.find("#reasons").text + b.find("#meta").text  # the reviewer settled it
    assert "roles" in b.find("#audit").text


def test_upload_from_the_page_reaches_done(app, browser):
    b = browser
    b.get("/")
    b.ready()
    assert b.find("#upload").is_displayed()
    b.find("#upload-meta input[name=agent_id]").send_keys("a-31")
    b.find("#upload-meta input[name=team]").send_keys("east")
    b.find("#files").send_keys(str(SAMPLES / "jfk.flac"))
    item = b.wait(lambda: b.finds("#uploads li[data-file='jfk.flac']"))[0]
    seen = set()

    def done() -> bool:
        seen.add(item.get_attribute("data-status"))
        return item.get_attribute("data-status") in ("done", "failed")

    b.wait(done, timeout=240, message="upload did not finish")
    assert item.get_attribute("data-status") == "done", item.text
    assert seen & {"queued", "running"}  # the stage was shown while it ran
    call_id = item.get_attribute("data-call-id")
    b.wait(lambda: call_id in _rows(b), message="the new call is not in the list")
    # dropped onto the drop zone (a File built in the page, dispatched as a real drop event)
    b.js("""const [bytes, name] = arguments;
        const file = new File([Uint8Array.from(atob(bytes), c => c.charCodeAt(0))], name, {type: 'audio/wav'});
        const dt = new DataTransfer(); dt.items.add(file);
        document.getElementById('dropzone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));""",
         base64.b64encode((SAMPLES / "pyannote_sample_mulaw_8k.wav").read_bytes()).decode(), "dropped.wav")
    dropped = b.wait(lambda: b.finds("#uploads li[data-file='dropped.wav']"))[0]
    b.wait(lambda: dropped.get_attribute("data-status") == "done", timeout=240, message="dropped file did not finish")
    with app.client(app.key) as admin:
        assert admin.get(f"/v1/calls/{call_id}").json()["metadata"]["agent_id"] == "a-31"


def test_metadata_and_transcript_payloads_render_as_text(app, browser):
    b = browser
    b.get(f"/calls/{app.ids['Call01']}")
    b.ready()
    assert XSS_META in b.find("#meta").text
    assert b.find("#u0 .utt-text").text.startswith(XSS_TEXT)
    assert not b.finds("#call script") and not b.finds("#call img")  # no element was made from the payloads
    b.get("/?product=" + XSS_META.replace(" ", "%20").replace('"', "%22"))
    b.ready()
    assert b.find("#filters input[name=product]").get_attribute("value") == XSS_META
    assert b.js("return window.__xss") is None
    with pytest.raises(NoAlertPresentException):
        b.driver.switch_to.alert.text  # noqa: B018 - no alert was opened


def test_categories_show_with_their_evidence_and_what_changed_since_another_version(app, browser):
    from tests.support.rules import CALL01_RULES

    # Call01's queue gets bands of its own: the level is read with them and the chart shades them
    queue_bands = "\nbands:\n  queue:\n    billing: {green: 0.6, yellow: 0.4, orange: -0.6}\n"
    with app.client(app.key) as admin:
        added = admin.post("/v1/rules", json={"yaml": CALL01_RULES + queue_bands, "activate": True}).json()
        run = admin.post("/v1/admin/rescore", json={}).json()
        for _ in range(300):
            if admin.get(f"/v1/admin/rescore/{run['id']}").json()["status"] == "done":
                break
            time.sleep(0.1)
    b = browser
    b.get(f"/calls/{app.ids['Call01']}")
    b.ready()
    assert added["label"] in b.find("#categories-version").text
    assert "green > 0.6" in b.find("#chart-valence .u-title").text
    item = b.find('#categories li[data-category="notification_problem"]')
    link = item.find_element(By.CSS_SELECTOR, "a.ev")
    index = int(link.text.split()[0].lstrip("#"))
    link.click()
    b.wait(lambda: "evidence-target" in b.find(f"#u{index}").get_attribute("class"))
    start = float(b.find(f"#u{index}").get_attribute("data-start"))
    b.wait(lambda: abs(b.js("return document.getElementById('audio').currentTime") - start) < 0.25)
    Select(b.find("#compare-version")).select_by_value("1")  # the starter set, which the call was first scored under
    b.wait(lambda: "+ notification_problem" in b.find("#category-diff").text, message="no diff against version 1")
    # the list filters by category, and shows each call's categories
    b.get("/?category=notification_problem")
    b.wait(lambda: len(b.finds("#calls tbody tr")) == 1 and "notification_problem" in b.find("#calls tbody tr").text)
    assert b.find("#calls tbody tr").get_attribute("data-call-id") == app.ids["Call01"]
    assert b.find("#filters [name=category]").get_attribute("value") == "notification_problem"


def _screenshots(b: Browser, app, size: str) -> None:
    w, h = map(int, size.split("x"))
    b.viewport(w, h)
    try:
        for name, path in (("list", "/"), ("review", f"/calls/{app.ids['MUL1011']}"),
                           ("dashboard", "/dashboard?group_by=agent&from=2026-11-01&to=2026-11-24")):
            b.get(path)
            b.ready()
            time.sleep(0.3)  # charts draw on the next frame
            shot = b.screenshot(f"{name}-{size}")
            assert shot.stat().st_size > 10_000
            overflow = b.js("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} at {size} scrolls sideways by {overflow} px"
    finally:
        b.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_screenshots_desktop_and_phone(app, browser):
    _screenshots(browser, app, "1440x900")
    _screenshots(browser, app, "390x844")
    assert len(list(ARTIFACTS.glob("*.png"))) >= 6


def test_signing_out_ends_the_session(app, browser):
    b = browser
    token = b.driver.get_cookie("callscope_session")["value"]
    b.get("/")
    b.ready()
    b.find("#signout").click()
    b.wait(lambda: urlparse(b.driver.current_url).path == "/signin")
    assert b.driver.get_cookie("callscope_session") is None
    stale = httpx.get(f"{app.base}/v1/calls", cookies={"callscope_session": token})
    assert stale.status_code == 401  # the server forgot the session, not just the browser


def test_a_read_only_key_sees_no_edit_controls(app, browser):
    b = browser
    with app.client(app.key) as admin:
        read_only = new_key(admin, "auditor", "read")
    b.sign_in(read_only)
    b.ready()
    assert not b.find("#upload").is_displayed()
    b.get(f"/calls/{app.ids['MUL1011']}")
    b.ready()
    assert not b.finds("button.edit") and not b.finds("#level-form") and not b.finds("#swap-form")
    assert "Read-only" in b.find("#call-edit").text
    assert b.finds("#audit li")  # the audit trail is readable
    b.find("#signout").click()
    b.wait(lambda: urlparse(b.driver.current_url).path == "/signin")


def test_signing_in_never_sends_the_browser_to_another_site(app, browser, reviewer_key):
    """Issue 24: ``/signin?next=/%09/host`` landed on ``host`` (browsers drop the tab, leaving
    ``//host``); ``next`` must be a path on this site."""
    for hostile in ("/%09/evil.invalid/phish", "/%5Cevil.invalid", "/%0A/evil.invalid", "https://evil.invalid/",
                    "//evil.invalid", "/%20/evil.invalid"):
        page = httpx.get(f"{app.base}/signin?next={hostile}")
        assert 'data-next="/"' in page.text, (hostile, page.text[:400])
    kept = httpx.get(f"{app.base}/signin?next=%2Fcalls%2Fabc%3Fq%3D1")
    assert 'data-next="/calls/abc?q=1"' in kept.text  # a path on this site is kept
    b = browser
    b.get("/signin?next=/%09/evil.invalid/phish")
    b.find("#key").send_keys(reviewer_key)
    b.find("#signin-form button").click()
    b.wait(lambda: urlparse(b.driver.current_url).path != "/signin", message="sign-in did not leave /signin")
    assert urlparse(b.driver.current_url).netloc == urlparse(app.base).netloc, b.driver.current_url
    b.ready()
    b.find("#signout").click()
    b.wait(lambda: urlparse(b.driver.current_url).path == "/signin")


def test_no_request_left_127_0_0_1(app, browser):
    browser.drain()
    hosts = {urlparse(u).hostname for u in browser.requested if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    others = [u for u in browser.requested if urlparse(u).scheme not in ("http", "https", "ws", "wss", "data", "blob")]
    assert browser.requested and hosts == {"127.0.0.1"}, hosts
    assert not others, others[:5]
    # nothing the Content-Security-Policy had to block, and no script error, on any page
    problems = [e["message"] for e in browser.console if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    assert not problems, problems[:3]
