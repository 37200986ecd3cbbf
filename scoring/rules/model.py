"""A rule set, as written in YAML: named categories, each a condition over one analysed call.

A condition is a mapping with exactly one key:

- ``all: [conditions]``, ``any: [conditions]``, ``not: condition`` (``not`` of a ``said`` by
  ``agent`` or ``customer`` does not hold in a call where nobody was taken for that role: an
  absence cannot be claimed of a speaker who is not known);
- ``said``: phrases (whole words, any case) or regular expressions (RE2, :mod:`.patterns`) said by ``agent``,
  ``customer`` or ``any`` speaker, optionally ``within`` the first or last N seconds or share
  of the call;
- ``sentiment``: a role's sentiment (-1..+1) ``mean``, ``start``, ``end``, ``min``, ``max``,
  ``trend`` (end minus start) or ``q1``..``q4`` (quarters of the call), against a range;
- ``emotion``: the share (0..1) of a role's speaking time with an emotion label;
- ``silence``: ``total_s``, ``share`` (0..1) or ``longest_s`` against a range;
- ``interruptions``: how many times ``by`` a role (or ``any``) cut in;
- ``talk_share``: a role's share (0..1) of all talk time;
- ``duration_s``: the call's length in seconds;
- ``metadata``: a call field (``queue``, ``team``, ``product``, ``agent_id``, ``direction``,
  ``language``) equal to one of ``in``.

Beside the categories a rule set may hold ``windows`` (alerts on aggregates, :class:`WindowAlert`),
``bands`` (escalation bands for the deployment, per queue or per product, :class:`BandsConfig`)
and ``reasons``: the deployment's taxonomy of contact reasons (:class:`Reason`), each a name, a
short description and a few example sentences in any supported language, optionally a condition
that decides it when it holds (:mod:`callscope.scoring.insight.reasons`).

A range is a mapping of ``lt``, ``lte``, ``gt``, ``gte`` (all given must hold).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callscope.scoring.rules.patterns import PatternError, compiled

Role = Literal["agent", "customer", "any"]
METADATA_FIELDS = ("queue", "team", "product", "agent_id", "direction", "language")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Range(_Strict):
    """Bounds a number must meet (all those given)."""

    lt: float | None = None
    lte: float | None = None
    gt: float | None = None
    gte: float | None = None

    @model_validator(mode="after")
    def _some(self) -> "Range":
        if all(v is None for v in (self.lt, self.lte, self.gt, self.gte)):
            raise ValueError("a range needs at least one of lt, lte, gt, gte")
        return self

    def holds(self, x: float | None) -> bool:
        if x is None:
            return False
        return ((self.lt is None or x < self.lt) and (self.lte is None or x <= self.lte)
                and (self.gt is None or x > self.gt) and (self.gte is None or x >= self.gte))


class Window(_Strict):
    """Part of the call: the first or last ``*_s`` seconds, or ``*_share`` (0..1) of it."""

    first_s: float | None = Field(None, gt=0)
    last_s: float | None = Field(None, gt=0)
    first_share: float | None = Field(None, gt=0, le=1)
    last_share: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _one(self) -> "Window":
        if sum(v is not None for v in (self.first_s, self.last_s, self.first_share, self.last_share)) != 1:
            raise ValueError("a window is one of first_s, last_s, first_share, last_share")
        return self

    def bounds(self, duration_s: float) -> tuple[float, float]:
        """The window as (start, end) seconds of a call ``duration_s`` long."""
        if self.first_s is not None:
            return 0.0, self.first_s
        if self.last_s is not None:
            return max(0.0, duration_s - self.last_s), duration_s
        if self.first_share is not None:
            return 0.0, duration_s * self.first_share
        return duration_s * (1 - (self.last_share or 0.0)), duration_s


class Said(_Strict):
    by: Role = "any"
    phrases: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    within: Window | None = None

    @model_validator(mode="after")
    def _something(self) -> "Said":
        if not self.phrases and not self.regex:
            raise ValueError("said needs phrases or regex")
        for r in self.regex:
            try:
                compiled(r)
            except PatternError as exc:
                raise ValueError(f"regex {r[:80]!r}: {exc}") from exc
        return self


class SentimentCondition(Range):
    role: Role = "customer"
    measure: Literal["mean", "start", "end", "min", "max", "trend", "q1", "q2", "q3", "q4"] = "mean"


class EmotionCondition(_Strict):
    role: Role = "customer"
    label: str
    share: Range


class SilenceCondition(_Strict):
    total_s: Range | None = None
    share: Range | None = None
    longest_s: Range | None = None

    @model_validator(mode="after")
    def _some(self) -> "SilenceCondition":
        if self.total_s is None and self.share is None and self.longest_s is None:
            raise ValueError("silence needs total_s, share or longest_s")
        return self


class InterruptionsCondition(_Strict):
    by: Role = "any"
    count: Range


class TalkShareCondition(Range):
    role: Role = "agent"


class MetadataCondition(_Strict):
    field: Literal["queue", "team", "product", "agent_id", "direction", "language"]
    in_: list[str] = Field(alias="in", min_length=1)


class Condition(_Strict):
    """Exactly one of the keys below."""

    all: list["Condition"] | None = None
    any: list["Condition"] | None = None
    not_: "Condition | None" = Field(None, alias="not")
    said: Said | None = None
    sentiment: SentimentCondition | None = None
    emotion: EmotionCondition | None = None
    silence: SilenceCondition | None = None
    interruptions: InterruptionsCondition | None = None
    talk_share: TalkShareCondition | None = None
    duration_s: Range | None = None
    metadata: MetadataCondition | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Condition":
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            names = [type(self).model_fields[k].alias or k for k in type(self).model_fields]
            raise ValueError(f"a condition has exactly one of {', '.join(names)}; got {given or 'none'}")
        if self.all is not None and not self.all or self.any is not None and not self.any:
            raise ValueError("all/any need at least one condition")
        return self


class Category(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    description: str = ""
    alert: bool = Field(False, description="a match raises an alert (webhooks subscribed to category alerts)")
    when: Condition


class ShareOf(_Strict):
    """What a window alert counts: calls at an escalation ``level`` (or worse, with ``or_worse``),
    or calls matching a ``category``."""

    level: Literal["yellow", "orange", "red"] | None = None
    or_worse: bool = True
    category: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "ShareOf":
        if (self.level is None) == (self.category is None):
            raise ValueError("share_of is a level or a category")
        return self


class WindowAlert(_Strict):
    """An alert on aggregates: the share of ``share_of`` calls among a group's calls (by
    ``group_by``) in the last ``window_minutes``, once there are ``min_calls``; it fires when the
    share is ``above`` a threshold, or above its own baseline by ``baseline_k`` standard
    deviations (the same hour of the week over the last ``baseline_weeks`` weeks). It fires once
    per window period and group, not on every call."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    group_by: Literal["queue", "team", "product", "agent_id", "channel"] = "queue"
    share_of: ShareOf
    window_minutes: int = Field(60, ge=5, le=1440)
    min_calls: int = Field(5, ge=1, le=100_000)
    above: float | None = Field(None, ge=0, le=1)
    baseline_k: float | None = Field(None, gt=0, le=10)
    baseline_weeks: int = Field(6, ge=2, le=12)

    @model_validator(mode="after")
    def _some(self) -> "WindowAlert":
        if self.above is None and self.baseline_k is None:
            raise ValueError("a window alert needs 'above' (a share) or 'baseline_k'")
        return self


