"""GeneFace integration benchmark: cost of the sync loss per motion-training step, and accuracy, per expert.

Cost: for a batch of B sequences of T video frames (HuBERT-shaped 1024-d features at 50/s, 68 3D landmarks), times
the forward + backward of: the motion model alone, + GeneFace's SyncNet loss (its full architecture, every window)
and + the UniSync loss (every window) for each expert width ``channels/embed`` of ``--widths`` (the library default
is 128/512, the GeneFace integration's 16/64). Inside GeneFace the UniSync task costs what its row costs (same
expert call). Weights are random for timing (speed does not depend on them).

Accuracy (``--accuracy-steps N``, 0 to skip): on the integration's vowel corpus (built in ``--out``), GeneFace's
SyncNet and a UniSync expert of each width are trained for N steps as ``integrations.geneface.experiment`` trains
them (:mod:`integrations.geneface.experts`, same store, shares, batch and seed), then scored with protocol A on
the test speakers, so that cost and accuracy of every expert come from one run.

    python benchmarks/bench_geneface.py                          # B=8, T=100 (4 s), 5 repeats, 400 training steps
    python benchmarks/bench_geneface.py --accuracy-steps 0       # cost only
    python benchmarks/bench_geneface.py --quick                  # B=2, T=25, 2 repeats, 20 steps, tiny corpus

Prints a table and writes JSON (``--json``, default ``bench_geneface.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from integrations.geneface.experts import (expert_config, pair_accuracy, train_geneface_syncnet,
                                           train_unisync_expert, write_expert_store)
from integrations.geneface.features import AudioFeatureSpec
from integrations.geneface.motion_data import load_motion_clips
from integrations.geneface.motion_model import AudioToMotion
from integrations.geneface.sync_criteria import GeneFaceSyncLoss, unisync_criterion
from integrations.geneface.syncnet import GeneFaceSyncNet
from integrations.geneface.vowel_corpus import build_vowel_corpus
from unisync_loss import UniSyncExpert

#: Expert widths (channels, embedding size) compared by default: the library's default, then narrower ones.
DEFAULT_WIDTHS = "128/512,64/128,32/128,16/64"


def parse_widths(text: str) -> list[tuple[int, int]]:
    """``"128/512,64/128"`` -> ``[(128, 512), (64, 128)]`` (channels, embedding size)."""
    try:
        widths = [tuple(int(v) for v in item.split("/")) for item in text.split(",")]
    except ValueError:
        widths = []
    if not widths or any(len(w) != 2 or min(w) < 1 for w in widths):
        raise ValueError(f"widths: expected comma-separated CHANNELS/EMBED positive pairs like '64/128', got {text!r}")
    return widths


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
    parser.add_argument("--widths", default=DEFAULT_WIDTHS,
                        help="UniSync expert widths CHANNELS/EMBED, comma-separated")
    parser.add_argument("--accuracy-steps", type=int, default=400,
                        help="training steps per expert for the accuracy column (0: cost only)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_geneface"), help="corpus and experts folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default="bench_geneface.json")
    args = parser.parse_args(argv)
    widths = parse_widths(args.widths)
    if args.accuracy_steps < 0:
        raise ValueError(f"--accuracy-steps: expected 0 or more, got {args.accuracy_steps}")
    if args.quick:
        args.batch, args.frames, args.repeats = 2, 25, 2
        args.accuracy_steps = min(args.accuracy_steps, 20)
    torch.set_num_threads(args.threads)
    rows = measure_costs(widths, args.batch, args.frames, args.repeats)
    if args.accuracy_steps:
        accuracy = measure_accuracy(widths, args.out, args.accuracy_steps, args.seed, args.quick)
        for row in rows:
            row.update(accuracy.get(row["key"], {}))
    return _report(rows, args)


def measure_costs(widths: list[tuple[int, int]], b: int, t: int, repeats: int) -> list[dict]:
    """Median seconds of one motion-training step (forward + backward, B x T frames) per sync criterion."""
    torch.manual_seed(0)
    features = torch.randn(b, 2 * t, 1024)
    model = AudioToMotion(1024, (68, 3))
    criteria = {("none", "motion model only"): None,
                ("geneface", "+ GeneFace SyncNet loss"): GeneFaceSyncLoss(GeneFaceSyncNet(), "landmarks")}
    for channels, embed in widths:
        expert = UniSyncExpert(audio={"name": "hubert", "dim": 1024}, channels=channels, embed_dim=embed,
                               visual={"name": "landmarks", "num_points": 68, "dims": 3}).eval()
        criteria[(f"unisync-{channels}/{embed}", f"+ UniSync loss {channels}/{embed}")] = unisync_criterion(expert)
    rows = []
    for (key, name), criterion in criteria.items():
        def step():
            model.zero_grad()
            pred = model(features)
            loss = pred.pow(2).mean() + (criterion(features, pred) if criterion is not None else 0.0)
            loss.backward()
        seconds = timed(step, repeats)
        rows.append({"key": key, "what": name, "seconds": seconds,
                     "windows": b * (t - 4) if criterion is not None else 0})
        print(f"timed {name}: {seconds:.3f} s / step", flush=True)
    return rows


def measure_accuracy(widths: list[tuple[int, int]], out: Path, steps: int, seed: int, quick: bool) -> dict:
    """Protocol-A test accuracy and AUC of GeneFace's SyncNet and of a UniSync expert per width, each trained for
    ``steps`` steps on the vowel corpus as the GeneFace experiment trains its experts."""
    out = Path(out)
    store = (build_vowel_corpus(out / "vowel-quick", {"train": 4, "val": 2, "test": 2}, 3, 2.4, seed) if quick
             else build_vowel_corpus(out / "vowel", seed=seed))
    spec = AudioFeatureSpec()
    clips = {split: load_motion_clips(store, split, spec, "landmarks") for split in ("train", "val", "test")}
    shape = clips["train"][0].motion.shape[1:]
    expert_store = write_expert_store(out / "expert-store", store, clips, spec)
    common = dict(spec=spec, motion_shape=shape, steps=steps, seed=seed, data=expert_store.root)
    results = {}
    for channels, embed in widths:
        key = f"unisync-{channels}/{embed}"
        config = expert_config(out=out / "experts" / key.replace("/", "-"), channels=channels, embed_dim=embed,
                               **common)
        tick = time.perf_counter()
        expert = train_unisync_expert(config)
        results[key] = {**pair_accuracy(expert, config, shape), "train_s": time.perf_counter() - tick}
        print(f"{key}: {results[key]}", flush=True)
    config = expert_config(out=out / "experts" / "geneface-config", **common)
    tick = time.perf_counter()
    syncnet = train_geneface_syncnet(config, shape)
    results["geneface"] = {**pair_accuracy(syncnet, config, shape), "train_s": time.perf_counter() - tick}
    print(f"geneface: {results['geneface']}", flush=True)
    return results


def _report(rows: list[dict], args) -> int:
    print(f"B={args.batch}, T={args.frames} frames, {args.threads} thread(s), median of {args.repeats}; "
          f"accuracy after {args.accuracy_steps} training steps (protocol A, test speakers)")
    print(f"{'what':<28} {'s / step':>10} {'windows':>8} {'ms / window':>12} {'accuracy':>9} {'AUC':>6}")
    for row in rows:
        per = 1000 * row["seconds"] / row["windows"] if row["windows"] else float("nan")
        acc, auc = row.get("accuracy", float("nan")), row.get("auc", float("nan"))
        print(f"{row['what']:<28} {row['seconds']:>10.3f} {row['windows']:>8d} {per:>12.2f} {acc:>9.3f} {auc:>6.3f}")
    with open(args.json, "w") as f:
        json.dump({"rows": rows, "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                   "machine": platform.platform(),
                   "torch": torch.__version__}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
