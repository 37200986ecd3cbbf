"""The level a user sees is decided in one place (issue 25): structured reasons on the real
SpokenWOZ call (its level, a role note, interruptions), read again under other bands, with a
reviewer's level and roles swapped, in English and Swedish, and for a result stored before
reasons were structured."""

from __future__ import annotations

import json

import pytest

from callscope.scoring.escalation import EscalationBands, LevelOverride, decide_level, relevel, render
from callscope.scoring.messages import catalogue

pytestmark = pytest.mark.slow  # a full analysis of a real call: not in make test-fast


def _customer(result):
    return next((s for s in result.speaker_scores if s.role == "customer"), None)


def test_every_reason_is_structured_and_its_message_is_rendered_from_it(spokenwoz_result):
    cs = spokenwoz_result.call_scores
    details = cs.reason_details
    assert cs.reasons == [r.message for r in details] and len(details) >= 2
    assert {r.about for r in details} == {"level", "call"}  # the level's own and the call's (the role note)
    assert details[0].code == "reason.band" and details[0].evidence == cs.escalation.evidence
    assert cs.bands is not None and EscalationBands.of(cs.bands) == EscalationBands()
    for r in details:
        assert r.code in catalogue("en") and render(r.code, r.params, "en") == r.message
        json.dumps(r.params)  # plain values, not pre-formatted text
    swedish = [render(r.code, r.params, "sv") for r in details]
    assert swedish[0].startswith("kundens") and swedish != cs.reasons


def test_a_level_read_again_replaces_its_own_reasons_whatever_their_words(spokenwoz_result):
    """On main the level's reasons were recognised by their text: a result whose reasons were written
    in other words (an older catalogue, another language) kept the old level's reasons beside the new."""
    cs = spokenwoz_result.call_scores.model_copy(deep=True)
    for r in cs.reason_details:  # as an earlier release would have worded them
        r.message = r.message.replace("sentiment", "mood")
    cs.reasons = [r.message for r in cs.reason_details]
    customer = _customer(spokenwoz_result)
    strict = EscalationBands(0.95, 0.9, 0.85)
    again = relevel(cs, customer, customer, strict, "v+bands")
    codes = [r.code for r in again.reason_details]
    assert codes.count("reason.band") == 1 and again.escalation.value == "red"
    assert again.reason_details[0].params["level"] == "red" and "mood" not in again.reasons[0]
    kept = [r for r in cs.reason_details if r.about != "level"]
    assert [r for r in again.reason_details if r.about != "level"] == kept  # the role note, as it was
    assert again.bands is not None and EscalationBands.of(again.bands) == strict


def test_a_reviewers_level_goes_first_and_a_second_one_replaces_it(spokenwoz_result):
    cs = spokenwoz_result.call_scores
    customer = _customer(spokenwoz_result)
    bands = EscalationBands()
    first = relevel(cs, customer, customer, bands, cs.escalation.version, LevelOverride("red", "qa (key qa)", "shouting", 7))
    assert first.escalation.value == "red" and first.escalation.version == "qa-review/7"
    assert first.reasons[0] == "level set to red by QA reviewer qa (key qa): shouting"
    assert first.reasons[1:] == cs.reasons  # the rules' reasons, unchanged, after it
    second = relevel(first, customer, customer, bands, cs.escalation.version, LevelOverride("green", "lead", "fine", 8))
    assert [r.code for r in second.reason_details].count("reason.qa_level") == 1
    assert second.reasons[0].startswith("level set to green") and second.reasons[1:] == cs.reasons
    # the one function that decides: no override, the rules' level
    plain, own = decide_level(customer, bands, cs.escalation.version)
    assert plain == cs.escalation and [r.message for r in own] == cs.reasons[:len(own)]


def test_a_result_stored_before_reasons_were_structured_is_read_again_correctly(spokenwoz_result):
    cs = spokenwoz_result.call_scores.model_copy(update={"reason_details": [], "bands": None})  # as stored before
    customer = _customer(spokenwoz_result)
    again = relevel(cs, customer, customer, EscalationBands(0.95, 0.9, 0.85), "v+bands")
    assert [r.code for r in again.reason_details].count("reason.band") == 1
    legacy = [r for r in again.reason_details if r.code == "legacy"]
    assert [r.message for r in legacy] == [r.message for r in spokenwoz_result.call_scores.reason_details
                                           if r.about != "level"]


def test_a_role_swap_rescores_the_new_customer_and_settles_the_role_note(spokenwoz_result):
    from callscope.qa.corrections import apply_corrections, swapped_roles
    from callscope.store.db import Correction

    assert any(r.code.startswith("role_note.") for r in spokenwoz_result.call_scores.reason_details)
    swap = Correction(id=1, call_id="c", utterance=None, field="roles", original="{}", reviewer="qa",
                      value=json.dumps(swapped_roles(spokenwoz_result)), display_name=None,
                      reason="channel map reversed")
    out = apply_corrections(spokenwoz_result, [swap]).call_scores
    codes = [r.code for r in out.reason_details]
    assert codes[0] == "reason.band" and codes.count("reason.band") == 1  # the new customer's level
    assert "reason.qa_roles" in codes and not [c for c in codes if c.startswith("role_note.")]
    assert out.role_note is None and out.reasons == [r.message for r in out.reason_details]
