"""The paper's Table VI experiment: Wav2Lip trained with its own expert vs with UniSync, judged independently.

    python -m integrations.wav2lip.experiment                      # built-in synthetic corpus, CPU, minutes
    python -m integrations.wav2lip.experiment --data LRS2_STORE --unisync-expert DIR --wav2lip-expert \\
        lipsync_expert.pth --judge JUDGE_DIR --syncnet syncnet_v2.model --preset full --device cuda

Stages (each skipped when its output exists, so an interrupted run resumes):

1. corpus: ``unisync synth`` speakers (train/val/test by speaker) unless ``--data`` names a clip store;
2. experts: a UniSync mel+rgb expert (``train_expert``) and a Wav2Lip-style expert (SyncNet_color, Wav2Lip's BCE
   objective), same steps and learning rate, unless given;
3. judge: a UniSync mel+rgb expert with another seed on another corpus (other speakers), which neither generator
   trained against, unless ``--judge`` is given;
4. generators: phase 1 (sync weight 0, shared by both, as the original schedule's first phase), then phase 2 once per
   expert with the same budget and sync weight (``--preset full`` instead runs the original schedule from scratch);
5. test: every test-split clip (held-out speakers) regenerated from its own frames and audio by each generator, and
   LSE-D / LSE-C by the judge (and by syncnet_python's SyncNet with ``--syncnet``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from unisync_loss.progress import progress_bar

from unisync_loss.data.clip_store import ClipStore
from unisync_loss.expert import UniSyncExpert

from .cli import run_reporting_errors
from .expert_training import train_syncnet
from .infer import face_track, lip_sync
from .judge import judge_lse, syncnet_lse
from .trainer import GeneratorTrainer, TrainConfig, checkpoint_path
from .weights import load_model

ROWS = ("Real videos", "Wav2Lip", "Wav2Lip + UniSync")


@dataclass
class Budget:
    """Sizes of one experiment; ``quick`` is the CPU default, ``full`` the published-network GPU setting."""

    speakers: int = 5
    clips: int = 2
    judge_speakers: int = 5
    expert_steps: int = 20
    expert_batch: int = 16
    expert_channels: int = 32
    expert_lr: float = 5e-4
    width: float = 0.25
    batch_size: int = 2
    phase1_steps: int = 20
    phase2_steps: int = 20
    sync_weight: float = 0.05
    schedule: str = "phased"


PRESETS = {
    "quick": Budget(),
    "full": Budget(speakers=0, clips=0, judge_speakers=0, expert_channels=128, width=1.0, batch_size=16,
                   expert_steps=20000, expert_batch=64, expert_lr=1e-4,
                   phase1_steps=0, phase2_steps=300000, sync_weight=0.01, schedule="original"),
}


def corpus(path: Path, speakers: int, clips: int, seed: int) -> ClipStore:
    from unisync_loss.synth.corpus import generate_corpus
    from unisync_loss.synth.settings import SynthSettings

    settings = SynthSettings(min_seconds=3.0, max_seconds=5.0)
    return generate_corpus(path, speakers=speakers, clips=clips, seed=seed, settings=settings, mp4=False)


def unisync_expert(store: Path, out: Path, budget: Budget, seed: int, device: str) -> Path:
    """Train (once) a mel+rgb UniSync expert with ``train_expert``; returns its exported folder."""
    if not (out / "best" / "config.json").is_file():
        from train_expert import make_config
        from train_expert.trainer import Trainer

        config = make_config(None, {
            "data": str(store), "out": str(out), "channels": budget.expert_channels, "embed_dim": 128,
            "batch_size": budget.expert_batch, "max_steps": budget.expert_steps, "samples_per_epoch": 1024, "lr": budget.expert_lr, "seed": seed,
            "warmup_steps": max(1, budget.expert_steps // 10), "eval_every": max(1, budget.expert_steps // 3),
            "checkpoint_every": budget.expert_steps, "val_pairs": 256, "num_workers": 0, "device": device,
        })
        Trainer(config).train()
    return out / "best"


def train_generator(name: str, root: Path, store: Path, kind: str, expert: Path, budget: Budget, device: str,
                    steps: int, weight: float | None, init: Path | None = None) -> Path:
    """One generator run (skipped when its final checkpoint exists); returns the final checkpoint."""
    out = root / name
    final = checkpoint_path(out, steps)
    if not final.is_file():
        schedule = "original" if weight is None else "fixed"
        config = TrainConfig(data=str(store), out=str(out), sync_expert=kind, expert=str(expert), steps=steps,
                             batch_size=budget.batch_size, width=budget.width, schedule=schedule, sync_weight=weight,
                             eval_interval=max(1, steps // 4), eval_batches=4, checkpoint_interval=steps,
                             device=device, init_generator=str(init) if init else None, resume="auto")
        GeneratorTrainer(config).fit()
    return final


def score_test_clips(store: ClipStore, generators: dict[str, Path], judge: UniSyncExpert, syncnet=None,
                     device: str = "cpu") -> dict[str, dict]:
    """Mean (and per-clip) LSE of each row over the test split."""
    models = {row: load_model("generator", path, map_location=device) for row, path in generators.items()}
    per_clip = {row: [] for row in ROWS}
    for clip_id in progress_bar(store.clip_ids("test"), desc="test clips", unit="clip"):
        clip = store.load_clip(clip_id, mmap=False)
        frames, audio = clip.frames, clip.audio
        outputs = {"Real videos": frames}
        for row, model in models.items():
            track = face_track(frames, [0, 0, frames.shape[2], frames.shape[1]])  # the crops are the faces
            outputs[row] = lip_sync(model, frames, track, audio, list(range(len(frames))), device=device)
        for row, video in outputs.items():
            scores = {"clip": clip_id}
            result = judge_lse(judge, video, audio)
            scores.update(lse_d=result.lse_d, lse_c=result.lse_c, offset=result.offset)
            if syncnet is not None:
                real = syncnet_lse(syncnet, video, audio)
                scores.update(syncnet_lse_d=real.lse_d, syncnet_lse_c=real.lse_c)
            per_clip[row].append(scores)
    summary = {}
    for row, items in per_clip.items():
        keys = [k for k in items[0] if k not in ("clip", "offset")]
        summary[row] = {k: float(np.mean([i[k] for i in items])) for k in keys}
        summary[row]["clips"] = len(items)
        summary[row]["per_clip"] = items
    return summary


def format_table(summary: dict[str, dict], seconds: float, note: str) -> str:
    real_lse = "syncnet_lse_d" in summary["Wav2Lip"]
    head = "| Method | LSE-D (judge) ↓ | LSE-C (judge) ↑ |" + (" LSE-D (SyncNet) ↓ | LSE-C (SyncNet) ↑ |" if real_lse else "")
    lines = [f"Table VI rows ({note}; {summary['Wav2Lip']['clips']} test clips of held-out speakers; "
             f"total {seconds / 60:.1f} min)", "", head, "|" + " --- |" * (5 if real_lse else 3)]
    for row in ROWS:
        s = summary[row]
        cells = [f"{s['lse_d']:.3f}", f"{s['lse_c']:.3f}"]
        if real_lse:
            cells += [f"{s['syncnet_lse_d']:.3f}", f"{s['syncnet_lse_c']:.3f}"]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> str:
    start = time.perf_counter()
    budget = Budget(**{**asdict(PRESETS[args.preset]), **{k: v for k, v in vars(args).items()
                                                          if k in asdict(Budget()) and v is not None}})
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    store_path = Path(args.data) if args.data else root / "corpus"
    if not args.data:
        corpus(store_path, budget.speakers, budget.clips, seed=0)
    store = ClipStore(store_path)
    unisync = Path(args.unisync_expert) if args.unisync_expert else unisync_expert(
        store_path, root / "expert_unisync", budget, seed=0, device=args.device)
    wav2lip = Path(args.wav2lip_expert) if args.wav2lip_expert else root / "expert_wav2lip.pth"
    if not wav2lip.is_file():
        result = train_syncnet(str(store_path), str(wav2lip), budget.expert_steps, budget.width, budget.expert_batch,
                               budget.expert_lr)
        print(f"wav2lip-style expert: {result}")
    if args.judge:
        judge_dir = Path(args.judge)
    else:
        judge_store = root / "judge_corpus"
        corpus(judge_store, budget.judge_speakers, budget.clips, seed=1)
        judge_dir = unisync_expert(judge_store, root / "judge", budget, seed=7, device=args.device)
    judge = UniSyncExpert.from_pretrained(judge_dir).to(args.device)
    init = None
    if budget.schedule == "phased" and budget.phase1_steps > 0:
        init = train_generator("generator_phase1", root, store_path, "unisync", unisync, budget, args.device,
                               budget.phase1_steps, 0.0, args.init_generator and Path(args.init_generator))
    elif args.init_generator:
        init = Path(args.init_generator)
    weight = None if budget.schedule == "original" else budget.sync_weight
    generators = {
        "Wav2Lip": train_generator("generator_wav2lip", root, store_path, "wav2lip", wav2lip, budget, args.device,
                                   budget.phase2_steps, weight, init),
        "Wav2Lip + UniSync": train_generator("generator_unisync", root, store_path, "unisync", unisync, budget,
                                             args.device, budget.phase2_steps, weight, init),
    }
    syncnet = None
    if args.syncnet:
        from unisync_loss.metrics.syncnet import load_syncnet

        syncnet = load_syncnet(args.syncnet, args.device)
    summary = score_test_clips(store, generators, judge, syncnet, args.device)
    note = ("built-in synthetic corpus, generator width {:g}, judge: independent UniSync mel+rgb expert".format(
        budget.width) if not args.data else f"clip store {store_path}")
    table = format_table(summary, time.perf_counter() - start, note)
    (root / "results.json").write_text(json.dumps({"budget": asdict(budget), "summary": summary,
                                                   "seconds": time.perf_counter() - start}, indent=1))
    (root / "table.md").write_text(table + "\n")
    return table


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bash integrations/wav2lip/train.sh",
                                     description="Wav2Lip vs Wav2Lip + UniSync (the paper's Table VI).")
    parser.add_argument("--out", default="runs/wav2lip_experiment", help="experiment folder (stages resume)")
    parser.add_argument("--data", help="clip store with RGB face crops (default: generate the synthetic corpus)")
    parser.add_argument("--unisync-expert", help="UniSync mel+rgb expert folder (default: train one)")
    parser.add_argument("--wav2lip-expert", help="lipsync_expert.pth (default: train a Wav2Lip-style expert)")
    parser.add_argument("--expert", dest="unisync_expert", help="same as --unisync-expert")
    parser.add_argument("--judge", help="judge expert folder (default: train one on another corpus and seed)")
    parser.add_argument("--syncnet", help="syncnet_v2.model: also report syncnet_python's LSE-D / LSE-C")
    parser.add_argument("--init-generator", "--wav2lip-checkpoint", dest="init_generator",
                        help="start both generators from this checkpoint (e.g. wav2lip.pth)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--steps", dest="phase2_steps", type=int, help="generator steps per expert")
    parser.add_argument("--phase1-steps", type=int, help="shared sync-free generator steps first")
    parser.add_argument("--expert-steps", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--width", type=float, help="generator width multiplier (1 = published network)")
    parser.add_argument("--sync-weight", type=float)
    parser.add_argument("--speakers", type=int)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_reporting_errors("wav2lip experiment", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
