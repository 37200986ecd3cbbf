"""Rule sets as an attacker writes them (issue 24, item 1), on SQLite and PostgreSQL through the
real service: a regex that backtracks for minutes in Python's ``re`` runs in linear time on RE2
(the correction that re-scores the call answers and the server stays up); what RE2 cannot run
(backreferences, lookaround) is refused with the category's name; a YAML alias bomb and YAML
nested thousands deep are refused with a 422 that says where, and nothing is stored."""

from __future__ import annotations

import httpx
import pytest

from benchmarks.reference import AUDIO
from tests.support.server import new_key, running_service, wait_done
from callscope.scoring.rules import RulesError, load_rules

pytestmark = pytest.mark.slow  # a real server, browser, worker or full analysis: not in make test-fast

@pytest.fixture(scope="module")
def database():
    """SQLite only: this module's checks do not depend on the database, and CI has 90 minutes for
    the whole suite; the PostgreSQL paths they pass through are run by test_service.py,
    test_crypto_shredding.py, test_rules_service.py and the other modules on both databases."""
    return lambda data_dir: f"sqlite:///{data_dir / 'callscope.db'}"


#: Backtracks exponentially in Python's ``re`` on any sentence that ends in punctuation.
EVIL = r"^(\w+\s?)*$"
EVIL_RULES = ("name: evil\ncategories:\n  - name: catastrophic\n    when: {said: {by: any, regex: ['" + EVIL + "']}}\n"
              "  - name: said_hello\n    when: {said: {by: any, regex: ['^(hello|hi)\\b']}}\n")
#: 500 bytes of YAML that expand to 9**6 (531,441) conditions when aliases are followed.
BOMB = ("a: &a [{duration_s: {gt: 1}}, {duration_s: {gt: 1}}, {duration_s: {gt: 1}}, {duration_s: {gt: 1}}, "
        "{duration_s: {gt: 1}}, {duration_s: {gt: 1}}, {duration_s: {gt: 1}}, {duration_s: {gt: 1}}, {duration_s: {gt: 1}}]\n"
        "b: &b {any: [*a,*a,*a,*a,*a,*a,*a,*a,*a]}\nc: &c {any: [*b,*b,*b,*b,*b,*b,*b,*b,*b]}\n"
        "d: &d {any: [*c,*c,*c,*c,*c,*c,*c,*c,*c]}\ne: &e {any: [*d,*d,*d,*d,*d,*d,*d,*d,*d]}\n"
        "f: &f {any: [*e,*e,*e,*e,*e,*e,*e,*e,*e]}\n"
        "categories: [{name: bomb, when: {any: [*f,*f,*f,*f,*f,*f,*f,*f,*f]}}]\n")
NESTED = "categories: [{name: deep, when: " + "{not: " * 3000 + "{duration_s: {gt: 1}}" + "}" * 3000 + "}]\n"
FLOW = "categories: " + "[" * 20000 + "]" * 20000 + "\n"


def test_what_re2_cannot_run_is_refused_naming_the_category():
    for pattern, why in ((r"(\w)\1", "backreferences"), (r"(?<!not )happy", "lookaround"), ("a{1000}{1000}", "repetition")):
        with pytest.raises(RulesError, match=rf"categories\.1\.when\.said \(in category 'second'\).*{why}"):
            load_rules("categories: [{name: first, when: {duration_s: {gt: 1}}}, "
                       f"{{name: second, when: {{said: {{regex: ['{pattern}']}}}}}}]")
    assert load_rules(EVIL_RULES).categories[0].name == "catastrophic"  # linear on RE2: nothing to refuse


def test_aliases_and_deep_nesting_are_refused_before_they_cost_anything():
    for text, said in ((BOMB, r"line 2, column \d+: aliases"), (NESTED, "nested more than 64 levels"),
                       (FLOW, "nested more than 64 levels")):
        with pytest.raises(RulesError, match=said):
            load_rules(text)
    ok = "categories: [{name: deep_enough, when: " + "{not: " * 20 + "{duration_s: {gt: 1}}" + "}" * 20 + "}]"
    assert load_rules(ok).categories[0].name == "deep_enough"


@pytest.fixture(scope="module")
def service(tmp_path_factory, database):
    data = tmp_path_factory.mktemp("hostile-rules")
    with running_service(data, database(data)) as svc:
        with svc.client(svc.key) as admin:
            r = admin.post("/v1/calls", files={"files": ("Call01.wav", (AUDIO / "callytics" / "Call01.wav").read_bytes())})
            call_id = r.json()["calls"][0]["id"]
            assert wait_done(admin, call_id)["status"] == "done"
            yield svc, admin, call_id


def test_hostile_yaml_gets_a_422_that_says_where_and_nothing_is_stored(service):
    svc, admin, _ = service
    versions = len(admin.get("/v1/rules").json()["versions"])
    for text, said in ((BOMB, "aliases (*name) are not accepted"), (NESTED, "nested more than 64 levels deep"),
                       (FLOW, "nested more than 64 levels deep"),
                       ("categories: [{name: twice, when: {said: {regex: ['(a)\\1']}}}]", "in category 'twice'")):
        r = admin.post("/v1/rules", json={"yaml": text, "activate": True})
        assert r.status_code == 422, (r.status_code, r.text[:300])
        assert said in r.json()["error"]["message"]
    assert len(admin.get("/v1/rules").json()["versions"]) == versions


def test_a_catastrophic_regex_cannot_freeze_the_server(service):
    svc, admin, call_id = service
    added = admin.post("/v1/rules", json={"yaml": EVIL_RULES, "activate": True})
    assert added.status_code == 201, added.text
    reviewer = new_key(admin, "hostile-reviewer", "review")
    with svc.client(reviewer, timeout=60) as c:
        try:  # the correction re-scores the call under the active rule set, regex and all
            r = c.post(f"/v1/calls/{call_id}/corrections", json={"escalation": "orange", "reason": "regex probe"})
        except httpx.ReadTimeout:
            pytest.fail("the correction did not answer within 60 s: the rule's regex froze the server")
    assert r.status_code == 201, r.text
    with svc.client(None, timeout=10) as anyone:
        assert anyone.get("/healthz").status_code == 200
    categories = admin.get(f"/v1/calls/{call_id}/categories").json()
    assert categories["rules_version"].startswith(f"rules/{added.json()['version']}+")
    names = {c["name"] for c in categories["categories"]}
    assert "catastrophic" not in names  # every utterance ends in punctuation: no match, found in linear time
    assert "said_hello" in names  # Call01's agent opens with "Hello and welcome": the engine does match
