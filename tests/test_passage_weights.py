"""Call-level sentiment that one passage cannot capture (issue 30, item 3): a passage weighs its
sentences (at most three), not its words, and the same passage said again shares one weight.

The real scorer on Call01's hand-made reference transcript; a looping transcript is made by
repeating the customer's real complaint, as Whisper repeats a line it is stuck on.
"""

from __future__ import annotations

import pytest

from callscope.scoring.call_scores import MAX_SENTENCES_PER_PASSAGE, passage_weights, sentence_count
from callscope.scoring.scorer import CallScorer
from callscope.scoring.sentiment import SentimentModel
from callscope.transcription.types import Utterance, Word
from tests.support.reference_scoring import reference_call, score_reference


@pytest.fixture(scope="module")
def scorer() -> CallScorer:
    return CallScorer(sentiment=SentimentModel())


def _shifted(u: Utterance, by: float) -> Utterance:
    return Utterance(u.speaker, u.start + by, u.end + by,
                     [Word(w.word, w.start + by, w.end + by, w.probability) for w in u.words])


def _looped(utterances: list[Utterance], index: int, times: int) -> list[Utterance]:
    """``utterances`` with utterance ``index`` said ``times`` times in a row (later speech moved on)."""
    u = utterances[index]
    length = u.end - u.start + 0.2
    copies = [_shifted(u, k * length) for k in range(times)]
    return utterances[:index] + copies + [_shifted(v, (times - 1) * length) for v in utterances[index + 1:]]


def _customer(result):
    return next(s for s in result.speakers if s.role == "customer")


def test_a_looped_passage_counts_once_in_the_customers_mean(scorer):
    utterances, roles = reference_call()
    complaint = next(i for i, u in enumerate(utterances) if "trouble receiving" in u.text)
    once = score_reference(scorer, utterances, roles, duration=72.0)
    looped_utterances = _looped(utterances, complaint, 10)
    looped = score_reference(scorer, looped_utterances, roles, duration=72.0 + 9 * 11.0)
    assert once.utterances[complaint].sentiment.score < 0 < _customer(once).sentiment_mean.value
    # on main (call-scores/3, words weighed) the ten copies took the mean from +0.18 to -0.18
    assert _customer(looped).sentiment_mean.value == pytest.approx(_customer(once).sentiment_mean.value, abs=0.02)
    weights = passage_weights(looped_utterances)
    copies = [weights[complaint + k] for k in range(10)]
    assert sum(copies) == pytest.approx(passage_weights(utterances)[complaint])


def test_a_passage_weighs_its_sentences_up_to_three_not_its_words():
    utterances, _ = reference_call()
    weights = passage_weights(utterances)
    by_text = {u.text: w for u, w in zip(utterances, weights)}
    assert by_text["That’s great news. Thanks for fixing it so quickly!"] == 2
    assert by_text["Of course. My username is user101, and the associated email is bunyamin@gmail.com."] == 2
    long = ("There's no tax to pay on this. The form goes to the office. They file it in May. The amount is "
            "on page two. Nothing else changes. The rest is as it was.")
    words = [Word(t, k * 0.3, (k + 1) * 0.3, 1.0) for k, t in enumerate(long.split())]
    assert sentence_count(long) == 6
    assert passage_weights([Utterance("A", 0.0, words[-1].end, words)]) == [MAX_SENTENCES_PER_PASSAGE]


def test_a_sentence_split_over_two_utterances_is_one_passage_shared_by_words():
    head = [Word(t, k * 0.3, (k + 1) * 0.3, 1.0) for k, t in enumerate("The app is not".split())]
    tail = [Word(t, 2.0 + k * 0.3, 2.0 + (k + 1) * 0.3, 1.0) for k, t in enumerate("working at all.".split())]
    weights = passage_weights([Utterance("A", 0.0, 1.2, head), Utterance("A", 2.0, 2.9, tail)])
    assert weights == pytest.approx([4 / 7, 3 / 7])
