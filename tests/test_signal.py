"""The signal QA acts on (issue 9): calibrated sentiment, courtesy formulas, levels, telephone VAD.

Everything runs the shipped model on real text: the hand-made reference transcript of the real
Callytics Call01, and human-rated sentences the model never trained on.
"""

from __future__ import annotations


import numpy as np
import pytest

from benchmarks.reference import DATA, tsv_turns
from callscope.scoring.escalation import EscalationBands
from callscope.scoring.courtesy import split_courtesy
from callscope.scoring.scorer import CallScorer
from callscope.scoring.sentiment import SentimentModel
from callscope.scoring.train_sentiment import fit_calibrated, load_domains
from callscope.transcription.types import Utterance, Word
from tests.support.reference_scoring import reference_call, score_reference


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel()


@pytest.fixture(scope="module")
def scorer(model) -> CallScorer:
    return CallScorer(sentiment=model)


def test_scores_spread_like_human_ratings_on_held_out_sentences(model):
    """On the test fold the training script held out, clearly positive sentences (mean human
    rating ≥ +2 of 4) land in the green band and clearly negative ones (≤ -2) below yellow: the
    old ridge head shrank them towards 0, so neither band was reachable. Since the neutral gate
    (issue 30) indirect criticism without a feeling word ("buyer beware.", "each of the 4 lasted
    less than six months.") is shrunk too: 82 % and 85 % before the gate, 79 % and 75 % with it
    (benchmarks/neutral.py weighs that against everyday talk called neutral twice as often)."""
    domains = load_domains(DATA / "text")
    texts = [t for d in domains.values() for t in d[0]]
    ratings = np.concatenate([d[1] for d in domains.values()])
    order = np.random.default_rng(0).permutation(len(ratings))
    test = order[int(0.9 * len(order)):]  # the split of train_sentiment.fit_calibrated (80/10/10, seed 0)
    bands = EscalationBands()
    pos = [i for i in test if ratings[i] >= 2.0][:150]
    neg = [i for i in test if ratings[i] <= -2.0][:150]
    pos_scores = np.array([s.score for s in model.score([texts[i] for i in pos])])
    neg_scores = np.array([s.score for s in model.score([texts[i] for i in neg])])
    assert np.mean(pos_scores > bands.green) >= 0.72
    assert np.mean(neg_scores < bands.yellow) >= 0.70
    # the spread matches the ratings: slope of score on rating/4 near 1 (the issue asks 0.85..1.15)
    sample = test[:600]
    scores = np.array([s.score for s in model.score([texts[i] for i in sample])])
    slope = np.polyfit(ratings[sample] / 4.0, scores, 1)[0]
    assert 0.8 <= slope <= 1.2


def test_calibration_fold_is_not_the_test_fold():
    """The split the test above relies on: train, calibration and test folds are disjoint."""
    x = np.random.default_rng(1).normal(size=(200, 4)).astype(np.float32)
    ratings = x[:, 0] * 2
    heads, test = fit_calibrated(x, ratings)
    order = np.random.default_rng(0).permutation(200)
    assert sorted(test) == sorted(order[180:])
    assert heads.cal_slope > 0


def test_positive_closing_is_green_and_agent_apology_is_empathy_not_dissatisfaction(scorer):
    """Call01's reference transcript: the customer ends "That's great news. Thanks for fixing it
    so quickly!" (green); the agent's "I'm sorry for the inconvenience" is empathy."""
    utterances, roles = reference_call()
    result = score_reference(scorer, utterances, roles, duration=72.0)
    texts = [u.text for u in utterances]
    closing = next(i for i, t in enumerate(texts) if t.startswith("That’s great news"))
    apology = next(i for i, t in enumerate(texts) if t.startswith("I’m sorry for the inconvenience"))
    assert result.utterances[closing].sentiment.score > EscalationBands().green
    assert result.utterances[apology].emotion.label == "empathetic"
    agent = next(s for s in result.speakers if s.role == "agent")
    assert agent.empathy_statements >= 1
    assert agent.emotion_shares["dissatisfied"] == 0 and agent.emotion_shares["frustrated"] == 0
    assert result.call.escalation.value == "green"
    assert result.call.versions["courtesy"].startswith("courtesy/")


def test_clear_complaints_are_orange_or_red(scorer):
    """A customer who only complains (real Amazon snippets rated ≤ -2.5 of 4 by ≥ 20 people),
    answered by the real Call01 agent lines: the call is orange or red, and the reasons say why."""
    texts, ratings = load_domains(DATA / "text", ("amazon",))["amazon"]
    complaints = [t for t, r in zip(texts, ratings) if r <= -2.5][:4]
    agent_lines = [u for u in reference_call()[0] if u.speaker == "CSR"][:4]
    utterances, t = [], 0.0
    for agent, complaint in zip(agent_lines, complaints):
        for speaker, words in (("CSR", [w.word for w in agent.words]), ("Customer", complaint.split())):
            utterances.append(Utterance(speaker, t, t + 0.3 * len(words),
                                        [Word(w, t + 0.3 * k, t + 0.3 * (k + 1), 1.0) for k, w in enumerate(words)]))
            t += 0.3 * len(words) + 0.5
    result = score_reference(scorer, utterances, {"CSR": "agent", "Customer": "customer"}, duration=t)
    assert result.call.escalation.value in ("orange", "red")
    assert "customer" in result.call.reasons[0]


