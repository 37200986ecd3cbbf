"""``callscope worker -n N``: a supervised pool of worker processes.

The parent starts N worker processes and watches them. One that dies (killed with -9, out of
memory, a crash) is replaced, so the pool never shrinks silently; its job is taken over when
its lease runs out, as always. A worker that keeps dying right after its start is restarted
after a back-off that doubles up to a minute, so a broken deployment does not spin. SIGTERM or
SIGINT to the parent stops every worker (SIGTERM, then SIGKILL after ``grace_s``) before it
exits, and every worker dies with its parent even when the parent is killed with -9
(``PR_SET_PDEATHSIG``), so no worker is left behind as an orphan taking jobs.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

QUICK_DEATH_S = 30.0  # a worker that dies sooner than this after its start counts towards the back-off
MAX_BACKOFF_S = 60.0


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _run(target: Callable[[int], None], index: int) -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops the pool
    target(index)


@dataclass
class _Slot:
    index: int
    process: mp.process.BaseProcess | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float = 0.0
    restarts: int = field(default=0)


class WorkerPool:
    """N processes running ``target(index)``, replaced when they die, stopped together."""

    def __init__(self, target: Callable[[int], None], n: int, say: Callable[[str], None] = print,
                 grace_s: float = 10.0, poll_s: float = 0.5) -> None:
        self.target, self.n, self.say = target, n, say
        self.grace_s, self.poll_s = grace_s, poll_s
        self.ctx = mp.get_context("spawn")
        self.slots = [_Slot(i) for i in range(n)]
        self.stopping = threading.Event()

    def _start(self, slot: _Slot) -> None:
        slot.process = self.ctx.Process(target=_run, args=(self.target, slot.index), daemon=False,
                                        name=f"callscope-worker-{slot.index}")
        slot.process.start()
        slot.started_at = time.monotonic()

    def _check(self, slot: _Slot) -> None:
        now = time.monotonic()
        p = slot.process
        if p is not None and p.is_alive():
            return
        if p is not None:  # it died: note it and schedule its replacement
            code = p.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            slot.quick_deaths = slot.quick_deaths + 1 if now - slot.started_at < QUICK_DEATH_S else 0
            wait = min(MAX_BACKOFF_S, 2.0 ** slot.quick_deaths) if slot.quick_deaths else 0.0
            slot.restart_at, slot.process = now + wait, None
            slot.restarts += 1
            self.say(f"worker {slot.index} (pid {p.pid}) died ({how}); a new one starts"
                     + (f" in {wait:.0f} s" if wait else "") + "; its job is taken over when its lease runs out")
        if now >= slot.restart_at:
            self._start(slot)

    def stop(self, *_args) -> None:
        """Stop the pool (also the SIGTERM/SIGINT handler)."""
        self.stopping.set()

    def run(self) -> int:
        """Start the workers and keep them running until :meth:`stop`; then stop them all.
        Returns how many workers were replaced."""
        for slot in self.slots:
            self._start(slot)
        while not self.stopping.wait(self.poll_s):
            for slot in self.slots:
                self._check(slot)
        self._stop_all()
        return sum(s.restarts for s in self.slots)

    def _stop_all(self) -> None:
        alive = [s.process for s in self.slots if s.process is not None and s.process.is_alive()]
        for p in alive:
            p.terminate()
        deadline = time.monotonic() + self.grace_s
        for p in alive:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in alive:
            if p.is_alive():
                p.kill()
                p.join(5)

    def pids(self) -> list[int]:
        """The live workers' process ids."""
        return [s.process.pid for s in self.slots if s.process is not None and s.process.pid is not None and s.process.is_alive()]


def run_pool(target: Callable[[int], None], n: int, say: Callable[[str], None] = print) -> int:
    """Run a :class:`WorkerPool` in this (main) thread until SIGTERM or SIGINT; how many workers
    were replaced."""
    pool = WorkerPool(target, n, say)
    signal.signal(signal.SIGTERM, pool.stop)
    signal.signal(signal.SIGINT, pool.stop)
    replaced = pool.run()
    say(f"stopped {n} workers ({replaced} replaced while running)")
    return replaced
