"""What one call's upload (or CLI run) may set for its own analysis.

One :class:`CallSettings` travels with a call from the upload form (stored with the call) or
the CLI to the worker and into every stage (:meth:`callscope.analysis.pipeline.AnalysisSettings.for_call`);
a field left unset takes the deployment's value.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from callscope.transcription.language import SUPPORTED_LANGUAGES

Role = Literal["agent", "customer"]
Direction = Literal["inbound", "outbound"]
#: A supported language (ISO 639-1).
Language = Literal[SUPPORTED_LANGUAGES]  # type: ignore[valid-type]  # the tuple of codes, one place


def _split(value: object) -> object:
    """``"customer,agent"`` (a form field, a CLI option, a manifest column) → ("customer", "agent")."""
    if isinstance(value, str):
        from callscope.scoring.roles import parse_channel_map

        if len(value) > 100:
            raise ValueError(f"a channel map of {len(value)} characters: at most 100 (8 channels)")

        return parse_channel_map(value)
    return value


#: The roles of channel 0, 1, … of a multi-channel call; written as ``customer,agent`` in a form, an
#: option or a manifest (that is what the OpenAPI document says), kept as a tuple.
ChannelMap = Annotated[
    tuple[Role, ...], BeforeValidator(_split), Field(min_length=1, max_length=8),
    WithJsonSchema({"type": "string", "pattern": r"^(agent|customer)(,(agent|customer)){0,7}$", "maxLength": 100}),
]


class CallSettings(BaseModel):
    """Per-call analysis settings: each per-call field is declared here and only here (an upload's
    form, a backfill manifest and ``callscope analyze`` all read these).

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

    channel_map: ChannelMap | None = Field(None, description="roles of channel 0, 1, … (at most 8) in a multi-channel "
                                                             "call, e.g. customer,agent")
    direction: Direction | None = Field(
        None, description="inbound (the customer called) or outbound (the agent called; the customer answers first); "
                          "unset: inferred from the words")
    lone_speaker_role: Role | None = Field(
        None, description="role of the only speaker of a one-speaker recording (voicemail, IVR message)")
    language: Language | None = Field(None, description="the language spoken (en, sv, da, no, fi, de, fr, es, pl); "
                                                        "unset: the deployment's, else detected")
