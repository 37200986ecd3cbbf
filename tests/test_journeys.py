"""The customer across contacts (issue 28): repeat contacts, first-contact resolution, recovery
and churn risk, on a hand-checked timeline and in the service on SQLite and PostgreSQL (a real
``callscope serve`` whose worker analyses two real calls of one customer: Call01 and the 8 kHz
µ-law meeting sample), with QA corrections moving the journey, the CLI recomputing it under
another window, the feeds and aggregates, pseudonyms only in every answer, and erasure of the
subject taking the journey."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.reference import AUDIO, DATA
from callscope.qa.journeys import Contact, JourneyRules, link
from tests.support.server import new_key, running_service, wait_done

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_a_hand_checked_timeline_gives_repeats_fcr_recovery_and_churn_evidence():
    """Five contacts of one customer, checked by hand against the definitions in
    qa/journeys.py (window 7 days, now = day 60)."""
    contacts = [
        Contact("a", day(0), "red", -0.6, "billing", "not_resolved"),   # repeated 3 days later: not FCR
        Contact("b", day(3), "orange", -0.4, "billing", "follow_up"),   # a repeat of a
        Contact("c", day(20), "green", 0.5, "billing", "resolved"),     # wins back b (the latest bad one)
        Contact("d", day(40), "yellow", 0.0, "delivery", "resolved"),   # nobody calls within 7 days: FCR
        Contact("e", day(58), "yellow", -0.1, "cancellation", "resolved"),  # window still open: FCR unknown
    ]
    j = link(list(reversed(contacts)), JourneyRules(), now=day(60))  # any order in
    got = {k: (v.repeat_of, v.days_since_previous, v.fcr, v.recovery_of, v.recovered) for k, v in j.links.items()}
    assert got == {
        "a": (None, None, False, None, True),
        "b": ("a", 3.0, None, None, True),
        "c": (None, 17.0, True, "b", None),
        "d": (None, 20.0, True, None, None),
        "e": (None, 18.0, None, None, None),
    }
    assert (j.repeats, j.recoveries) == (1, 1)
    # churn: a cancellation (0.4) and two negative contacts (0.3), within 90 days of the last contact
    assert [(e["signal"], e["calls"]) for e in j.evidence] == [("cancellation", ["e"]), ("repeated_negative", ["a", "b"])]
    assert (j.churn_risk, j.churn_level) == (0.7, "high")

    # the same contacts, a repeat only about the same reason: d and e are not repeats of anything
    same = link(contacts, JourneyRules(repeat_days=30, same_reason=True), now=day(60))
    assert {k: v.repeat_of for k, v in same.links.items()} == {"a": None, "b": "a", "c": "b", "d": None, "e": None}
    # a 30-day window: d is followed by e 18 days later, about another reason, and 30 days have not
    # passed since d: not known yet...
    assert same.links["d"].fcr is None
    # ...while without the reason condition every contact after a repeats the one before
    wide = link(contacts, JourneyRules(repeat_days=30), now=day(60))
    assert {k: (v.repeat_of, v.fcr) for k, v in wide.links.items()} == {
        "a": (None, False), "b": ("a", None), "c": ("b", None), "d": ("c", None), "e": ("d", None)}


def test_churn_signals_need_their_counts_and_a_recovery_lowers_the_risk():
    one_bad = link([Contact("a", day(0), "red"), Contact("b", day(10), "yellow")], JourneyRules(), now=day(30))
    assert (one_bad.churn_risk, one_bad.evidence) == (0.0, [])  # one negative contact is no pattern
    unresolved = link([Contact("a", day(0), "yellow", outcome="not_resolved"),
                       Contact("b", day(30), "yellow", outcome="not_resolved")], JourneyRules(), now=day(60))
    assert [e["signal"] for e in unresolved.evidence] == ["unresolved_twice"] and unresolved.churn_level == "medium"
    won_back = link([Contact("a", day(0), "red"), Contact("b", day(2), "red"), Contact("c", day(4), "green")],
                    JourneyRules(), now=day(30))
    assert [(e["signal"], e["calls"]) for e in won_back.evidence] == [
        ("repeated_negative", ["a", "b"]), ("repeat_contacts", ["b", "c"]), ("recovered", ["c"])]
    assert won_back.churn_risk == pytest.approx(0.25) and won_back.churn_level == "low"
    # signals older than the churn window before the last contact are not counted
    old = link([Contact("a", day(0), "red"), Contact("b", day(1), "red"), Contact("c", day(200), "yellow")],
               JourneyRules(), now=day(201))
    assert old.evidence == []


# --- in the service ---------------------------------------------------------------------------------

def _sentence(name: str, k: int) -> str:
    """Line ``k`` of a shared labelled sentiment set (see the data README for source and licence)."""
    return (DATA / "multilingual" / "text" / f"{name}.tsv").read_text(encoding="utf-8").splitlines()[k].split("\t", 1)[1]


def test_reply_headers_and_closings_of_nordic_mail_clients_are_cut():
    """Only the sender's own words are scored: Gmail's and Outlook's reply headers in Norwegian
    (read as Danish ones by mail-parser-reply), Swedish and Finnish (our own cut: the library knows
    no Finnish), and a Finnish closing with the name under it."""
    from callscope.analysis.text_pipeline import own_reply

    no, fi = _sentence("no_norec", 3), _sentence("fi_xed", 5)
    quoted = "Takk for henvendelsen, vi ser på saken."
    cases = [
        (no, f"{no}\n\nman. 2. nov. 2026 kl. 10:00 skrev Kundeservice <kundeservice@example.no>:\n> {quoted}\n"),
        (no, f"{no}\n\nFra: Kundeservice <kundeservice@example.no>\nSendt: mandag 2. november 2026 10:00\n"
             f"Til: Ola Nordmann\nEmne: Kort\n\n{quoted}\n"),
        (fi, f"{fi}\n\nma 2.11.2026 klo 10.00 Asiakaspalvelu <asiakaspalvelu@example.fi> kirjoitti:\n> {quoted}\n"),
        (fi, f"{fi}\n\nLähettäjä: Asiakaspalvelu <asiakaspalvelu@example.fi>\nLähetetty: maanantai 2. marraskuuta 2026"
             f" 10.00\nVastaanottaja: Matti\nAihe: Kortti\n\n{quoted}\n"),
        (fi, f"{fi}\n\nYstävällisin terveisin\nMatti Meikäläinen\n"),
        (fi, f"{fi}\n\nDen 2 nov. 2026 kl. 10:00 skrev Kundtjänst <kundtjanst@example.se>:\n> {quoted}\n"),
    ]
    for own, body in cases:
        assert own_reply(body) == own.strip(), body
    # "kirjoitti:" inside a sentence is the customer's own words, not a header
    inline = f"{fi} Matti kirjoitti: kortti ei toimi."
    assert own_reply(inline) == inline


CUSTOMER_ID, PHONE, EMAIL = "KUND-77", "+46 70 123 45 67", "maja.lindqvist@example.com"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SECRETS = ("kund-77", "KUND-77", "701234567", "70 123 45 67", "lindqvist@example", "Lindqvist@example")


def _upload(client, path, **meta) -> str:
    with open(path, "rb") as f:
        r = client.post("/v1/calls", files={"files": (path.name, f)}, data=meta)
    assert r.status_code == 202, r.text
    return r.json()["calls"][0]["id"]


def _banking(category: str, n: int) -> list[str]:
    """The first ``n`` real customer queries of a banking77 test category (PolyAI-LDN/task-specific-
    datasets @ 57ec275d, CC BY 4.0)."""
    with open(DATA / "text" / "banking77" / "test.csv", newline="", encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f) if r["category"] == category][:n]


def _chat(at: datetime) -> dict:
    """A chat of the same customer: two real customer queries (charged twice) and the agent's answer."""
    asked = _banking("transaction_charged_twice", 2)
    return {"channel": "chat", "customer_id": "kund-77", "agent_id": "a-17", "external_id": "chat-1",
            "messages": [{"role": "customer", "at": at.isoformat(), "text": asked[0]},
                         {"role": "agent", "at": (at + timedelta(minutes=1)).isoformat(), "text": "Let me look at that."},
                         {"role": "customer", "at": (at + timedelta(minutes=3)).isoformat(), "text": asked[1]}]}


