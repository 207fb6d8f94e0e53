"""GeneFace integration benchmark: cost of the sync loss per motion-training step, per expert.

For a batch of B sequences of T video frames (HuBERT-shaped 1024-d features at 50/s, 68 3D landmarks), times the
forward + backward of: the motion model alone, + the UniSync loss (expert of the default width, 128 channels, 512-d
embeddings, every window) and + GeneFace's SyncNet loss (its full architecture, every window). Inside GeneFace the
UniSync task costs what the UniSync row costs (same expert call). Weights are random (speed does not depend on them).

    python benchmarks/bench_geneface.py            # B=8, T=100 (4 s), 5 repeats
    python benchmarks/bench_geneface.py --quick    # B=2, T=25, 2 repeats

Prints a table and writes JSON (``--json``, default ``bench_geneface.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from integrations.geneface.motion_model import AudioToMotion
from integrations.geneface.sync_criteria import GeneFaceSyncLoss, unisync_criterion
from integrations.geneface.syncnet import GeneFaceSyncNet
from unisync_loss import UniSyncExpert


def timed(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default="bench_geneface.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.frames, args.repeats = 2, 25, 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b, t = args.batch, args.frames
    features = torch.randn(b, 2 * t, 1024)
    model = AudioToMotion(1024, (68, 3))
    expert = UniSyncExpert(audio={"name": "hubert", "dim": 1024}, visual={"name": "landmarks", "num_points": 68,
                                                                           "dims": 3}).eval()
    criteria = {"motion model only": None, "+ UniSync loss": unisync_criterion(expert),
                "+ GeneFace SyncNet loss": GeneFaceSyncLoss(GeneFaceSyncNet(), "landmarks")}
    rows = []
    for name, criterion in criteria.items():
        def step():
            model.zero_grad()
            pred = model(features)
            loss = pred.pow(2).mean() + (criterion(features, pred) if criterion is not None else 0.0)
            loss.backward()
        seconds = timed(step, args.repeats)
        rows.append({"what": name, "seconds": seconds, "windows": b * (t - 4) if criterion is not None else 0})
    return _report(rows, args)


def _report(rows: list[dict], args) -> int:
    print(f"B={args.batch}, T={args.frames} frames, {args.threads} thread(s), median of {args.repeats}")
    print(f"{'what':<28} {'s / step':>10} {'windows':>8} {'ms / window':>12}")
    for row in rows:
        per = 1000 * row["seconds"] / row["windows"] if row["windows"] else float("nan")
        print(f"{row['what']:<28} {row['seconds']:>10.3f} {row['windows']:>8d} {per:>12.2f}")
    with open(args.json, "w") as f:
        json.dump({"rows": rows, "settings": vars(args), "machine": platform.platform(),
                   "torch": torch.__version__}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
