"""Errors that callscope reports to people: each names the file (or package) and the reason.

Every layer raises these; the CLI prints ``str(error)`` as a one-line message and the
API turns them into 4xx JSON bodies. They live at the package root so that the lowest
layer (``audio``) can raise them without importing a higher one.
"""

from __future__ import annotations


class CallscopeError(Exception):
    """Base class for errors whose message is fit to show a user as is."""


class AudioInputError(CallscopeError):
    """A recording could not be used: missing, empty, not audio, corrupt or too long.

    Attributes:
        path: the file as the user named it.
        reason: one short sentence, without the file name.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class AudioTooLongError(AudioInputError):
    """The recording is longer than the configured limit (seconds)."""


class MissingWeightsError(CallscopeError):
    """Model weights are not installed; the message names the package that carries them."""