QUOTED = "Thank you for contacting us. Your card is on its way and should arrive within three days."
SIGNATURE = "Best regards\nMaja Lindqvist\nCustomer since 2019"


def _email(at: datetime) -> dict:
    """An e-mail from another customer (known by the address only): a real query (card not
    working), a signature and the earlier answer quoted below a reply header."""
    body = (f"{_banking('card_not_working', 1)[0]}\n\n{SIGNATURE}\n\n"
            f"On Mon, 2 Nov 2026 at 10:00, Support <support@example.com> wrote:\n> {QUOTED}\n")
    return {"channel": "email", "customer_email": "Maja Lindqvist <Maja.Lindqvist@example.com>", "subject": "card",
            "messages": [{"role": "customer", "at": at.isoformat(), "text": body}]}


def _no_identifier(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} in an answer"


@pytest.fixture(scope="module")
def journey(tmp_path_factory, database):
    """Two real calls of one customer, two days apart, analysed by the service's worker: Call01
    (customer id and phone number) and the 8 kHz µ-law sample (the same customer id, written
    differently)."""
    data = tmp_path_factory.mktemp("journeys")
    # info: the worker says when it scores text interactions together (the bulk test reads it)
    with running_service(data, database(data), CALLSCOPE_LOG_LEVEL="info") as svc, svc.client(svc.key) as admin:
        svc.first_at, svc.second_at = datetime.now(UTC) - timedelta(days=10), datetime.now(UTC) - timedelta(days=8)
        svc.a = _upload(admin, AUDIO / "callytics" / "Call01.wav", customer_id=CUSTOMER_ID, customer_phone=PHONE,
                        channel="voice", agent_id="a-17", recorded_at=svc.first_at.isoformat())
        svc.b = _upload(admin, SAMPLES / "pyannote_sample_mulaw_8k.wav", customer_id=" kund-77", channel="voice",
                        agent_id="a-22", recorded_at=svc.second_at.isoformat())
        svc.chat_at = datetime.now(UTC) - timedelta(days=6)
        r = admin.post("/v1/interactions", json=_chat(svc.chat_at))
        assert r.status_code == 202, r.text
        svc.c = r.json()["interactions"][0]["id"]
        svc.mail = admin.post("/v1/interactions", json=_email(svc.chat_at)).json()["interactions"][0]["id"]
        for call_id in (svc.a, svc.b, svc.c, svc.mail):
            assert wait_done(admin, call_id)["status"] == "done", call_id
        svc.reader_key = new_key(admin, "qa lead", "read", "review")
        svc.key_of = admin.get(f"/v1/calls/{svc.a}").json()["journey"]["customer"]
        yield svc


