"""Benchmark of the synthetic corpus generator: clips per second on one core, time per stage, size on disk.

    python benchmarks/bench_synth.py            # 10 speakers x 2 clips, then the default corpus of `unisync synth`
    python benchmarks/bench_synth.py --quick    # 3 speakers x 1 clip

Prints a table and writes JSON (``--json``, default bench_synth.json in the current folder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, not an installed one

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: no hidden thread pools
os.environ.setdefault("MKL_NUM_THREADS", "1")


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned"


def _folder_bytes(root: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in root.rglob(pattern) if p.is_file())


def stage_times(speakers: int, seed: int) -> dict[str, float]:
    """CPU seconds per stage for one clip of each of ``speakers`` speakers (speech, motion+geometry, render, mp4)."""
    import numpy as np

    from unisync_loss.synth import clip as clip_mod
    from unisync_loss.synth.mp4 import write_mp4
    from unisync_loss.synth.settings import SynthSettings
    from unisync_loss.synth.speaker import Speaker

    settings = SynthSettings()
    totals = {"speech": 0.0, "render+motion": 0.0, "mp4": 0.0, "seconds of video": 0.0}
    for i in range(speakers):
        speaker = Speaker.sample(seed, i, settings)
        start = time.process_time()
        speech, _ = clip_mod.speak_clip(speaker, settings, np.random.default_rng([seed, i]))
        totals["speech"] += time.process_time() - start
        start = time.process_time()
        clip = clip_mod.generate_clip(speaker, seed, 0, settings)
        totals["render+motion"] += time.process_time() - start
        start = time.process_time()
        with tempfile.TemporaryDirectory() as tmp:
            write_mp4(Path(tmp) / "x.mp4", clip.frames, clip.audio)
        totals["mp4"] += time.process_time() - start
        totals["seconds of video"] += clip.num_frames / 25
    totals["render+motion"] -= totals["speech"]  # generate_clip speaks again: count speech once
    return totals


def sync_signal(store, max_lag: int = 6) -> dict[int, float]:
    """Mean Pearson r between the audio loudness envelope and the landmark lip gap, per video-frame lag.

    Positive lag = video shifted later than the audio. A peak near lag 0 that falls off with the offset is what a
    sync expert can learn; its height says how much the mouth alone reveals the sound.
    """
    import numpy as np

    per_lag: dict[int, list[float]] = {lag: [] for lag in range(-max_lag, max_lag + 1)}
    for clip_id in store.clip_ids():
        audio = store.load_array(clip_id, "audio")
        lm = store.load_array(clip_id, "landmarks")
        frames = len(lm)
        loud = np.sqrt((np.asarray(audio[: frames * 640]).reshape(frames, 640) ** 2).mean(1))
        gap = (lm[:, [65, 66, 67], 1] - lm[:, [63, 62, 61], 1]).mean(1)
        for lag in per_lag:
            a, v = (loud[: frames - lag], gap[lag:]) if lag >= 0 else (loud[-lag:], gap[: frames + lag])
            per_lag[lag].append(float(np.corrcoef(a, v)[0, 1]))
    return {lag: float(np.mean(values)) for lag, values in per_lag.items()}


def corpus_run(out: Path, speakers: int, clips: int, seed: int) -> dict:
    from unisync_loss.synth import generate_corpus

    start_wall, start_cpu = time.perf_counter(), time.process_time()
    store = generate_corpus(out, speakers=speakers, clips=clips, seed=seed, progress=False)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    frames = sum(e["num_frames"] for e in store.index())
    store_bytes = _folder_bytes(out / "clips", "*.npy")
    video_bytes = _folder_bytes(out / "videos", "*.mp4")
    return {"sync_r_by_lag": sync_signal(store), "speakers": speakers, "clips": len(store),
            "video_seconds": frames / 25, "wall_s": wall, "cpu_s": cpu,
            "clips_per_cpu_s": len(store) / cpu, "clips_per_wall_s": len(store) / wall,
            "store_MB": store_bytes / 1e6, "mp4_MB": video_bytes / 1e6,
            "store_MB_per_video_minute": store_bytes / 1e6 / (frames / 25 / 60)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 speakers x 1 clip, no default-corpus run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="bench_synth.json", help="where to write the results")
    args = parser.parse_args()
    pinned = _pin_one_core()
    from unisync_loss.cli.synth import DEFAULT_CLIPS, DEFAULT_SPEAKERS

    runs = [(3, 1)] if args.quick else [(10, 2), (DEFAULT_SPEAKERS, DEFAULT_CLIPS)]
    results = {"machine": platform.processor() or platform.machine(), "cpu": pinned, "runs": []}
    stages = stage_times(3 if args.quick else 6, args.seed)
    results["stages_cpu_s_per_video_s"] = {k: v / stages["seconds of video"] for k, v in stages.items()
                                           if k != "seconds of video"}
    tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
    try:
        for n, (speakers, clips) in enumerate(runs):
            results["runs"].append(corpus_run(tmp / f"run{n}", speakers, clips, args.seed))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"synthetic corpus generation ({pinned}; CPU time is what one core spends, wall time includes waiting)")
    print("CPU seconds per second of video: " + ", ".join(f"{k} {v:.3f}"
                                                         for k, v in results["stages_cpu_s_per_video_s"].items()))
    header = ("speakers", "clips", "video_s", "wall_s", "cpu_s", "clips/cpu-s", "store_MB", "mp4_MB", "MB/video-min")
    print(" ".join(f"{h:>12}" for h in header))
    for r in results["runs"]:
        values = (r["speakers"], r["clips"], r["video_seconds"], r["wall_s"], r["cpu_s"], r["clips_per_cpu_s"],
                  r["store_MB"], r["mp4_MB"], r["store_MB_per_video_minute"])
        print(" ".join(f"{v:>12.2f}" if isinstance(v, float) else f"{v:>12}" for v in values))
    lags = results["runs"][0]["sync_r_by_lag"]
    print("audio loudness vs lip gap, mean Pearson r by video lag (frames): "
          + " ".join(f"{lag:+d}:{r:.2f}" for lag, r in lags.items()))
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
