"""Folders of real videos -> a clip store: multiprocess, resumable, every skipped video logged with its reason.

``STORE/preprocess_log.jsonl`` gets one line per finished video (done or skipped, with where its frames went); a
restarted run skips those and removes half-written clip folders left by a killed run.
``STORE/preprocess_summary.json`` counts what happened; ``STORE/preprocess_report.json`` has a row per video and per
clip and the speakers of every split (:mod:`.report`).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..progress import progress_bar

from ..data.clip_store import ClipStore
from ..validation import check_positive_int
from .decode import VideoDecodeError, probe_video
from .faces import FaceDetector
from .inputs import VideoJob, find_videos, read_manifest
from .pipeline import FrameReport, PreprocessConfig, SkipVideo, make_detector, make_parser, preprocess_video
from .report import REPORT_NAME, build_report

log = logging.getLogger(__name__)

LOG_NAME, SUMMARY_NAME = "preprocess_log.jsonl", "preprocess_summary.json"


@dataclass
class VideoResult:
    """What happened to one video (one line of the log)."""

    name: str
    path: str
    status: str                       # done | skipped
    speaker: str = ""
    split: str | None = None          # the job's split when known before processing (list files, manifests)
    kind: str = ""                    # skip category: decode error, no audio, silent audio, no face, several faces...
    reason: str = ""
    clips: list[str] = field(default_factory=list)
    source_seconds: float = 0.0
    seconds: float = 0.0
    frames: dict = field(default_factory=dict)  # FrameReport: frames decoded, with a face, kept, dropped by reason


_worker_state: dict = {}


def _init_worker(config: PreprocessConfig, store_root: str, detector_factory) -> None:
    _worker_state.update(config=config, store=ClipStore(store_root), detector=detector_factory(config),
                         parser=make_parser(config))


def _run_job(job: VideoJob) -> VideoResult:
    config, store = _worker_state["config"], _worker_state["store"]
    started = time.perf_counter()
    result = VideoResult(job.name, job.path, "done", speaker=job.speaker, split=job.split)
    try:
        result.source_seconds = round(probe_video(job.path).duration, 3)
    except (VideoDecodeError, FileNotFoundError):
        pass
    report = FrameReport()
    try:
        for clip in preprocess_video(job, config, _worker_state.get("detector"), _worker_state.get("parser"), report):
            store.write_clip(clip, overwrite=True)
            result.clips.append(clip.id)
    except SkipVideo as err:
        result.status, result.kind, result.reason = "skipped", err.kind, str(err)
    except Exception as err:  # one bad file must never stop the run: log it with its type
        result.status, result.kind, result.reason = "skipped", "error", f"{type(err).__name__}: {err}"
    if result.status == "skipped":
        report.frames = report.frames or int(round(result.source_seconds * 25))
        report.kept_frames, report.interpolated_frames = 0, 0
        report.dropped = {f"video skipped: {result.kind}": report.frames}
    result.frames = asdict(report)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _read_log(path: Path) -> dict[str, dict]:
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            done[record["name"]] = record
    return done


def preprocess(source: str | os.PathLike, out: str | os.PathLike, config: PreprocessConfig | None = None,
               workers: int = 1, detector_factory: Callable[[PreprocessConfig], FaceDetector] | None = None,
               progress: bool = True, manifest: str | os.PathLike | None = None) -> dict:
    """Preprocess every video of ``source`` (folder or list file) into the clip store ``out``; returns the summary.

    ``manifest``: a CSV with ``file`` and ``speaker`` columns (:func:`.inputs.read_manifest`): only its videos, found
    under the folder ``source``, with its speakers and a balanced speaker-disjoint split (``config.val_fraction``,
    ``config.test_fraction`` of the seconds, ``config.split_seed``). ``workers`` processes run videos in parallel
    (1: in this process). ``detector_factory(config)`` builds a custom detector in each worker (it must be
    picklable, e.g. a module-level function). Already logged videos are skipped.
    """
    config = (config or PreprocessConfig()).validate()
    check_positive_int(workers, "workers")
    if manifest is not None:
        if config.split is not None:
            raise ValueError(f"split: {config.split!r} cannot be forced on every clip when a manifest gives the "
                             "speakers' splits (put a 'split' column in the manifest instead)")
        jobs = read_manifest(manifest, source, config.val_fraction, config.test_fraction, config.split_seed)
    else:
        jobs = find_videos(source)
    store = ClipStore.create(out, info=config.store_info())
    removed = store.clean_partial()
    log_path = store.root / LOG_NAME
    previous = _read_log(log_path)
    todo = [j for j in jobs if j.name not in previous]
    if removed:
        log.warning("removed %d half-written clip folders from an interrupted run", removed)
    results: list[dict] = [previous[j.name] for j in jobs if j.name in previous]
    started = time.perf_counter()
    bar = progress_bar(total=len(todo), desc="preprocess", unit="video", disable=not progress)
    init_args = (config, str(store.root), detector_factory or make_detector)
    with log_path.open("a") as log_file:
        if workers == 1 or len(todo) <= 1:
            _init_worker(*init_args)
            outcomes = map(_run_job, todo)
            pool = None
        else:
            # forkserver: workers fork from a clean process that has imported this module once (no threads of
            # this process are inherited, unlike fork; no per-worker re-import of torch, unlike spawn)
            context = mp.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            pool = context.Pool(min(workers, len(todo)), _init_worker, init_args)
            outcomes = pool.imap_unordered(_run_job, todo)
        try:
            for outcome in outcomes:
                record = asdict(outcome)
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
                results.append(record)
                if outcome.status == "skipped":
                    log.warning("skipped %s: %s", outcome.path, outcome.reason)
                bar.update(1)
                bar.set_postfix(clips=sum(len(r["clips"]) for r in results))
            if pool is not None:
                pool.close()
        finally:
            bar.close()
            if pool is not None:
                pool.terminate()
                pool.join()
            if hasattr(_worker_state.get("detector"), "close"):
                _worker_state["detector"].close()
            _worker_state.clear()
    store.reindex()
    summary = summarize(results, time.perf_counter() - started, workers, resumed=len(jobs) - len(todo))
    (store.root / SUMMARY_NAME).write_text(json.dumps(summary, indent=1))
    report = build_report(store, results, rule=_split_rule(config, manifest))
    (store.root / REPORT_NAME).write_text(json.dumps(report, indent=1))
    return summary


def _split_rule(config: PreprocessConfig, manifest) -> str:
    """One line naming how clips were put into splits, for the report."""
    if config.split is not None:
        return f"every clip put in {config.split!r} (--split), unless its list line names a split"
    if manifest is not None:
        return (f"manifest {Path(manifest).name}: balanced by seconds per speaker, val {config.val_fraction:g}, "
                f"test {config.test_fraction:g}, seed {config.split_seed} (a manifest 'split' column overrides)")
    return (f"CRC-32 of the speaker id: val {config.val_fraction:g}, test {config.test_fraction:g} of the speakers "
            "(a list line's split overrides)")


def summarize(results: list[dict], wall_seconds: float, workers: int, resumed: int = 0) -> dict:
    """Counts of done/skipped videos, clips, skip reasons (first words grouped) and throughput of this run."""
    skipped = [r for r in results if r["status"] == "skipped"]
    reasons = Counter(r.get("kind") or "error" for r in skipped)
    source = sum(r.get("source_seconds", 0.0) for r in results)
    busy = sum(r.get("seconds", 0.0) for r in results)
    return {
        "videos": len(results), "done": len(results) - len(skipped), "skipped": len(skipped),
        "resumed_from_log": resumed, "clips": sum(len(r["clips"]) for r in results),
        "skip_reasons": dict(reasons.most_common()), "source_seconds": round(source, 2),
        "wall_seconds": round(wall_seconds, 2), "workers": workers,
        "source_seconds_per_busy_second": round(source / busy, 3) if busy else None,
        "skipped_videos": [{"path": r["path"], "kind": r.get("kind"), "reason": r["reason"]} for r in skipped],
    }
