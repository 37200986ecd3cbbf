"""The service and a deployment's languages and directions (issue 23), through the real server
and worker on SQLite and PostgreSQL: a call in a language outside the deployment's stops after
language ID with status unsupported_language (reported, kept, listed, its audio served), a
queue's direction reaches the analysis, and the feed carries the transcript's reliability."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest

from benchmarks.reference import AUDIO, DATA
from tests.support.server import running_service, wait_done
from callscope.service.config import ServiceSettings
from callscope.service.intake import UploadMeta, checked

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

@pytest.fixture(scope="module")
def database():
    """SQLite only: this module's checks do not depend on the database, and CI has 90 minutes for
    the whole suite; the PostgreSQL paths they pass through are run by test_service.py,
    test_crypto_shredding.py, test_rules_service.py and the other modules on both databases."""
    return lambda data_dir: f"sqlite:///{data_dir / 'callscope.db'}"


GERMAN = DATA / "multilingual" / "audio" / "fleurs_de-001.ogg"
CALL01 = AUDIO / "callytics" / "Call01.wav"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("languages")
    with running_service(data, database(data), CALLSCOPE_LANGUAGES="en,sv",
                          CALLSCOPE_DIRECTION_BY_QUEUE="sales=outbound,support=inbound") as svc:
        with svc.client(svc.key) as c:
            ids = {}
            for name, path, fields in (("german", GERMAN, {"queue": "support"}), ("call01", CALL01, {"queue": "sales"})):
                r = c.post("/v1/calls", files={"files": (path.name, path.read_bytes())}, data=fields)
                assert r.status_code == 202, r.text
                ids[name] = r.json()["calls"][0]["id"]
            yield svc, c, {name: wait_done(c, call_id) for name, call_id in ids.items()}


def test_a_call_outside_the_languages_is_kept_reported_and_not_transcribed(deployment):
    svc, c, calls = deployment
    german = calls["german"]
    assert german["status"] == "unsupported_language", german
    assert (german["language"], german["language_supported"]) == ("de", False)
    assert "German" in german["language_note"] and "not transcribed" in german["language_note"]
    assert german["languages"][0]["heard"][0]["language"] == "de"
    transcript = c.get(f"/v1/calls/{german['id']}/transcript")
    assert transcript.status_code == 409 and "outside this deployment's languages" in transcript.json()["error"]["message"]
    audio = c.get(f"/v1/calls/{german['id']}/audio")
    assert audio.status_code == 200 and audio.content == GERMAN.read_bytes()  # kept as uploaded, nothing redacted
    listed = c.get("/v1/calls", params={"status": "unsupported_language"}).json()
    assert [x["id"] for x in listed["calls"]] == [german["id"]]
    metrics = c.get("/metrics").text
    assert 'callscope_calls{status="unsupported_language"} 1.0' in metrics
    assert svc.sql("SELECT count(*) FROM call_categories WHERE call_id = :i", i=german["id"])[0][0] == 0


def test_a_queues_direction_reaches_the_analysis_and_the_feed_carries_reliability(deployment):
    _, c, calls = deployment
    call01 = calls["call01"]
    assert call01["status"] == "done", call01
    scores = call01["scores"]["call"]
    assert (scores["direction"], scores["direction_source"]) == ("outbound", "metadata")  # the sales queue's
    assert 0 < call01["transcript_reliability"]["score"] <= 1
    day = datetime.now(timezone.utc).date().isoformat()
    rows = [json.loads(x) for x in c.get("/v1/feeds/daily", params={"date": day}).text.splitlines()]
    assert [r["call_id"] for r in rows] == [call01["id"]]  # analysed calls only
    assert rows[0]["transcript_reliability"] == call01["transcript_reliability"]["score"]
    table = pq.read_table(io.BytesIO(c.get("/v1/feeds/daily", params={"date": day, "format": "parquet"}).content))
    assert str(table.schema.field("transcript_reliability").type) == "double"


def test_an_uploads_own_direction_goes_before_its_queues():
    settings = ServiceSettings(direction_by_queue="sales=outbound", direction="inbound")
    assert checked(UploadMeta(queue="sales"), None, settings.direction_for).direction == "outbound"
    assert checked(UploadMeta(queue="sales", direction="inbound"), None, settings.direction_for).direction == "inbound"
    assert checked(UploadMeta(queue="other"), None, settings.direction_for).direction == "inbound"
    assert checked(UploadMeta(), None, None).direction is None
