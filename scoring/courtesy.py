"""Formulaic apologies and empathy ("sorry for the inconvenience", "I understand your frustration").

A routine apology is a politeness act, not the speaker's sentiment: scored as text it reads as
negative ("sorry", "inconvenience", "frustration"), and on an agent it used to turn the agent's
curve "dissatisfied" exactly when the agent was doing the job well. The treatment:

* the formula is cut out of the text before sentiment scores it, for every speaker ("I'm sorry,
  but this is the third time I call" keeps its complaint, "sorry to hear that" scores neutral);
* an agent utterance that held a formula and is not negative once it is cut out is labelled
  ``empathetic`` (see :mod:`callscope.scoring.emotion`), and the agent's count of such
  utterances is reported: QA asks "did the agent acknowledge the problem", not "was the agent
  unhappy".

The phrase lists cover the supported languages (en, sv, da, no, fi, de, fr, es, pl) at once; the
phrases are specific enough not to collide across languages. They are deliberately narrow: bad
news said politely ("unfortunately your card was declined") is not a formula and keeps its score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COURTESY_VERSION = "courtesy/1"

#: "... for the inconvenience", "... about the wait": up to the next punctuation, at most 40 characters
_FOR_WHAT = r"\s+(?:for|about)\s+(?:the|any|this|that|all\s+the|your)\s+[\w' -]{0,40}?(?=[.,!?;]|$)"
_TAIL = f"(?:{_FOR_WHAT})?"
_PHRASES = [
    # English
    r"(?:i'?m|i am|we'?re|we are)\s+(?:so\s+|very\s+|really\s+|truly\s+|terribly\s+|extremely\s+)?sorry"
    r"(?:\s+to\s+hear\s+(?:that|this|about\s+\w+)|" + _FOR_WHAT + r")?",
    r"sorry\s+(?:for|about)\s+(?:the|any|this)\s+(?:inconvenience|trouble|wait|waiting|delay|confusion|hassle)",
    r"(?:please\s+accept\s+)?(?:my|our)\s+(?:sincere\s+|sincerest\s+|deepest\s+)?apolog(?:y|ies)" + _TAIL,
    r"(?:i|we)\s+(?:do\s+|sincerely\s+|really\s+|truly\s+)?apologi[sz]e" + _TAIL,
    r"(?:i|we)\s+(?:completely\s+|totally\s+|fully\s+|really\s+|can\s+)?understand\s+(?:your|the|how|why\s+you'?re)\s+"
    r"(?:frustrat\w*|concern\w*|annoy\w*|upset\w*|disappoint\w*|inconvenien\w*|that\s+(?:must\s+be|is)\s+\w+)",
    r"(?:i\s+can\s+(?:only\s+)?imagine\s+how\s+)?(?:frustrating|annoying|stressful)\s+that\s+must\s+(?:be|have\s+been)",
    r"that\s+must\s+(?:be|have\s+been)\s+(?:so\s+|very\s+|really\s+)?(?:frustrating|annoying|difficult|stressful|upsetting|inconvenient)",
    r"sorry", r"apologies",
    # Swedish
    r"(?:jag|vi)\s+ber\s+(?:så\s+mycket\s+)?om\s+ursäkt(?:\s+för\s+[\wåäö ]{0,30}?(?=[.,!?;]|$))?",
    r"(?:jag|vi)\s+beklagar(?:\s+(?:besväret|dröjsmålet|väntetiden|det))?", r"förlåt", r"ursäkta\s+(?:besväret|dröjsmålet|väntan)",
    r"tråkigt\s+att\s+höra(?:\s+det)?", r"jag\s+förstår\s+(?:din|er)\s+frustration",
    # Danish and Norwegian
    r"undskyld(?:\s+(?:ventetiden|ulejligheden|forsinkelsen))?", r"unnskyld(?:\s+(?:ventetiden|bryderiet|forsinkelsen))?",
    r"(?:jeg|vi)\s+beklager(?:\s+(?:ulejligheden|ventetiden|forsinkelsen|bryderiet|det))?",
    r"det\s+er\s+jeg\s+(?:virkelig\s+|veldig\s+|meget\s+)?(?:ked\s+af|lei\s+meg\s+for|lei\s+for)(?:\s+at\s+høre)?",
    r"jeg\s+forstår\s+(?:din|jeres|deres)\s+frustras?j?on",
    # Finnish
    r"(?:olen|olemme)\s+(?:todella\s+|kovasti\s+|hyvin\s+)?pahoillani?(?:mme)?", r"pahoittelen\w*(?:\s+\w+)?", r"pahoittelemme\w*(?:\s+\w+)?",
    r"anteeksi(?:\s+(?:viivästys|odotus|häiriö))?", r"ymmärrän\s+(?:turhautumisesi|harmisi|mielipahasi)",
    # German
    r"(?:das\s+|es\s+)?tut\s+(?:mir|uns)\s+(?:sehr\s+|wirklich\s+|aufrichtig\s+)?leid", r"entschuldigung(?:\s+für\s+[\wäöüß ]{0,30}?(?=[.,!?;]|$))?",
    r"(?:wir|ich)\s+(?:bitten|bitte|entschuldigen|entschuldige)\s+(?:uns\s+|mich\s+)?(?:um\s+entschuldigung|vielmals)",
    r"entschuldigen\s+sie(?:\s+bitte)?(?:\s+die\s+\w+)?", r"ich\s+verstehe\s+(?:ihren|deinen)\s+ärger|ich\s+verstehe\s+(?:ihre|deine)\s+frustration",
    # French
    r"(?:je\s+suis|nous\s+sommes)\s+(?:vraiment\s+|sincèrement\s+|profondément\s+)?désolée?s?", r"désolée?s?(?:\s+pour\s+(?:le|la|les|ce|cet|cette)\s+\w+)?",
    r"(?:toutes\s+)?(?:nos|mes)\s+excuses", r"(?:je\s+vous\s+prie|nous\s+vous\s+prions)\s+de\s+(?:nous\s+|m')?excuser",
    r"excusez(?:-moi|-nous)?\s+pour\s+(?:le|la|les|ce|cet|cette)\s+\w+", r"je\s+comprends\s+(?:votre|ta)\s+(?:frustration|mécontentement|agacement)",
    # Spanish
    r"lo\s+(?:siento|sentimos)(?:\s+mucho)?(?:\s+(?:por\s+)?las\s+molestias)?", r"(?:disculpe|perdone|disculpen|perdonen)(?:\s+las\s+molestias)?",
    r"(?:le\s+pido|le\s+pedimos|mis|nuestras)\s+disculpas(?:\s+por\s+[\wáéíóúñ ]{0,30}?(?=[.,!?;]|$))?",
    r"entiendo\s+su\s+(?:frustración|molestia|enfado)",
    # Polish
    r"przepraszam(?:y)?(?:\s+za\s+[\wąćęłńóśźż ]{0,30}?(?=[.,!?;]|$))?", r"przykro\s+(?:mi|nam)(?:\s+to\s+słyszeć)?",
    r"rozumiem\s+(?:pana|pani|państwa)\s+(?:frustrację|zdenerwowanie|irytację)",
]
_FORMULA = re.compile(r"(?<!\w)(?:" + "|".join(_PHRASES) + r")(?!\w)", re.IGNORECASE)
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class CourtesySplit:
    """``text`` with its formulas cut out (``remainder``) and whether there were any."""

    remainder: str
    has_formula: bool


def _normalise(text: str) -> str:
    return text.replace("’", "'").replace("‘", "'")


def split_courtesy(text: str) -> CourtesySplit:
    """Cut apology and empathy formulas out of ``text`` (see the module doc)."""
    normal = _normalise(text)
    if not _FORMULA.search(normal):
        return CourtesySplit(text, False)
    remainder = _FORMULA.sub(" ", normal)
    remainder = re.sub(r"\s+([.,!?;])", r"\1", re.sub(r"\s{2,}", " ", remainder)).strip(" ,;")
    remainder = re.sub(r"^[.,!?;\s]+", "", remainder)
    return CourtesySplit(remainder if _WORD.search(remainder) else "", True)
