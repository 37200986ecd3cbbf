"""Who is the agent and who the customer, from the whole call.

Evidence (:mod:`callscope.scoring.role_cues`, phrases in every supported language): each
speaker's utterances, all of them, are matched against what agents say (greeting with the
company, offering help, asking for identification, disclaimers, working the case, introducing
an outbound call, making an offer) and what customers say (describing a problem, asking for
something, giving their own details, answering a call made to them: "what is this about?",
"not interested"). Two more cues need no phrase, so they hold in any language and on a poor
transcript: the speaker who **answers** the call with a bare greeting ("Hello?", "Allô ?",
"Halo?": the call's first utterance, at most :data:`BARE_ANSWER_WORDS` words, no agent cue) is
the one who was called, which on a contact-centre line is the customer (an agent answers with the
company's greeting); and the speaker who **gives personal data** (a phone number, an address,
an e-mail address, a card: the redaction's placeholders) is the customer. A speaker's score is
the number of agent cues minus customer cues, each cue counted at most :data:`CUE_CAP` times, so
one repeated phrase cannot decide a call.

Direction: an inbound call is answered by the agent, an outbound one by the customer. When the
call's metadata gives the direction (the upload's ``direction``, or the deployment's default for
its queue), the first speaker's role follows it (weight :data:`DIRECTION_WEIGHT`); otherwise the
first speaker gets a small prior towards agent (most contact-centre traffic is inbound), and the
direction is inferred from the roles the whole call gives: the agent spoke first, inbound; the
customer spoke first, outbound (when the roles' confidence reaches :data:`DIRECTION_CONFIDENCE`).

* Mono calls: of the two speakers who talk most, the one with the higher score is the agent.
* Dual-channel calls: the declared channel map decides, but the same evidence is weighed; when
  the words say the opposite with confidence ≥ :data:`NOTE_CONFIDENCE` (0.95) a ``role_note`` says so,
  and a deployment that opted in (``correct_channel_map``) takes the words' answer.
* One speaker only (voicemail, IVR message): the deployment's ``lone_speaker_role``, else unknown.

Utterances may be the transcription's or a stored result's: only their ``speaker`` and
``text`` are read.

Confidence: ``1 / (1 + exp(-CONFIDENCE_SLOPE * margin))``, the margin being the difference of
the two speakers' scores: 0.5 with no evidence either way. The slope was fitted by
``benchmarks/roles.py`` on windows of the labelled shared calls (see docs/accuracy-and-speed.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from callscope.scoring.messages import number, say
from callscope.scoring.role_cues import AGENT_CUES, CUSTOMER_CUES, CUSTOMER_DATA_KINDS, OUTBOUND_CUE, PITCH_CUE, Cue
from callscope.transcription.types import Utterance

CUE_CAP = 3
#: Weight of the first speaker's role when the call's direction is known (metadata or inferred).
DIRECTION_WEIGHT = 1.0
#: Weight towards agent for the first speaker when the direction is unknown.
FIRST_SPEAKER_PRIOR = 0.5
#: Logistic slope from margin to confidence (fitted by benchmarks/roles.py).
CONFIDENCE_SLOPE = 1.8
#: The words must be at least this sure (a margin of two cues) before they contradict a declared channel map.
NOTE_CONFIDENCE = 0.95
#: The call's first utterance, this short and with no agent cue, is a bare answer: its speaker was called.
BARE_ANSWER_WORDS = 3
#: The roles must be this sure before the direction is inferred from them.
DIRECTION_CONFIDENCE = 0.8
ROLE_RULES_VERSION = (f"roles/3 (cues en,sv,da,no,fi,de,fr,es,pl + who answers, who gives personal data; cap {CUE_CAP}; "
                      f"slope {CONFIDENCE_SLOPE})")
DEFAULT_CHANNEL_MAP = ("agent", "customer")


@dataclass(frozen=True)
class RoleAssignment:
    """Roles per speaker, with how they were found.

    Attributes:
        source: ``channel_map``, ``channel_map_corrected`` (the words overruled the map, by opt-in),
            ``text``, ``lone_speaker_setting`` or ``none``.
        confidence: 0.5 (a guess) .. 1; 1 for a declared channel map.
        direction: ``inbound``/``outbound``/None, and ``direction_source``: metadata, inferred, unknown.
        evidence: per speaker, indices of the utterances that carried role cues.
        note_facts: set when the words contradict the declared channel map: the note's kind
            (contradicted, overruled) and facts, said in any language by :func:`role_note`.
    """

    roles: dict[str, str]
    source: str
    confidence: float
    direction: str | None = None
    direction_source: str = "unknown"
    evidence: dict[str, list[int]] = field(default_factory=dict)
    note_facts: tuple[str, dict] | None = None

    @property
    def note(self) -> str | None:
        """The note on a contradicted or overruled channel map, in English (:func:`role_note`)."""
        return role_note(*self.note_facts) if self.note_facts else None


def parse_channel_map(text: str) -> tuple[str, ...]:
    """``"agent,customer"`` → ("agent", "customer"): the role of channel 0, 1, …"""
    roles = tuple(r.strip().lower() for r in text.split(",") if r.strip())
    if not roles or any(r not in ("agent", "customer") for r in roles):
        raise ValueError(f"channel map {text!r}: give one role per channel, e.g. 'agent,customer'")
    return roles


def _cues_of(u: Utterance, cues: tuple[Cue, ...]) -> list[str]:
    text = u.text
    return [c.name for c in cues if c.matches(text)]


_PLACEHOLDER = re.compile(r"\[(" + "|".join(CUSTOMER_DATA_KINDS) + r")(:[0-9a-f]+)?\]")
BARE_ANSWER = "answers the call with a bare greeting"
GIVES_DATA = "gives personal data"


def bare_answer(utterances: list[Utterance]) -> bool:
    """The call opens with a bare answer: its first utterance has at most
    :data:`BARE_ANSWER_WORDS` words and no agent cue, and someone else speaks after it."""
    if len(utterances) < 2 or len({u.speaker for u in utterances}) < 2:
        return False
    first = utterances[0]
    return 0 < len(first.words) <= BARE_ANSWER_WORDS and not _cues_of(first, AGENT_CUES + (OUTBOUND_CUE, PITCH_CUE))


@dataclass(frozen=True)
class SpeakerEvidence:
    """Role cues found in one speaker's utterances (cue name → utterances that matched)."""

    agent: dict[str, list[int]]
    customer: dict[str, list[int]]

    @property
    def score(self) -> float:
        """Agent cues minus customer cues, each counted at most :data:`CUE_CAP` times."""
        return float(sum(min(len(v), CUE_CAP) for v in self.agent.values())
                     - sum(min(len(v), CUE_CAP) for v in self.customer.values()))

    @property
    def utterances(self) -> list[int]:
        return sorted({i for v in (*self.agent.values(), *self.customer.values()) for i in v})