@pytest.mark.parametrize("text, remainder", [
    ("I’m sorry for the inconvenience. Let me take a look.", "Let me take a look."),
    ("I understand your frustration, let me fix that.", "let me fix that."),
    ("We apologize for any inconvenience this may have caused", ""),
    ("Det er jeg ked af at høre. Jeg tjekker det.", "Jeg tjekker det."),
    ("Es tut mir leid, das ist ärgerlich.", "das ist ärgerlich."),
    ("Olen pahoillani.", ""),
    ("Przepraszam za utrudnienia, sprawdzę to.", "sprawdzę to."),
])
def test_courtesy_formulas_are_cut_out_in_every_supported_language(text, remainder):
    split = split_courtesy(text)
    assert split.has_formula and split.remainder == remainder


def test_complaints_and_bad_news_keep_their_words():
    """A complaint wrapped in "sorry" keeps the complaint; polite bad news is not a formula."""
    assert split_courtesy("I'm sorry, but this is the third time I call and nothing works!").remainder == \
        "but this is the third time I call and nothing works!"
    assert not split_courtesy("Unfortunately your card was declined.").has_formula
    assert not split_courtesy("I've been having trouble receiving notification emails.").has_formula


def test_telephone_vad_hears_the_agents_apology_on_call01(audio_dir):
    """Call01 (WhatsApp, 8 kHz): the agent's "I'm sorry for the inconvenience" (20.6-22.5 s in
    the hand-timed reference) was missed by the 16 kHz mode (probability ≤ 0.41) and dropped
    before ASR; silero's 8 kHz mode hears it."""
    from callscope.audio.decode import decode_file
    from callscope.audio.vad import SileroVad

    audio = decode_file(audio_dir / "callytics" / "Call01.wav")
    assert audio.source_sample_rate == 8000
    apology = next((s, e) for spk, s, e in tsv_turns(audio_dir / "callytics" / "Call01.turns.tsv") if spk == "CSR" and s > 20)
    vad = SileroVad()

    def heard(narrowband: bool) -> float:
        """Seconds of the apology's first 1.9 s inside a speech region."""
        a, b = apology[0], apology[0] + 1.9
        return sum(max(0.0, min(b, r.end) - max(a, r.start)) for r in vad.regions(audio.mono(), narrowband))

    assert heard(narrowband=True) >= 1.0
    assert heard(narrowband=True) > heard(narrowband=False) + 0.5


def test_mono_telephone_diarisation_keeps_the_16k_boundaries_and_adds_what_8k_heard(audio_dir):
    """The regions mono diarisation gets for telephone audio: every 16 kHz-mode region as it
    was, plus the 8 kHz-only speech (Call01's apology) as regions of their own."""
    from callscope.audio.decode import decode_file
    from callscope.audio.vad import SileroVad, add_regions

    x = decode_file(audio_dir / "callytics" / "Call01.wav").mono()
    vad = SileroVad()
    wide, narrow = vad.regions(x), vad.regions(x, narrowband=True)
    combined = add_regions(wide, narrow)
    assert set(wide) <= set(combined)
    extra = [r for r in combined if r not in wide]
    assert extra and all(r.duration >= 0.25 for r in extra)
    assert all(min(r.end, w.end) <= max(r.start, w.start) for r in extra for w in wide)  # no overlap
    assert any(r.start < 21.5 < r.end for r in extra)  # the apology, 20.6-22.5 s in the reference


def test_a_sentence_cut_in_two_is_scored_whole(scorer):
    """Call01's complaint cut mid-sentence, as a long pause or a backchannel would cut it:
    "Hi, Emily. I've been having" / "trouble receiving notification emails. …". Scored alone,
    the tail would be judged without its subject; both fragments carry the whole sentence's score."""
    utterances, roles = reference_call()
    complaint = next(i for i, u in enumerate(utterances) if u.text.startswith("Hi, Emily."))
    words = utterances[complaint].words
    cut = next(k for k, w in enumerate(words) if w.word == "having") + 1
    head = Utterance("Customer", words[0].start, words[cut - 1].end, words[:cut])
    tail = Utterance("Customer", words[cut].start + 4.0, words[-1].end + 4.0,
                     [Word(w.word, w.start + 4.0, w.end + 4.0, 1.0) for w in words[cut:]])  # after a 4 s pause
    split = utterances[:complaint] + [head, tail] + [
        Utterance(u.speaker, u.start + 4.0, u.end + 4.0, [Word(w.word, w.start + 4.0, w.end + 4.0, 1.0) for w in u.words])
        for u in utterances[complaint + 1:]]
    result = score_reference(scorer, split, roles, duration=76.0)
    whole = score_reference(scorer, utterances, roles, duration=72.0)
    h, t = result.utterances[complaint], result.utterances[complaint + 1]
    assert h.sentiment == t.sentiment == whole.utterances[complaint].sentiment
    assert t.sentiment.score < 0
    assert result.call.versions["sentences"].startswith("sentences/")