class Bands(_Strict):
    """Escalation bands on the customer's sentiment (-1..+1): green above ``green``, yellow down to
    ``yellow``, orange down to ``orange``, red below."""

    green: float = Field(ge=-1, le=1)
    yellow: float = Field(ge=-1, le=1)
    orange: float = Field(ge=-1, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> "Bands":
        if not self.green > self.yellow > self.orange:
            raise ValueError("bands need green > yellow > orange")
        return self


class BandsConfig(_Strict):
    """The deployment's bands (``default``), and others per queue or product; a call takes its
    product's, else its queue's, else the default."""

    default: Bands | None = None
    queue: dict[str, Bands] = Field(default_factory=dict)
    product: dict[str, Bands] = Field(default_factory=dict)

    def for_call(self, queue: str | None, product: str | None) -> Bands | None:
        if product is not None and product in self.product:
            return self.product[product]
        if queue is not None and queue in self.queue:
            return self.queue[queue]
        return self.default


class Reason(_Strict):
    """A contact reason of the deployment's taxonomy: what a customer calls about.

    ``examples`` are sentences a customer says when calling for this reason, in any supported
    language (the encoder is multilingual: English examples find Swedish calls); the description
    counts as one more. ``when`` (optional) is a condition like a category's (phrases, regexes,
    metadata): when it holds, the reason is chosen over any reason found by similarity alone."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    description: str = Field("", max_length=500)
    examples: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(default_factory=list, max_length=50)
    when: Condition | None = None

    @model_validator(mode="after")
    def _described(self) -> "Reason":
        if not self.description.strip() and not self.examples:
            raise ValueError(f"reason {self.name!r} needs a description or examples")
        if self.name == "other":
            raise ValueError("'other' is what a call gets when no reason is close: it is not defined")
        return self


class RuleSet(_Strict):
    """A named, versioned set of categories, the window alerts that watch them, the escalation
    bands and the contact reasons."""

    name: str = "rules"
    description: str = ""
    categories: list[Category] = Field(min_length=1)
    windows: list[WindowAlert] = Field(default_factory=list)
    bands: BandsConfig | None = None
    reasons: list[Reason] = Field(default_factory=list, max_length=200)
    reason_min_similarity: float | None = Field(
        None, ge=0, le=1, description="a call whose problem statement is less similar than this (cosine, 0..1) to "
        "every reason is 'other'; unset: the shipped default (callscope.scoring.insight.reasons)")

    @field_validator("reasons")
    @classmethod
    def _unique_reasons(cls, v: list[Reason]) -> list[Reason]:
        names = [r.name for r in v]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"reasons named twice: {twice}")
        return v

    @field_validator("categories")
    @classmethod
    def _unique(cls, v: list[Category]) -> list[Category]:
        names = [c.name for c in v]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"categories named twice: {twice}")
        return v

    @model_validator(mode="after")
    def _known_categories(self) -> "RuleSet":
        names = {c.name for c in self.categories}
        for w in self.windows:
            if w.share_of.category is not None and w.share_of.category not in names:
                raise ValueError(f"window alert {w.name!r} counts category {w.share_of.category!r}, which is not defined")
        return self


Condition.model_rebuild()
