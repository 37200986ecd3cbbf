"""Evaluation forms without a server (issue 26): the starter forms parse, a form's score follows
its weights, N/A and critical questions, bad forms are refused saying where, and the review
queue's due times count working days. The automatic answers on real calls are tested over HTTP
in tests/test_evaluations.py and in the browser in tests/test_qa_workflow_web.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callscope.qa.forms import FormError, load_form, score, starter_texts
from callscope.qa.review_queue import ReviewDelays, add_working_days


def test_the_starter_forms_parse_in_english_and_swedish():
    forms = [load_form(t) for t in starter_texts()]
    assert [(f.form, f.language) for f in forms] == [("customer-service", "en"), ("kundtjanst", "sv")]
    assert [q.id for q in forms[0].questions] == [q.id for q in forms[1].questions]  # the same questions
    assert forms[1].applies_to.language == ["sv"] and forms[0].applies_to.fits({"language": "sv"}) == 0
    assert forms[1].applies_to.fits({"language": "en"}) is None and forms[1].applies_to.fits({"language": "sv"}) == 1


def test_the_score_follows_weights_na_and_critical_questions():
    form = load_form(starter_texts()[0])
    yes = {q.id: q.answers[0] for q in form.questions}  # yes, 1 (of 5), resolved
    assert yes["professionalism"] == "1" and yes["resolution"] == "resolved"
    # every question full marks but professionalism (1 of 5: 0 points, weight 2); total weight 13
    assert score(form, yes) == (pytest.approx(100 * 11 / 13, abs=0.01), False)
    assert score(form, {**yes, "identity_verified": "na"}) == (pytest.approx(100 * 9 / 11, abs=0.01), False)
    assert score(form, {**yes, "identity_verified": "no"}) == (0.0, True)  # critical
    assert score(form, {**yes, "resolution": "partly"})[0] == pytest.approx(100 * 9.5 / 13, abs=0.01)
    assert score(form, {}) == (None, False)
    with pytest.raises(ValueError, match="maybe"):
        form.questions[0].points("maybe")


@pytest.mark.parametrize(("text", "says"), [
    ("a: &a [1]\nb: *a\n", "alias"),
    ("form: x\ntitle: t\nsections: []\n", "sections"),
    ("form: x\ntitle: t\nsections: [{title: s, questions: [{id: q, text: t, auto: {said: {phrases: [hi]}}}]}]\n", "if_found"),
    ("form: x\ntitle: t\nsections: [{title: s, questions: [{id: q, text: t}, {id: q, text: u}]}]\n", "repeat"),
    ("form: x\ntitle: t\nsections: [{title: s, questions: [{id: q, text: t, type: choice, choices: [{value: a, points: 1}]}]}]\n", "two choices"),
    ("form: x\ntitle: t\nsections: [{title: s, questions: [{id: q, text: t, auto: {said: {regex: ['(?<=a)b']}, if_found: 'yes'}}]}]\n", "regex"),
])
def test_bad_forms_are_refused_saying_where(text, says):
    with pytest.raises(FormError, match=says):
        load_form(text)


def test_due_times_count_working_days():
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert add_working_days(friday, 2) == datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # Tuesday
    d = ReviewDelays()
    assert (d.due("red", friday) - friday).total_seconds() == 3600
    assert (d.due("orange", friday) - friday).total_seconds() == 4 * 3600
