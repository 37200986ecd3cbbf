"""Joining a Ray cluster and sizing an actor pool on it (shared by ``callscope backfill`` and
``callscope worker --ray``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any


def connect(address: str, cpus: float | None = None) -> None:
    """Join the Ray cluster at ``address`` (``auto``: the one this machine belongs to), or start
    one in this process (``local``) with ``cpus`` CPUs (default: this machine's)."""
    import ray

    common: dict[str, Any] = dict(logging_level=logging.WARNING, log_to_driver=False, configure_logging=True)
    if address == "local":
        ray.init(num_cpus=max(1, int(round(cpus))) if cpus else os.cpu_count() or 1, include_dashboard=False, **common)
    else:
        ray.init(address=address, **common)


def for_actor(analysis, device: str, cpus_per_actor: float):
    """``analysis`` (an :class:`~callscope.analysis.pipeline.AnalysisSettings`) for one actor: ASR on
    ``device`` with as many threads as the CPUs Ray gives the actor."""
    from dataclasses import replace

    return replace(analysis, asr=replace(analysis.asr, device=device, threads=max(1, int(cpus_per_actor))))


def actor_plan(actors: int, cpus_per_actor: float, gpus_per_actor: float,
               note: Callable[[str], None] = print) -> tuple[int, dict, str]:
    """How many actors, their Ray options, and the ASR device: a share of a GPU per actor when
    asked for and the cluster has GPUs (Whisper runs float16 there), else CPU (int8). ``actors``
    0: as many as the cluster's CPUs (or GPUs) allow."""
    import ray

    resources = ray.cluster_resources()
    gpus = resources.get("GPU", 0.0)
    options: dict = {"num_cpus": cpus_per_actor}
    device = "cpu"
    if gpus_per_actor > 0:
        if gpus > 0:
            options["num_gpus"] = gpus_per_actor
            device = "cuda"
        else:
            note("--gpus-per-actor was given but the cluster has no GPU; the actors run on CPUs (int8)")
    if not actors:
        by_cpu = int(resources.get("CPU", 1.0) // cpus_per_actor) if cpus_per_actor > 0 else 1
        by_gpu = int(gpus // gpus_per_actor) if device == "cuda" else by_cpu
        actors = max(1, min(by_cpu, by_gpu))
    return actors, options, device