@pytest.mark.slow
def test_two_real_calls_and_a_chat_of_one_customer_form_one_journey(journey):
    """Call01 (day −10), the µ-law sample (day −8) and a chat (day −6): each a repeat of the one before."""
    a, b, c, key = journey.a, journey.b, journey.c, journey.key_of
    with journey.client(journey.reader_key) as reader:
        first, second, chat = (reader.get(f"/v1/calls/{i}").json() for i in (a, b, c))
        assert {first["journey"]["customer"], second["journey"]["customer"], chat["journey"]["customer"]} == {key}
        assert len(key) == 64
        assert (second["journey"]["repeat_of"], chat["journey"]["repeat_of"]) == (a, b)
        assert second["journey"]["days_since_previous"] == pytest.approx(2.0, abs=1e-3)
        assert chat["journey"]["days_since_previous"] == pytest.approx(2.0, abs=1e-3)
        assert first["journey"]["fcr"] is False  # a repeat followed within 7 days
        assert second["journey"]["fcr"] is None and chat["journey"]["fcr"] is None  # repeats are not first contacts
        body = reader.get(f"/v1/customers/{key}").json()
        assert [(x["call_id"], x["channel"]) for x in body["contact_list"]] == [(a, "voice"), (b, "voice"), (c, "chat")]
        assert (body["contacts"], body["repeat_contacts"], body["pseudonym"]) == (3, 2, "C-" + key[:10])
        assert [e["signal"] for e in body["churn_evidence"]] == ["repeat_contacts"]  # two repeats: 0.15, low
        assert (body["churn_risk"], body["churn_level"]) == (0.15, "low")
        assert reader.get("/v1/customers/" + "0" * 64).status_code == 404
        assert reader.get("/v1/customers/KUND-77").status_code == 422  # a pseudonym, never the identifier
        for text in (json.dumps(first), json.dumps(second), json.dumps(body), reader.get("/v1/calls").text):
            _no_identifier(text)