def speaker_evidence(utterances: list[Utterance], speaker: str) -> SpeakerEvidence:
    agent: dict[str, list[int]] = {}
    customer: dict[str, list[int]] = {}
    for i, u in enumerate(utterances):
        if u.speaker != speaker:
            continue
        for name in _cues_of(u, AGENT_CUES + (OUTBOUND_CUE, PITCH_CUE)):
            agent.setdefault(name, []).append(i)
        for name in _cues_of(u, CUSTOMER_CUES):
            customer.setdefault(name, []).append(i)
        if _PLACEHOLDER.search(u.text):
            customer.setdefault(GIVES_DATA, []).append(i)
    if utterances and utterances[0].speaker == speaker and bare_answer(utterances):
        customer.setdefault(BARE_ANSWER, []).append(0)
    return SpeakerEvidence(agent, customer)


def inferred_direction(utterances: list[Utterance], agent: str | None, confidence: float,
                       declared: str | None = None) -> tuple[str | None, str]:
    """(direction, source): the declared one (``metadata``); else from who spoke first, once the
    roles are known with confidence ≥ :data:`DIRECTION_CONFIDENCE` (``inferred``: the agent
    first, inbound; the customer first, outbound); else (None, ``unknown``)."""
    if declared:
        return declared, "metadata"
    if not utterances or agent is None or confidence < DIRECTION_CONFIDENCE:
        return None, "unknown"
    return ("inbound" if utterances[0].speaker == agent else "outbound"), "inferred"


def _confidence(margin: float) -> float:
    return round(1.0 / (1.0 + math.exp(-CONFIDENCE_SLOPE * abs(margin))), 3)


