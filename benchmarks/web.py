"""The QA app with 10,000 stored calls, measured in the real browser (Debian's headless Chromium)
against a real ``callscope serve`` on 127.0.0.1.

Two real recordings (Call01, SpokenWOZ MUL1011) are analysed; their score columns and
transcript text are then stored again under synthetic metadata (50 agents, 5 teams, 30 days,
as in ``benchmarks/service.py``) until there are ``--calls`` calls. The copies carry no result
JSON (the list does not read it), so only the two real calls open in the review page.

Measured, one run:

* ``GET /v1/calls`` (25 rows): the first page, page 40 reached by cursors, sorted by customer
  sentiment, filtered by agent, and a transcript search; p50/p95 over ``--repeats`` requests;
* in the browser: the list page, the next page, the dashboard (30 days by agent) and the review
  page of the 183 s SpokenWOZ call, each from navigation start to the page's ready mark, with
  the bytes transferred (cache disabled, audio excluded).

    .venv/bin/python benchmarks/web.py [--calls 10000] [--repeats 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import AUDIO  # noqa: E402
from benchmarks.service import _real_results, seed  # noqa: E402
from tests.support.server import Service, admin_key  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CALLS = [("callytics/Call01.wav", "2026-11-19T10:00:00Z"), ("spokenwoz/MUL1011.opus", "2026-11-20T09:00:00Z")]


def analyse_real_calls(data_dir: Path) -> str:
    """A deployment with the real calls analysed; its database URL."""
    svc = Service(data_dir)
    key = admin_key(svc.env)
    svc.start_api()
    try:
        with svc.client(key) as c:
            ids = []
            for path, when in CALLS:
                with open(AUDIO / path, "rb") as f:
                    r = c.post("/v1/calls", files={"files": (Path(path).name, f)}, data={"recorded_at": when, "agent_id": "agent-0"})
                ids.append(r.json()["calls"][0]["id"])
            for call_id in ids:
                while c.get(f"/v1/calls/{call_id}").json()["status"] not in ("done", "failed"):
                    time.sleep(1)
    finally:
        svc.close()
    return svc.database_url


def _ms(samples: list[float]) -> dict:
    q = statistics.quantiles(samples, n=20) if len(samples) > 1 else samples * 19
    return {"n": len(samples), "p50_ms": round(statistics.median(samples), 1), "p95_ms": round(q[18], 1)}


def api_latency(c, repeats: int) -> dict:
    def timed(params: dict) -> float:
        t0 = time.perf_counter()
        r = c.get("/v1/calls", params={"limit": 25, **params})
        assert r.status_code == 200, r.text
        return 1000 * (time.perf_counter() - t0)

    cursor = None
    for _ in range(39):  # to page 40
        body = c.get("/v1/calls", params={"limit": 25, **({"cursor": cursor} if cursor else {})}).json()
        cursor = body["next_cursor"]
    cases = {"first page": {}, "page 40 (cursor)": {"cursor": cursor}, "sorted by sentiment": {"sort": "sentiment"},
             "agent filter": {"agent_id": "agent-7"}, "transcript search": {"q": "reservation"},
             "search + sort by level": {"q": "cambridge", "sort": "-level"}}
    out = {}
    for name, params in cases.items():
        timed(params)  # warm
        out[name] = _ms([timed(params) for _ in range(repeats)])
    out["total"] = c.get("/v1/calls", params={"limit": 1}).json()["total"]
    return out


def browser_timings(base: str, key: str, review_id: str) -> dict:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as ChromeService
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=ChromeService(shutil.which("chromedriver")), options=options)
    try:
        d.get(base + "/signin")
        d.find_element("id", "key").send_keys(key)
        d.find_element("css selector", "#signin-form button").click()
        WebDriverWait(d, 20).until(lambda d: urlparse(d.current_url).path == "/")
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})

        def measure(path: str | None, action=None) -> dict:
            d.execute_script("document.body.dataset.ready = ''") if action else None
            t0 = time.perf_counter()
            if path:
                d.get(base + path)
            else:
                action()
            WebDriverWait(d, 30, poll_frequency=0.02).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
            wall = 1000 * (time.perf_counter() - t0)
            nav, res = d.execute_script("""return [performance.getEntriesByType('navigation')[0].transferSize,
                performance.getEntriesByType('resource').filter(e => !e.name.endsWith('/audio')).reduce((a, e) => a + e.transferSize, 0)]""")
            ready = d.execute_script("const m = performance.getEntriesByName('callscope-ready'); return m.length ? m[0].startTime : null")
            return {"wall_ms": round(wall, 1), "ready_mark_ms": round(ready, 1) if ready else None,
                    "transferred_kb": round((nav + res) / 1000, 1) if path else None}

        out = {"list": measure("/")}
        out["list, next page"] = measure(None, lambda: d.find_element("id", "next").click())
        out["dashboard (30 days, by agent)"] = measure("/dashboard?group_by=agent&from=2026-10-22&to=2026-11-20")
        out["review page, 183 s call"] = measure(f"/calls/{review_id}")
        return out
    finally:
        d.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS / "web.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="callscope-web-bench-"))
    real_url = analyse_real_calls(root / "real")
    real = _real_results(real_url)
    templates = [{**t, "result_json": None} for t in real]
    data = root / "bench"
    url = f"sqlite:///{data / 'callscope.db'}"
    seed(url, templates, args.calls - len(real), date(2026, 11, 20))
    # the real calls themselves, with their results, for the review page
    from sqlalchemy import insert

    from callscope.store.db import Call, make_engine, session_factory

    with session_factory(make_engine(url))() as s:
        def value(v):  # SQLite hands back times as text
            return datetime.fromisoformat(v).replace(tzinfo=timezone.utc) if isinstance(v, str) and v[:2] == "20" and v[4:5] == "-" else v

        s.execute(insert(Call), [{c.name: value(t[c.name]) for c in Call.__table__.columns} for t in real])
        s.commit()
    review_id = next(t["id"] for t in real if t["filename"] == "MUL1011.opus")
    from callscope.privacy.call_keys import seal_existing

    seal_existing(session_factory(make_engine(url), data))  # as the service stores calls: sealed under their keys

    svc = Service(data, url)
    key = admin_key(svc.env)
    svc.start_api("--no-worker")
    try:
        with svc.client(key) as c:
            api = api_latency(c, args.repeats)
        browser = browser_timings(svc.base, key, review_id) if shutil.which("chromium") and shutil.which("chromedriver") else None
    finally:
        svc.close()

    print(f"GET /v1/calls, {api['total']} stored calls (SQLite), 25 rows, one client, ms")
    print(f"{'request':>26} {'p50':>7} {'p95':>7}")
    for name, m in api.items():
        if name != "total":
            print(f"{name:>26} {m['p50_ms']:>7.1f} {m['p95_ms']:>7.1f}")
    if browser:
        print("\nIn headless Chromium (cache disabled), navigation start → page ready")
        print(f"{'page':>30} {'wall ms':>8} {'ready ms':>9} {'kB':>7}")
        for name, m in browser.items():
            print(f"{name:>30} {m['wall_ms']:>8.0f} {m['ready_mark_ms'] or '':>9} {m['transferred_kb'] or '':>7}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "web", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "cpu_count": os.cpu_count(), "calls": api["total"], "api": api,
                                    "browser": browser}, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