@pytest.mark.slow
def test_the_chat_is_scored_like_a_call_and_the_email_without_its_quote_and_signature(journey):
    with journey.client(journey.reader_key) as reader:
        chat = reader.get(f"/v1/calls/{journey.c}").json()
        assert (chat["metadata"]["channel"], chat["language"], chat["status"]) == ("chat", "en", "done")
        assert chat["escalation"] in ("green", "yellow", "orange", "red") and chat["customer_sentiment"] is not None
        lines = reader.get(f"/v1/calls/{journey.c}/transcript").json()["utterances"]
        asked = _banking("transaction_charged_twice", 2)
        said = [" ".join(x.split()).rstrip(".") for x in (asked[0], "Let me look at that", asked[1])]
        assert [u["text"].rstrip(".") for u in lines] == said  # each message, its spaces made single
        assert [u["sent_at"][:16] for u in lines] == [(journey.chat_at + timedelta(minutes=m)).isoformat()[:16] for m in (0, 1, 3)]
        assert all(u["sentiment"] is not None and u["emotion"] is not None for u in lines)
        roles = {sp["id"]: sp["role"] for sp in reader.get(f"/v1/calls/{journey.c}/transcript").json()["speakers"]}
        assert roles == {"C": "customer", "A": "agent"}
        assert reader.get(f"/v1/calls/{journey.c}/audio").status_code == 404
        mail = reader.get(f"/v1/calls/{journey.mail}/transcript").json()["utterances"]
        said = " ".join(u["text"] for u in mail)
        assert _banking("card_not_working", 1)[0].rstrip(".") in said
        assert "on its way" not in said and "Lindqvist" not in said and "Best regards" not in said
        # the unredacted messages are not kept once scored
        assert journey.sql("SELECT count(*) FROM calls WHERE source_json IS NOT NULL") == [(0,)]
        # the sender's address is the e-mail's customer: a journey of its own, by pseudonym only
        mail_call = reader.get(f"/v1/calls/{journey.mail}").json()
        assert mail_call["journey"]["customer"] != journey.key_of
        _no_identifier(json.dumps(mail_call))
        # the list and aggregates have the channel dimension
        assert [r["id"] for r in reader.get("/v1/calls", params={"channel": "email"}).json()["calls"]] == [journey.mail]
        agg = reader.get("/v1/aggregates", params={"group_by": "channel", "from": journey.first_at.date().isoformat(),
                                                   "to": journey.chat_at.date().isoformat()}).json()["groups"]
        assert (agg["chat"]["calls"], agg["email"]["calls"], agg["voice"]["calls"]) == (1, 1, 2)


