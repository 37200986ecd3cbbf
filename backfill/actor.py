"""The Ray actor that analyses recordings: one :class:`~callscope.analysis.pipeline.Analyzer` (models loaded
once) per actor, one recording at a time.

Every node of the cluster needs callscope installed (the same version) and must see the
recordings under the same paths (a shared file system). A recording's failure comes back as a
value (``("input_error" | "error", reason)``), never as an exception, so the driver can tell a
bad file (reported at once) from a dead actor (the recording is given to another actor).
"""

from __future__ import annotations

import os
import socket


class CallAnalyzer:
    """Analyses recordings with ``settings`` (an :class:`~callscope.analysis.pipeline.AnalysisSettings`)."""

    def __init__(self, settings) -> None:
        import logging
        import warnings

        warnings.filterwarnings("ignore")
        logging.getLogger("faster_whisper").setLevel(logging.ERROR)
        from callscope.analysis.pipeline import Analyzer

        self.analyzer = Analyzer(settings)

    def where(self) -> dict:
        """Where this actor runs: host, process id, Ray node id, ASR device and compute type."""
        import ray

        asr = self.analyzer.engine
        return {"host": socket.gethostname(), "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(),
                "device": getattr(asr, "device", "cpu"), "compute_type": getattr(asr, "compute_type", "")}

    def analyze(self, path: str, call_json: str | None) -> tuple[str, str]:
        """Analyse the recording at ``path`` with the per-call settings ``call_json`` (a
        :class:`~callscope.analysis.call_settings.CallSettings` as JSON, or None).

        Returns:
            ``("done", CallAnalysis JSON)``, ``("input_error", reason)`` for a recording that
            cannot be analysed (corrupt, silent, too long, …), or ``("error", reason)``.
        """
        from callscope.analysis.call_settings import CallSettings
        from callscope.errors import AudioInputError

        call = CallSettings.model_validate_json(call_json) if call_json else None
        try:
            result = self.analyzer.analyze(path, call=call)
        except AudioInputError as exc:
            return "input_error", exc.reason
        except MemoryError:
            return "error", "out of memory"
        except Exception as exc:  # noqa: BLE001 - one bad recording must not end the actor
            return "error", f"{type(exc).__name__}: {exc}"
        return "done", result.model_dump_json()
