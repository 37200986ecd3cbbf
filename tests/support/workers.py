"""Finding a worker pool's processes (the pool and durability tests share it)."""

from __future__ import annotations

import psutil


def pool_workers(parent: int) -> list[psutil.Process]:
    """The worker processes of the pool whose parent is ``parent`` (not multiprocessing's
    resource tracker)."""
    found = []
    for child in psutil.Process(parent).children():
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in line and "resource_tracker" not in line:
            found.append(child)
    return found
