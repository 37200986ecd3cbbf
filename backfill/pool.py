"""Hand recordings to a pool of Ray actors and report each outcome to the driver.

Each actor holds one recording at a time. An actor that dies (killed, out of memory, its node
lost) is restarted by Ray (``max_restarts=-1``: it loads its models again); the recording it
held goes back to the front of the queue for any actor, up to ``max_attempts`` times in all, then
it is reported failed with that reason. Ray itself never re-runs a task (``max_task_retries=0``),
so the pool alone decides what runs again, and counts it. A recording that fails inside the
analysis (corrupt audio, …) is reported at once and not retried: it would fail the same way.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Task:
    """One recording for the pool: ``path`` and ``call_json`` go to the actor; ``ref`` is the
    caller's own handle, given back with the outcome."""

    path: str
    call_json: str | None
    ref: Any
    attempts: int = 0


@dataclass
class Outcome:
    """What became of one task.

    Attributes:
        task: the task (``attempts``: how many times an actor took it).
        result_json: the :class:`~callscope.analysis.schema.CallAnalysis` as JSON when it was analysed.
        error: why not, otherwise.
    """

    task: Task
    result_json: str | None = None
    error: str | None = None


@dataclass
class PoolStats:
    """Counts over one run: actors started, actor deaths seen, recordings given out again."""

    actors: list[dict] = field(default_factory=list)
    actor_deaths: int = 0
    retried: int = 0


def is_actor_death(exc: BaseException) -> bool:
    import ray.exceptions as rex

    return isinstance(exc, (rex.RayActorError, rex.ActorUnavailableError, rex.WorkerCrashedError,
                            rex.ObjectLostError, rex.OwnerDiedError))


class ActorPool:
    """``n_actors`` actors of ``actor_class`` (a class made remote with ``options``), each built with ``args``.

    Args:
        actor_options: Ray actor options (``num_cpus``, ``num_gpus``).
        max_attempts: times a recording may be handed out when the actor holding it dies.
        stall_s: seconds without any actor answering, recordings waiting, before they are failed.
    """

    def __init__(self, actor_class: type, args: tuple, n_actors: int, actor_options: dict,
                 max_attempts: int = 3, stall_s: float = 900.0) -> None:
        import ray

        self._remote: Any = ray.remote(actor_class).options(max_restarts=-1, max_task_retries=0, **actor_options)
        self._args = args
        self.n_actors = n_actors
        self.max_attempts = max_attempts
        self.stall_s = stall_s
        self.actors: list = []
        self.stats = PoolStats()

    def start(self) -> None:
        """Create the actors and wait until each has loaded its models."""
        import ray

        if self.actors:
            return
        self.actors = [self._remote.remote(*self._args) for _ in range(self.n_actors)]
        self.stats.actors = ray.get([a.where.remote() for a in self.actors])

    def run(self, tasks: Iterator[Task], on_outcome: Callable[[Outcome], None],
            on_idle: Callable[[], None] | None = None) -> None:
        """Run every task from ``tasks`` (taken lazily, as actors free up); ``on_outcome`` is
        called in this thread for each, once. ``on_idle`` is called about once a second.

        An actor that died gets no new recording until it answers again (Ray restarted it), so a
        node that is gone for good only costs its actors. When no actor has answered for
        ``stall_s`` seconds while recordings wait, those are reported failed (the cluster has no
        room to restart an actor) instead of waiting for ever."""
        import ray

        queue: deque[Task] = deque()
        source = iter(tasks)
        exhausted = False
        inflight: dict[Any, tuple[int, Task]] = {}
        probing: dict[Any, int] = {}  # a dead actor's slot, waiting for it to answer again
        reprobe: list[tuple[float, int]] = []  # (when, slot): ask a restarting actor again then
        idle: deque[int] = deque()
        last_answer = time.monotonic()

        def next_task() -> Task | None:
            nonlocal exhausted
            if queue:
                return queue.popleft()
            if exhausted:
                return None
            task = next(source, None)
            exhausted = task is None
            return task

        while True:
            while idle or (not self.actors and not exhausted):
                task = next_task()
                if task is None:
                    break
                if not self.actors:  # the first real work starts the actors (a run of skips never does)
                    self.start()
                    idle.extend(range(len(self.actors)))
                    last_answer = time.monotonic()
                slot = idle.popleft()
                task.attempts += 1
                inflight[self.actors[slot].analyze.remote(task.path, task.call_json)] = (slot, task)
            if not inflight:
                if not queue and not exhausted:  # every actor is restarting: is anything left at all?
                    task = next_task()
                    if task is not None:
                        queue.appendleft(task)
                if exhausted and not queue:
                    return  # done; actors still restarting (a lost node's) are not waited for
                if not probing and not reprobe:
                    continue
            if not inflight and time.monotonic() - last_answer > self.stall_s:
                waiting = list(queue)
                queue.clear()
                for task in [*waiting, *iter(next_task, None)]:
                    on_outcome(Outcome(task, error=f"no actor could be restarted within {self.stall_s:.0f} s (the "
                                                   "cluster has no free CPU or GPU for it); not analysed"))
                return
            for due, slot in [r for r in reprobe if r[0] <= time.monotonic()]:
                reprobe.remove((due, slot))
                probing[self.actors[slot].where.remote()] = slot
            waiting_on = [*inflight, *probing]
            if not waiting_on:  # only re-asks to come: wait for the first to be due
                time.sleep(0.2)
                continue
            ready, _ = ray.wait(waiting_on, num_returns=1, timeout=1.0)
            if on_idle is not None:
                on_idle()
            for ref in ready:
                if ref in probing:
                    slot = probing.pop(ref)
                    try:
                        ray.get(ref)
                    except Exception:  # noqa: BLE001 - still restarting (or gone): ask again in a second
                        reprobe.append((time.monotonic() + 1.0, slot))
                    else:
                        idle.append(slot)
                        last_answer = time.monotonic()
                    continue
                slot, task = inflight.pop(ref)
                try:
                    kind, body = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - sorted below: a dead actor, or a bug
                    if not is_actor_death(exc):
                        idle.append(slot)
                        on_outcome(Outcome(task, error=f"{type(exc).__name__}: {exc}"))
                        continue
                    self.stats.actor_deaths += 1
                    probing[self.actors[slot].where.remote()] = slot  # new work once Ray has restarted it
                    if task.attempts < self.max_attempts:
                        self.stats.retried += 1
                        queue.appendleft(task)  # any actor takes the recording
                    else:
                        on_outcome(Outcome(task, error=f"the worker analysing it died {task.attempts} times "
                                                       f"(last: {type(exc).__name__}); not retried"))
                    continue
                idle.append(slot)
                last_answer = time.monotonic()
                if kind == "done":
                    on_outcome(Outcome(task, result_json=body))
                else:
                    on_outcome(Outcome(task, error=body))
