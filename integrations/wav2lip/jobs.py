"""Running an experiment's independent stages side by side: a small dependency-ordered process pool.

On a CPU, one torch thread per process and one process per core is usually the fastest way to use a small machine,
and most stages of the experiment (experts, judge, generator runs, scoring) only need some of the others. A
:class:`Job` names a module-level function, its keyword arguments and the jobs it waits for; :func:`run_jobs` starts
every job whose dependencies are done, at most ``workers`` at a time, and returns each job's result. With
``workers=1`` the jobs run one after the other in this process (no pool), which is also what a GPU run wants.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Job:
    """``fn(**kwargs)`` once every job named in ``after`` has finished."""

    name: str
    fn: Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    after: tuple[str, ...] = ()


def _single_threaded() -> None:
    import torch

    torch.set_num_threads(1)


def _timed(fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    return fn(**kwargs), time.perf_counter() - start


def _print(line: str) -> None:
    print(line, flush=True)


def run_jobs(jobs: list[Job], workers: int = 1, log: Callable[[str], None] = _print) -> dict[str, Any]:
    """Run ``jobs`` in dependency order, ``workers`` processes at a time; returns ``{name: result}``.

    A failing job stops the run: jobs already started finish, no new one starts, and its exception is raised.
    """
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"jobs: expected unique names, got {names}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: expected a positive integer, got {workers!r}")
    for job in jobs:
        unknown = [a for a in job.after if a not in names]
        if unknown:
            raise ValueError(f"job {job.name!r}: waits for unknown jobs {unknown}")
    results: dict[str, Any] = {}
    pending = list(jobs)

    def ready() -> list[Job]:
        return [j for j in pending if all(a in results for a in j.after)]

    if workers == 1:
        while pending:
            batch = ready()
            if not batch:
                raise ValueError(f"jobs: circular dependencies among {[j.name for j in pending]}")
            job = batch[0]
            pending.remove(job)
            log(f"[{job.name}] started")
            results[job.name], seconds = _timed(job.fn, job.kwargs)
            log(f"[{job.name}] done in {seconds / 60:.1f} min")
        return results

    context = multiprocessing.get_context("spawn")
    running: dict[Future, Job] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_single_threaded) as pool:
        while pending or running:
            for job in ready()[:max(0, workers - len(running))]:
                pending.remove(job)
                log(f"[{job.name}] started")
                running[pool.submit(_timed, job.fn, job.kwargs)] = job
            if not running:
                raise ValueError(f"jobs: circular dependencies among {[j.name for j in pending]}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                results[job.name], seconds = future.result()
                log(f"[{job.name}] done in {seconds / 60:.1f} min")
    return results
