"""Training throughput of ``train_expert`` (samples/s, share of time waiting for data), CPU or GPU.

    python -m benchmarks.bench_train [--quick] [--data STORE] [--json OUT]

Without ``--data`` a small synthetic corpus is generated in a temporary folder. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from train_expert.config import make_config
from train_expert.trainer import Trainer

CASES = [  # (audio, visual, visual options, channels, embed_dim)
    ("mel", "rgb", {}, 128, 512),
    ("mel", "rgb", {"height": 24, "width": 48}, 16, 64),
    ("mel", "3dmm", {}, 16, 64),
]


def bench(data: str, out: Path, case, steps: int, batch: int, workers: int, threads: int) -> dict:
    audio, visual, options, channels, embed = case
    config = make_config(None, dict(
        data=data, out=str(out), audio=audio, visual=visual, visual_options=options, channels=channels,
        embed_dim=embed, batch_size=batch, max_steps=steps, samples_per_epoch=batch * steps, warmup_steps=1,
        eval_every=10 ** 6, checkpoint_every=10 ** 6, val_pairs=batch, num_workers=workers, num_threads=threads, log_every=10 ** 6))
    trainer = Trainer(config, progress=False, tensorboard=False)
    start = time.perf_counter()
    summary = trainer.train()
    return {"pair": f"{audio}-{visual}", "crop": options or "default", "channels": channels, "embed_dim": embed,
            "batch": batch, "steps": steps, "device": str(trainer.device), "threads": torch.get_num_threads(),
            "samples_per_second": summary["samples_per_second"], "data_wait_share": summary["data_wait_share"],
            "wall_seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 steps of 16 pairs, smallest case only")
    parser.add_argument("--data", help="clip store (default: generate a small synthetic corpus)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="intra-op CPU threads (0 = torch's default)")
    parser.add_argument("--json", default="bench_train.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            from unisync_loss.synth.corpus import generate_corpus
            from unisync_loss.synth.settings import SynthSettings

            data = str(Path(tmp) / "corpus")
            generate_corpus(data, speakers=5, clips=1, seed=0, settings=SynthSettings(min_seconds=3, max_seconds=3),
                            mp4=False)
        cases = CASES[-1:] if args.quick else CASES
        steps, batch = (5, 16) if args.quick else (args.steps, args.batch)
        rows = [bench(data, Path(tmp) / f"run{i}", c, steps, batch, args.workers, args.threads)
                for i, c in enumerate(cases)]
    print(f"{'pair':10} {'crop':>24} {'ch':>4} {'batch':>5} {'device':>6} {'samples/s':>10} {'data wait':>9}")
    for r in rows:
        print(f"{r['pair']:10} {str(r['crop']):>24} {r['channels']:4d} {r['batch']:5d} {r['device']:>6} "
              f"{r['samples_per_second']:10.1f} {r['data_wait_share']:9.1%}")
    Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
