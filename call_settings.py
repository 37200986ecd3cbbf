"""What one call's upload (or CLI run) may set for its own analysis.

One :class:`CallSettings` travels with a call from the upload form (stored with the call) or
the CLI to the worker and into every stage (:meth:`callscope.pipeline.AnalysisSettings.for_call`);
a field left unset takes the deployment's value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["agent", "customer"]


class CallSettings(BaseModel):
    """Per-call analysis settings.

    Attributes:
        channel_map: role of channel 0, 1, … in a dual-channel call (e.g. ``customer,agent``
            when the caller is on the left channel); unset: the deployment's map.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel_map: tuple[Role, ...] | None = Field(None, min_length=1, max_length=8)

    @field_validator("channel_map", mode="before")
    @classmethod
    def _split(cls, v):
        if isinstance(v, str):
            from callscope.scoring.roles import parse_channel_map

            return parse_channel_map(v)
        return v
