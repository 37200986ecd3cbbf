"""What one call's upload (or CLI run) may set for its own analysis.

One :class:`CallSettings` travels with a call from the upload form (stored with the call) or
the CLI to the worker and into every stage (:meth:`callscope.analysis.pipeline.AnalysisSettings.for_call`);
a field left unset takes the deployment's value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callscope.transcription.language import SUPPORTED_LANGUAGES

Role = Literal["agent", "customer"]
Direction = Literal["inbound", "outbound"]
#: A supported language (ISO 639-1).
Language = Literal[SUPPORTED_LANGUAGES]  # type: ignore[valid-type]  # the tuple of codes, one place


class CallSettings(BaseModel):
    """Per-call analysis settings.

    Attributes:
        channel_map: role of channel 0, 1, … in a dual-channel call (e.g. ``customer,agent``
            when the caller is on the left channel); unset: the deployment's map.
        direction: ``inbound`` (the customer called) or ``outbound`` (the agent called: the
            customer answers first); unset: inferred from the words.
        lone_speaker_role: the role of the speaker of a one-speaker recording (a voicemail or IVR
            message: ``customer``); unset: the deployment's (``unknown`` by default).
        language: the language spoken (ISO 639-1); unset: the deployment's, else detected among
            the deployment's allowed languages.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel_map: tuple[Role, ...] | None = Field(None, min_length=1, max_length=8)
    direction: Direction | None = None
    lone_speaker_role: Role | None = None
    language: Language | None = None

    @field_validator("channel_map", mode="before")
    @classmethod
    def _split(cls, v):
        if isinstance(v, str):
            from callscope.scoring.roles import parse_channel_map

            return parse_channel_map(v)
        return v