@pytest.mark.slow
def test_qa_corrections_move_the_churn_risk_and_make_a_recovery(journey):
    a, b, c, key = journey.a, journey.b, journey.c, journey.key_of
    with journey.client(journey.reader_key) as reader:
        # QA says both calls were red: two negative contacts (0.3) and two repeats (0.15): medium
        for call_id in (a, b):
            r = reader.post(f"/v1/calls/{call_id}/corrections", json={"escalation": "red", "reason": "angry customer"})
            assert r.status_code == 201, r.text
        both_red = reader.get(f"/v1/customers/{key}").json()
        negative = next(e for e in both_red["churn_evidence"] if e["signal"] == "repeated_negative")
        assert a in negative["calls"] and b in negative["calls"]
        assert both_red["churn_level"] == "medium" and both_red["churn_risk"] >= 0.45
        listed = reader.get("/v1/customers", params={"at_risk": "medium"}).json()["customers"]
        assert [x["key"] for x in listed] == [key]
        at_risk = reader.get("/v1/calls", params={"at_risk": "medium"}).json()["calls"]
        assert sorted(x["id"] for x in at_risk) == sorted([a, b, c])
        # then that the chat ended well: it wins back the second call, both calls are recovered,
        # and the last contact being a recovery takes 0.2 off: 0.3 + 0.15 − 0.2
        assert reader.post(f"/v1/calls/{c}/corrections", json={"escalation": "green", "reason": "sorted out"}).status_code == 201
        assert reader.get(f"/v1/calls/{c}").json()["journey"]["recovery_of"] == b
        assert [reader.get(f"/v1/calls/{i}").json()["journey"]["recovered"] for i in (a, b)] == [True, True]
        after = reader.get(f"/v1/customers/{key}").json()
        assert after["recoveries"] == 1 and after["churn_risk"] == pytest.approx(0.25)
        assert [e["signal"] for e in after["churn_evidence"]] == ["repeated_negative", "repeat_contacts", "recovered"]


@pytest.mark.slow
def test_the_feeds_and_aggregates_carry_the_journey(journey):
    a, b, key = journey.a, journey.b, journey.key_of
    with journey.client(journey.reader_key) as reader:
        risk = reader.get(f"/v1/customers/{key}").json()["churn_risk"]
        feed = reader.get("/v1/feeds/daily", params={"date": journey.second_at.date().isoformat(), "format": "csv"})
        row = next((r for r in csv.DictReader(io.StringIO(feed.text)) if r["call_id"] == b), None)
        assert row is not None, feed.text[:2000]
        assert (row["customer_pseudonym"], row["repeat_of"], row["fcr"], row["recovered"]) == (key, a, "", "True")
        assert float(row["days_since_previous_contact"]) == pytest.approx(2.0, abs=1e-3)
        assert float(row["churn_risk"]) == risk
        customers = reader.get("/v1/feeds/customers", params={"date": journey.second_at.date().isoformat()})
        lines = [json.loads(x) for x in customers.text.splitlines()]
        assert [(x["customer_pseudonym"], x["contacts_that_day"], x["contacts"]) for x in lines] == [(key, 1, 3)]
        parquet = reader.get("/v1/feeds/customers", params={"date": journey.second_at.date().isoformat(), "format": "parquet"})
        assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"
        agg = reader.get("/v1/aggregates", params={"group_by": "channel", "from": journey.first_at.date().isoformat(),
                                                   "to": journey.second_at.date().isoformat()}).json()["groups"]["voice"]
        # two calls with a customer, one a repeat; the one first contact was repeated (FCR 0 of 1);
        # both red calls were followed by another contact, and won back by the green chat (2 of 2)
        assert (agg["with_customer"], agg["repeat_rate"], agg["fcr_known"], agg["fcr_rate"]) == (2, 0.5, 1, 0.0)
        assert (agg["recovery_known"], agg["recovery_rate"]) == (2, 1.0)
        for text in (feed.text, customers.text, json.dumps(agg)):
            _no_identifier(text)


