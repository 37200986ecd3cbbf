"""Who is the agent and who the customer.

* Dual-channel calls: a channel map set per deployment (default: channel 0 = agent,
  channel 1 = customer), confidence 1 as it is declared, not inferred.
* Mono calls: the agent greets, names the company or themselves and offers help, usually
  first. Each speaker's first utterances are scored on those phrases (+1 each) and on speaking
  first (+0.5); the best scorer is the agent, the other main speaker the customer.
  Confidence grows with the margin between the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callscope.transcription.types import Utterance

ROLE_RULES_VERSION = "roles/1"
DEFAULT_CHANNEL_MAP = ("agent", "customer")

_AGENT_PHRASES = [
    r"thank(s| you) for (calling|contacting|holding|waiting)",
    r"how (can|may|could) i (help|assist)",
    r"(can|may|could) i help you",
    r"what can i do for you",
    r"(welcome to|you'?ve reached|you have reached)",
    r"my name is \w+",
    r"this is \w+ (from|at|with|speaking)",
    r"\bspeaking\b",
    r"(customer|client) (service|support|care)",
    r"is there anything else",
    r"(can|could|may) i (have|get|take) your",
]
_AGENT_RE = [re.compile(p, re.IGNORECASE) for p in _AGENT_PHRASES]


@dataclass(frozen=True)
class RoleAssignment:
    roles: dict[str, str]
    source: str
    confidence: float
    note: str | None = None


def parse_channel_map(text: str) -> tuple[str, ...]:
    """``"agent,customer"`` → ("agent", "customer"): the role of channel 0, 1, …"""
    roles = tuple(r.strip().lower() for r in text.split(",") if r.strip())
    if not roles or any(r not in ("agent", "customer") for r in roles):
        raise ValueError(f"channel map {text!r}: give one role per channel, e.g. 'agent,customer'")
    return roles


def roles_from_channels(
    speakers: list[str], channel_of: dict[str, int], channel_map: tuple[str, ...], utterances: list[Utterance] | None = None
) -> RoleAssignment:
    """Roles from the declared channel map. If the words clearly say otherwise (the text rule
    is confident, ≥ 0.7, and disagrees), the map is kept but a note says so: a wrong map
    silently swaps agent and customer in every score."""
    roles = {s: (channel_map[channel_of[s]] if channel_of[s] < len(channel_map) else "unknown") for s in speakers}
    note = None
    if utterances:
        by_text = roles_from_text(utterances, {s: 1.0 for s in speakers})
        agent_by_text = next((s for s, r in by_text.roles.items() if r == "agent"), None)
        agent_by_map = next((s for s, r in roles.items() if r == "agent"), None)
        if by_text.confidence >= 0.7 and agent_by_text and agent_by_map and agent_by_text != agent_by_map:
            note = (f"channel map puts the agent on channel {channel_of[agent_by_map]}, but the words suggest channel "
                    f"{channel_of[agent_by_text]} (confidence {by_text.confidence:.1f}): check --channel-map")
    return RoleAssignment(roles, "channel_map", 1.0, note)


def agent_evidence(utterances: list[Utterance], speaker: str, first_n: int = 4) -> float:
    """Agent-phrase score of ``speaker``'s first ``first_n`` utterances."""
    own = [u for u in utterances if u.speaker == speaker][:first_n]
    text = " ".join(u.text for u in own)
    return float(sum(bool(r.search(text)) for r in _AGENT_RE))


def roles_from_text(utterances: list[Utterance], talk_time: dict[str, float]) -> RoleAssignment:
    speakers = sorted(talk_time, key=talk_time.get, reverse=True)
    if not speakers:
        return RoleAssignment({}, "none", 0.0)
    if len(speakers) == 1:
        return RoleAssignment({speakers[0]: "unknown"}, "none", 0.0)
    main = speakers[:2]
    first = utterances[0].speaker if utterances else None
    score = {s: agent_evidence(utterances, s) + (0.5 if s == first else 0.0) for s in main}
    agent = max(main, key=score.get)
    customer = next(s for s in main if s != agent)
    margin = score[agent] - score[customer]
    confidence = 0.5 if margin == 0 else min(1.0, 0.5 + 0.2 * margin)
    roles = {s: "unknown" for s in speakers}
    roles[agent], roles[customer] = "agent", "customer"
    return RoleAssignment(roles, "text", round(confidence, 3))