def decide(utterances: list[Utterance], pair: list[str], direction: str | None) -> tuple[str, str, float, dict[str, list[int]]]:
    """(agent, customer, confidence, evidence) for two speakers."""
    first = utterances[0].speaker if utterances else None
    score: dict[str, float] = {}
    evidence: dict[str, list[int]] = {}
    for s in pair:
        ev = speaker_evidence(utterances, s)
        prior = 0.0
        if s == first:
            prior = {"inbound": DIRECTION_WEIGHT, "outbound": -DIRECTION_WEIGHT}.get(direction or "", FIRST_SPEAKER_PRIOR)
        score[s] = ev.score + prior
        evidence[s] = ev.utterances
    agent = max(pair, key=lambda s: (score[s], s == first))
    customer = next(s for s in pair if s != agent)
    return agent, customer, _confidence(score[agent] - score[customer]), evidence


def roles_from_text(
    utterances: list[Utterance],
    talk_time: dict[str, float],
    direction: str | None = None,
    lone_speaker_role: str = "unknown",
) -> RoleAssignment:
    """Roles of a mono call from its words (see the module doc). ``direction``: from the call's
    metadata, or None to infer; ``lone_speaker_role``: the role of a recording's only speaker."""
    speakers = sorted(talk_time, key=lambda sp: talk_time[sp], reverse=True)
    if not speakers:
        return RoleAssignment({}, "none", 0.0)
    if len(speakers) == 1:
        direction, direction_source = inferred_direction(utterances, None, 0.0, direction)
        if lone_speaker_role in ("agent", "customer"):
            return RoleAssignment({speakers[0]: lone_speaker_role}, "lone_speaker_setting", 1.0,
                                  direction=direction, direction_source=direction_source)
        return RoleAssignment({speakers[0]: "unknown"}, "none", 0.0, direction=direction, direction_source=direction_source)
    agent, customer, confidence, evidence = decide(utterances, speakers[:2], direction)
    roles = {s: "unknown" for s in speakers}
    roles[agent], roles[customer] = "agent", "customer"
    direction, direction_source = inferred_direction(utterances, agent, confidence, direction)
    return RoleAssignment(roles, "text", confidence, direction=direction, direction_source=direction_source,
                          evidence=evidence)


def roles_from_channels(
    speakers: list[str],
    channel_of: dict[str, int],
    channel_map: tuple[str, ...],
    utterances: list[Utterance] | None = None,
    direction: str | None = None,
    correct: bool = False,
) -> RoleAssignment:
    """Roles from the declared channel map, checked against the words.

    If the words say the opposite with confidence ≥ :data:`NOTE_CONFIDENCE`, a note says so (a
    wrong map silently swaps agent and customer in every score); with ``correct`` (a deployment's
    opt-in) the words' roles are used instead and the note says the map was overruled.
    """
    declared = {s: (channel_map[channel_of[s]] if channel_of[s] < len(channel_map) else "unknown") for s in speakers}
    utterances = utterances or []
    mapped_agent = next((s for s, r in declared.items() if r == "agent"), None)
    voiced = sorted({u.speaker for u in utterances} & set(speakers))
    if len(voiced) != 2 or {declared.get(s) for s in voiced} != {"agent", "customer"}:
        return RoleAssignment(declared, "channel_map", 1.0, *inferred_direction(utterances, mapped_agent, 1.0, direction))
    agent, _customer, confidence, evidence = decide(utterances, voiced, direction)
    if declared[agent] == "agent" or confidence < NOTE_CONFIDENCE:
        return RoleAssignment(declared, "channel_map", 1.0, *inferred_direction(utterances, mapped_agent, 1.0, direction),
                              evidence)
    facts = {"map_channel": next(channel_of[s] for s in voiced if s != agent), "words_channel": channel_of[agent],
             "confidence": confidence}
    if correct:
        roles = {s: ("agent" if s == agent else "customer") if s in voiced else r for s, r in declared.items()}
        return RoleAssignment(roles, "channel_map_corrected", confidence,
                              *inferred_direction(utterances, agent, confidence, direction), evidence, ("overruled", facts))
    return RoleAssignment(declared, "channel_map", 1.0, *inferred_direction(utterances, mapped_agent, 1.0, direction),
                          evidence, ("contradicted", facts))


def role_note(kind: str, facts: dict, language: str = "en") -> str:
    """The note on a contradicted (``kind`` contradicted) or overruled channel map, in ``language``."""
    return say(f"role_note.{kind}", language, map_channel=facts["map_channel"], words_channel=facts["words_channel"],
               confidence=number(facts["confidence"], language, ".2f"))
