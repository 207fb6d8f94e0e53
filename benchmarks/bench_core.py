"""Size and speed of the UniSync expert for every pair, beside Wav2Lip's SyncNet expert at the same input.

    python benchmarks/bench_core.py [--quick] [--json benchmarks/results/core.json]

Per pair: parameters, GMACs per 0.2 s window (torch.utils.flop_counter; MACs = FLOPs / 2), and the loss's
forward + backward time for a batch of 16 sequences x 25 frames on this CPU (21 windows each, gradients to the
visual input). The baseline row rebuilds Wav2Lip's SyncNet_color and computes the same -log p loss over the same
windows. Times are medians over repeats, measured in one run, so the ratio is meaningful on any machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from einops import rearrange
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.wav2lip.models import SyncNetColor  # noqa: E402
from unisync_loss import UniSyncExpert, UniSyncLoss  # noqa: E402
from unisync_loss.timing import audio_window_indices  # noqa: E402

BATCH, FRAMES = 16, 25


def gmacs(fn) -> float:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 2 / 1e9


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sample_inputs(expert: UniSyncExpert, batch: int, frames: int):
    arep, vrep = expert.audio_rep, expert.visual_rep
    audio = torch.randn(batch, int(frames / 25 * arep.rate) + 1, arep.feature_dim).clamp(-4, 4)
    if vrep.name == "parsing":
        visual = vrep.prepare(torch.randint(0, 19, (batch, frames, *vrep.frame_shape[1:])), "visual")
    else:
        visual = torch.rand(batch, frames, *vrep.frame_shape)
    return audio, visual


def unisync_row(audio_rep: str, visual_rep: str, repeats: int) -> dict:
    expert = UniSyncExpert(audio_rep, visual_rep).eval()
    loss_fn = UniSyncLoss(audio_rep, visual_rep, expert=expert)
    a1, v1 = sample_inputs(expert, 1, 5)
    a1 = a1[:, : expert.audio_rep.window]
    with torch.no_grad():
        macs = gmacs(lambda: expert(a1, v1))
    audio, visual = sample_inputs(expert, BATCH, FRAMES)

    def step():
        v = visual.clone().requires_grad_(True)
        loss_fn(audio, v).backward()

    return {
        "model": f"UniSync {audio_rep}+{visual_rep}",
        "params_m": sum(p.numel() for p in expert.parameters()) / 1e6,
        "gmacs_per_window": macs,
        "loss_fwd_bwd_s": median_seconds(step, repeats),
    }


def wav2lip_row(repeats: int) -> dict:
    net = SyncNetColor().eval()
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        macs = gmacs(lambda: net(torch.randn(1, 1, 80, 16), torch.rand(1, 15, 48, 96)))
    mel = torch.randn(BATCH, int(FRAMES * 3.2) + 1, 80)
    faces = torch.rand(BATCH, FRAMES, 3, 48, 96)
    n = FRAMES - 4
    index = audio_window_indices(torch.arange(n), 25.0, 80.0, 16)

    def step():
        v = faces.clone().requires_grad_(True)
        windows = rearrange(v.unfold(1, 5, 1), "b n c h w t -> (b n) (t c) h w")
        mels = rearrange(mel[:, index], "b n t m -> (b n) 1 m t")
        a, f = net(mels, windows)
        p = torch.nn.functional.cosine_similarity(a, f).clamp(1e-6, 1)
        (-torch.log(p)).mean().backward()

    return {
        "model": "Wav2Lip SyncNet_color (baseline)",
        "params_m": sum(p.numel() for p in net.parameters()) / 1e6,
        "gmacs_per_window": macs,
        "loss_fwd_bwd_s": median_seconds(step, repeats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 repeat instead of 5")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/core.json"))
    args = parser.parse_args()
    repeats = 1 if args.quick else 5
    torch.manual_seed(0)
    rows = [wav2lip_row(repeats)]
    for audio_rep, visual_rep in itertools.product(("mel", "hubert"), ("rgb", "parsing", "landmarks", "3dmm")):
        rows.append(unisync_row(audio_rep, visual_rep, repeats))
    base = rows[0]["loss_fwd_bwd_s"]
    for row in rows:
        row["time_ratio_vs_wav2lip"] = row["loss_fwd_bwd_s"] / base
    print(f"CPU threads: {torch.get_num_threads()}, batch {BATCH} x {FRAMES} frames, torch {torch.__version__}")
    print(f"| {'model':34} | params (M) | GMACs / window | loss fwd+bwd (s) | time vs Wav2Lip |")
    print(f"| {'-' * 34} | ---------- | -------------- | ---------------- | --------------- |")
    for r in rows:
        print(f"| {r['model']:34} | {r['params_m']:10.2f} | {r['gmacs_per_window']:14.3f} | "
              f"{r['loss_fwd_bwd_s']:16.3f} | {r['time_ratio_vs_wav2lip']:15.2f} |")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"threads": torch.get_num_threads(), "rows": rows}, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