@pytest.mark.slow
def test_the_customer_page_and_the_dashboard_show_the_journey(journey):
    from tests.support.accessibility import violations
    from tests.support.browser import Browser

    a, b, c, key = journey.a, journey.b, journey.c, journey.key_of
    browser = Browser(journey.base)
    try:
        browser.viewport(1366, 900)
        browser.sign_in(journey.reader_key)
        browser.get(f"/calls/{c}")  # the chat: a thread without a player, and its customer
        browser.wait(lambda: browser.finds("#transcript li.utt"), message="no messages on the chat's page")
        assert browser.find("#thread-note").get_attribute("data-channel") == "chat"
        assert not browser.find("#audio").is_displayed()
        assert browser.finds("#transcript .sent-at")
        browser.screenshot("chat-thread")
        assert violations(browser.driver) == []
        browser.get(f"/calls/{b}")  # reachable from any call
        link = browser.wait(lambda: browser.finds("#call-customer a"), message="no customer link on the review page")[0]
        assert link.text == "C-" + key[:10] and "repeat contact" in browser.find("#call-customer").text
        link.click()
        browser.wait(lambda: browser.finds("#contacts tbody tr"), message="no contacts on the customer page")
        rows = browser.finds("#contacts tbody tr")
        assert [r.get_attribute("data-call") for r in rows] == [a, b, c]
        assert "repeat of" in rows[1].text and "chat" in rows[2].text and "wins back" in rows[2].text
        assert len(browser.finds("#journey-timeline a.journey-dot")) == 3
        assert len(browser.finds("#journey-timeline a.journey-dot.repeat")) == 2
        assert "recovered" in browser.find("#churn-evidence").text
        browser.screenshot("customer-journey")
        assert violations(browser.driver) == []
        _no_identifier(browser.driver.page_source)
        browser.get("/customers?at_risk=low")
        browser.wait(lambda: browser.finds("#customers tbody tr"), message="no customer listed")
        assert key in [r.get_attribute("data-key") for r in browser.finds("#customers tbody tr")]
        assert violations(browser.driver) == []
        frm, to = journey.first_at.date().isoformat(), journey.second_at.date().isoformat()
        browser.get(f"/dashboard?group_by=channel&from={frm}&to={to}")
        cell = browser.wait(lambda: browser.finds('#groups tr[data-group="voice"] td.fcr-rate'), message="no FCR cell")[0]
        assert cell.text.startswith("0 %")
        assert browser.find('#groups tr[data-group="voice"] td.recovery-rate').text.startswith("100 %")
        browser.screenshot("dashboard-fcr")
        assert violations(browser.driver) == []
        _no_identifier(browser.driver.page_source)
    finally:
        browser.driver.quit()


