"""What a call is about (issue 27): contact reason, outcome and extractive summary from the
stored analysis of real calls, in several languages; topics and surges on real customer queries."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from benchmarks.reference import DATA
from callscope.scoring.insight.insight import InsightReader
from callscope.scoring.rules import RulesError, load_rules, starter_text

pytestmark = pytest.mark.slow  # real analyses and the sentence encoder


@pytest.fixture(scope="module")
def reader():
    return InsightReader()


@pytest.fixture(scope="module")
def starter():
    return load_rules(starter_text())


def test_call01_is_a_technical_fault_resolved_with_a_summary_that_links_to_its_moments(call01_result, reader, starter):
    """Read from the hand transcript: the customer no longer gets notification e-mails in time
    (technical_fault); the agent resets the preferences; the customer thanks them for fixing it
    (resolved). The problem statement is found, not taken as the first utterance (the agent's
    greeting)."""
    result = call01_result
    insight = reader.read(result, starter, rules_label="rules/1")
    reason = insight.reason
    assert reason.reason == "technical_fault" and reason.decided_by == "similarity", reason
    assert 0 not in reason.evidence  # not the greeting
    assert any("notification" in result.utterances[i].text.lower() for i in reason.evidence)
    assert 0 < reason.confidence < 1 and reason.runner_up and reason.runner_up != reason.reason
    assert reason.times == tuple((result.utterances[i].start, result.utterances[i].end) for i in reason.evidence)
    outcome = insight.outcome
    assert outcome.outcome == "resolved", outcome
    assert any("fixing" in result.utterances[i].text.lower() for i in outcome.evidence)
    lines = insight.summary
    assert 3 <= len(lines) <= 5 and [l.utterance for l in lines] == sorted(l.utterance for l in lines)
    assert {"problem", "outcome"} <= {l.part for l in lines}
    for line in lines:
        u = result.utterances[line.utterance]
        assert (line.text, line.start) == (u.text, round(u.start, 2))
    assert insight.version.startswith("insight/") and insight.version.endswith("+rules/1")


def test_a_reasons_condition_decides_and_nothing_close_is_other(call01_result, reader):
    rules = load_rules(starter_text() + """
  - name: email_settings
    description: anything about e-mail preferences
    when:
      said: {by: agent, phrases: [notification preferences, notification prefers]}
""")
    found = reader.read(call01_result, rules).reason
    if found.decided_by == "condition":  # the ASR heard the agent's words as one of the phrases
        assert found.reason == "email_settings"
    narrow = load_rules("""
categories: [{name: x, when: {duration_s: {gte: 0}}}]
reasons:
  - name: mortgage
    description: The customer asks about a mortgage or a home loan.
    examples: [I want to refinance my mortgage, what is the interest on a home loan]
""")
    other = reader.read(call01_result, narrow).reason
    assert other.reason == "other" and other.decided_by == "threshold" and other.runner_up == "mortgage"
    assert "no reason is close" in other.detail


def test_a_rule_set_without_reasons_gives_no_reason_and_bad_taxonomies_are_refused(call01_result, reader):
    plain = load_rules("categories: [{name: x, when: {duration_s: {gte: 0}}}]\n")
    insight = reader.read(call01_result, plain)
    assert insight.reason is None and insight.outcome.outcome in ("resolved", "not_resolved", "follow_up",
                                                                  "transferred", "unknown")
    for bad in ("reasons: [{name: other, description: x}]", "reasons: [{name: a}]",
                "reasons: [{name: a, description: x}, {name: a, description: y}]",
                "reasons: [{name: a, examples: ['" + "x" * 301 + "']}]"):
        with pytest.raises(RulesError):
            load_rules("categories: [{name: x, when: {duration_s: {gte: 0}}}]\n" + bad + "\n")


@pytest.mark.parametrize(("dialogue_id", "reason"), [("en-inbound-billing", "billing"),
                                                     ("sv-inbound-internet", "technical_fault"),
                                                     ("de-inbound-order", "delivery")])
def test_the_reason_is_found_in_each_language_with_the_starter_taxonomy(analyzer, reader, starter, tmp_path,
                                                                         dialogue_id, reason):
    """Written dialogues (benchmarks/data/dialogues.json) spoken by espeak-ng into 8 kHz calls:
    the reason is the one the dialogue was written about; the summary is the call's own words."""
    from tests.test_evidence import _espeak_or_skip

    _espeak_or_skip()
    from benchmarks.dialogue_audio import dialogues, speak
    from callscope.analysis.call_settings import CallSettings

    dialogue = next(d for d in dialogues() if d["id"] == dialogue_id)
    path, _turns = speak(dialogue, tmp_path)
    result = analyzer.analyze(path, call=CallSettings(language=dialogue["language"]))
    insight = reader.read(result, starter)
    assert insight.reason.reason == reason, (insight.reason, [u.text for u in result.utterances])
    assert all(line.text == result.utterances[line.utterance].text for line in insight.summary)


def test_topics_of_real_customer_queries_match_their_intents_and_a_tripled_intent_surges(reader):
    """banking77's test queries (CC BY 4.0, human intent labels): clusters agree with the intents
    far beyond chance and are named by their terms; fourteen simulated days of 3,000 real
    queries, one intent's share tripled on day 10: a surge of that intent's topic on day 10 and
    no surge on any other day."""
    from sklearn.metrics import adjusted_rand_score

    from benchmarks.insight import simulate_surge
    from callscope.scoring.insight import topics as T

    with open(DATA / "text" / "banking77" / "test.csv", newline="", encoding="utf-8") as f:
        rows = [(r["text"], re.sub(r"[^a-z0-9_]", "", r["category"].lower())) for r in csv.DictReader(f)]
    texts, intents = [t for t, _ in rows], np.array([c for _, c in rows])
    x = reader.encoder.encode(texts)
    found = T.discover(x)
    assert found.labels.max() >= 20 and (found.labels >= 0).mean() > 0.9
    assert adjusted_rand_score(intents, found.labels) > 0.3
    names = T.top_terms(texts, found.labels)
    assert len(names) == found.labels.max() + 1 and all(len(v) == 5 for v in names.values())
    run = simulate_surge(x, intents, days=14, per_day=3000, surge_day=10, seed=27)
    assert run["detected_on_surge_day"] and not run["false_surges"], run
