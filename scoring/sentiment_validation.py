"""Where text sentiment has been tested, per language.

One multilingual model scores every language (:mod:`callscope.scoring.sentiment`), trained on
English only. It has been measured on human-labelled sentences in the languages below
(``benchmarks/languages.py``, polarity accuracy of the shipped head; the numbers are that
benchmark's, copied here with its date). For any other language the output says the sentiment
is unvalidated, and the reasons say to treat the level as indicative.
"""

from __future__ import annotations

from callscope.scoring.results import SentimentValidation

#: language → (polarity accuracy, labelled data), from benchmarks/results/languages.json (2026-11-25).
MEASURED: dict[str, tuple[float, str]] = {
    "en": (0.6948, "MELD dev, TV dialogue (positive vs negative), never trained on"),
    "da": (0.8608, "fnielsen/lcc-sentiment (CC BY) and europarl-da-sentiment"),
    "no": (0.76, "ltgoslo/norec_sentence"),
    "fi": (0.628, "Helsinki-NLP/XED (CC BY 4.0), polarity derived from emotion labels"),
}


def sentiment_validation(language: str | None) -> SentimentValidation:
    """The validation status of text sentiment for ``language`` (None: unknown language)."""
    found = MEASURED.get(language or "")
    if found is None:
        return SentimentValidation(language=language or "unknown", validated=False)
    return SentimentValidation(language=language, validated=True, accuracy=found[0], data=found[1])