@pytest.mark.slow
def test_the_cli_imports_interactions_and_recomputes_journeys(journey, tmp_path):
    cli = [sys.executable, "-m", "callscope.cli"]
    bad = tmp_path / "bad.ndjson"
    later = datetime.now(UTC) - timedelta(days=1)
    good_line = json.dumps({**_chat(later), "external_id": "chat-2"})
    bad.write_text(good_line + "\n" + json.dumps({"channel": "fax", "messages": []}) + "\n")
    out = subprocess.run([*cli, "import", str(bad)], env=journey.env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "line 2: channel" in out.stderr and "nothing was stored" in out.stderr, out.stderr
    assert journey.sql("SELECT count(*) FROM calls WHERE external_id = 'chat-2'") == [(0,)]
    good = tmp_path / "good.ndjson"
    good.write_text(good_line + "\n")
    out = subprocess.run([*cli, "import", str(good)], env=journey.env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "1 interactions stored and queued" in out.stderr, out.stderr
    again = subprocess.run([*cli, "import", str(good)], env=journey.env, capture_output=True, text=True, timeout=300)
    assert "0 interactions stored and queued for scoring, 1 already stored" in again.stderr, again.stderr
    new_id = journey.sql("SELECT id FROM calls WHERE external_id = 'chat-2'")[0][0]
    with journey.client(journey.reader_key) as reader:
        assert wait_done(reader, new_id)["status"] == "done"
        assert reader.get(f"/v1/customers/{journey.key_of}").json()["contacts"] == 4
    # a one-day window, recomputed by the CLI: no repeat among contacts two days apart
    out = subprocess.run([*cli, "journeys"], env={**journey.env, "CALLSCOPE_REPEAT_DAYS": "1"},
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0 and "customers recomputed (repeat window 1 days" in out.stderr, out.stdout + out.stderr
    _no_identifier(out.stdout + out.stderr)
    with journey.client(journey.reader_key) as reader:
        assert reader.get(f"/v1/calls/{journey.b}").json()["journey"]["repeat_of"] is None
        assert reader.get(f"/v1/calls/{journey.a}").json()["journey"]["fcr"] is True  # 10 days ago, no repeat within 1


@pytest.mark.slow
def test_erasure_of_the_subject_takes_the_journey_and_the_text_interactions(journey):
    key = journey.key_of
    with journey.client(journey.key) as admin:
        gone = admin.delete(f"/v1/subjects/{PHONE}").json()  # the number as the customer gives it
        assert gone["calls_erased"] == 1  # only Call01 came with the number...
        assert admin.get(f"/v1/customers/{key}").json()["contacts"] == 3
        assert admin.delete(f"/v1/subjects/{CUSTOMER_ID}").json()["calls_erased"] == 3  # ...the rest by the id
        assert admin.get(f"/v1/customers/{key}").status_code == 404
        by_mail = admin.delete(f"/v1/subjects/{EMAIL.upper()}").json()
        assert by_mail["calls_erased"] == 1 and by_mail["matched_as"] == ["email"]
    assert journey.sql("SELECT count(*) FROM customers") == [(0,)]
    assert journey.sql("SELECT count(*) FROM calls") == [(0,)]


@pytest.mark.slow
def test_a_bulk_body_is_checked_whole_and_its_chats_are_scored_together(journey):
    """Forty chats of real customer queries (banking77 "card_arrival") in one NDJSON body: one bad
    line refuses them all; sent right, all are stored and the worker scores them in batches (their
    sentences in one encoder pass), each as it scores a chat alone."""
    from callscope.api.routes.interactions import MAX_LINE_BYTES

    at = datetime.now(UTC) - timedelta(hours=2)
    lines = [json.dumps({"channel": "chat", "customer_id": f"bulk-{k}", "external_id": f"bulk-{k}",
                         "messages": [{"role": "customer", "at": at.isoformat(), "text": query},
                                      {"role": "agent", "at": (at + timedelta(minutes=1)).isoformat(),
                                       "text": "Let me check where your card is."}]})
             for k, query in enumerate(_banking("card_arrival", 40))]
    ndjson = {"content-type": "application/x-ndjson"}
    with journey.client(journey.key) as admin:
        bad = admin.post("/v1/interactions/bulk", content="\n".join([*lines[:5], '{"channel": "fax"}', *lines[5:]]),
                         headers=ndjson)
        assert bad.status_code == 422 and "line 6" in bad.text, bad.text
        assert journey.sql("SELECT count(*) FROM calls WHERE external_id LIKE 'bulk-%'") == [(0,)]
        # a line without an end is refused once it passes the line limit (it is not held whole)
        endless = admin.post("/v1/interactions/bulk", content=b"x" * (MAX_LINE_BYTES + 2**20), headers=ndjson)
        assert endless.status_code == 413 and "line 1 is longer than" in endless.text, endless.text[:300]
        r = admin.post("/v1/interactions/bulk", content="\n".join(lines) + "\n", headers=ndjson)
        assert r.status_code == 202, r.text
        ids = [item["id"] for item in r.json()["interactions"]]
        assert len(ids) == 40
        for call_id in ids:
            assert wait_done(admin, call_id)["status"] == "done", call_id
        for call_id in ids[:3]:
            lines_out = admin.get(f"/v1/calls/{call_id}/transcript").json()["utterances"]
            assert len(lines_out) == 2 and all(u["sentiment"] is not None for u in lines_out)
    batches = [int(n) for n in re.findall(r"(\d+) text interactions scored together", journey.log_text())]
    assert batches and max(batches) >= 2 and sum(batches) >= 20, batches
