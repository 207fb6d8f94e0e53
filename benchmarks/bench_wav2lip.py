"""Wav2Lip generator training throughput with the UniSync sync loss vs Wav2Lip's own expert.

    python benchmarks/bench_wav2lip.py            # published-size generator, batch 4, CPU or GPU (a few minutes on CPU)
    python benchmarks/bench_wav2lip.py --quick    # width-0.25 generator, batch 2

For each expert, training steps are timed with the sync term on (weight 0.01) and off (weight 0, where upstream and
this trainer skip the expert entirely); the sync loss's share of a step is ``1 - t_off / t_on``. The four settings
take turns step by step, so a load change on a shared machine hits them alike. Wall-clock shares on a shared machine
stay noisy, so the floating-point operations of one step with and without the sync term are counted too
(``torch.utils.flop_counter``), which gives the sync loss's share independently of the load. Prints a table and
writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.wav2lip.expert_adapter import UniSyncSyncNet  # noqa: E402
from integrations.wav2lip.models import SyncNetColor, Wav2LipGenerator  # noqa: E402
from integrations.wav2lip.sync_expert import sync_loss  # noqa: E402
from unisync_loss import UniSyncExpert  # noqa: E402


def experts(device: torch.device) -> dict[str, torch.nn.Module]:
    """Published-size experts with random weights (speed does not depend on the weights)."""
    wav2lip = SyncNetColor()
    unisync = UniSyncSyncNet(expert=UniSyncExpert("mel", "rgb").eval())
    for expert in (wav2lip, unisync):
        for p in expert.parameters():
            p.requires_grad_(False)
    return {"wav2lip": wav2lip.to(device).eval(), "unisync": unisync.to(device).eval()}


def timed_step(generator, optimizer, expert, batch, weight: float, device: torch.device) -> float:
    x, indiv, mel, gt = batch
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    g = generator(indiv, x)
    l1 = F.l1_loss(g, gt)
    loss = (1 - weight) * l1 + (weight * sync_loss(expert, mel, g) if weight > 0 else 0.0)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small generator and batch (seconds, not minutes)")
    parser.add_argument("--steps", type=int, help="timed steps per setting (default 3, quick 2)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json", default="runs/bench_wav2lip.json")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    width = 0.25 if args.quick else 1.0
    batch_size = args.batch_size or (2 if args.quick else 4)
    steps = args.steps or (2 if args.quick else 3)
    torch.manual_seed(0)
    batch = (torch.rand(batch_size, 6, 5, 96, 96, device=device), torch.rand(batch_size, 5, 1, 80, 16, device=device),
             torch.rand(batch_size, 1, 80, 16, device=device) * 8 - 4, torch.rand(batch_size, 3, 5, 96, 96, device=device))
    generator = Wav2LipGenerator(width).to(device).train()
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-4)
    settings = [(name, expert, weight) for name, expert in experts(device).items() for weight in (0.01, 0.0)]
    times = {(name, weight): [] for name, _, weight in settings}
    for step in range(steps + 1):  # step 0 warms up
        for name, expert, weight in settings:
            elapsed = timed_step(generator, optimizer, expert, batch, weight, device)
            if step:
                times[name, weight].append(elapsed)
    flops = {}
    for name, expert, weight in settings:
        with FlopCounterMode(display=False) as counter:
            timed_step(generator, optimizer, expert, batch, weight, device)
        flops[name, weight] = counter.get_total_flops()
    rows = []
    for name, expert in experts(device).items():
        on, off = statistics.median(times[name, 0.01]), statistics.median(times[name, 0.0])
        rows.append({"expert": name, "expert_parameters": sum(p.numel() for p in expert.parameters()),
                     "step_s": on, "samples_per_s": batch_size / on, "step_without_sync_s": off,
                     "sync_share": max(0.0, 1 - off / on), "step_gflop": flops[name, 0.01] / 1e9,
                     "sync_flop_share": 1 - flops[name, 0.0] / flops[name, 0.01]})
    print(f"device {device}, generator width {width}, batch {batch_size} x 5 frames, median of {steps} steps")
    print(f"{'expert':<10}{'params':>12}{'step s':>10}{'samples/s':>12}{'no-sync s':>12}{'time share':>12}"
          f"{'GFLOP':>10}{'FLOP share':>12}")
    for r in rows:
        print(f"{r['expert']:<10}{r['expert_parameters']:>12,}{r['step_s']:>10.3f}{r['samples_per_s']:>12.2f}"
              f"{r['step_without_sync_s']:>12.3f}{r['sync_share']:>11.1%}{r['step_gflop']:>10.1f}"
              f"{r['sync_flop_share']:>11.1%}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"device": str(device), "width": width, "batch_size": batch_size, "steps": steps,
                               "torch": torch.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
