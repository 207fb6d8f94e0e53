"""Wav2Lip generator training from the clip store with a pluggable sync expert.

    python -m integrations.wav2lip.trainer --data STORE --out RUN --sync-expert unisync --expert EXPERT_DIR
    python -m integrations.wav2lip.trainer --data STORE --out RUN --sync-expert wav2lip --expert lipsync_expert.pth --hq
    torchrun --nproc_per_node 4 -m integrations.wav2lip.trainer ... --amp

Same objective as upstream: ``w * sync + (1 - w) * L1`` (with the GAN: ``w * sync + d * adv + (1 - w - d) * L1``,
``d = 0.07``) with Wav2Lip's schedule for ``w`` (:mod:`.schedule`). Fixed against upstream: the expert stays in eval
mode, bad clips are reported once, sampling is a function of the step (exact resume, no repeats across ranks or
workers), checkpoints hold everything needed to resume (optimizers, schedule, GAN, AMP scaler), ``torchrun`` and
mixed precision work. Checkpoints keep upstream's ``{"state_dict", "optimizer", "global_step", "global_epoch"}`` keys,
so upstream's scripts and :func:`.weights.load_model` read them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from unisync_loss.progress import progress_bar

from .data import Wav2LipWindows
from .models import QualityDiscriminator, Wav2LipGenerator
from .schedule import MODES, SyncWeightSchedule
from .sync_expert import EXPERTS, load_sync_expert, sync_loss
from .weights import load_weights


@dataclass
class TrainConfig:
    """Everything a run depends on (saved in every checkpoint)."""

    data: str
    out: str
    sync_expert: str = "unisync"
    expert: str | None = None
    steps: int = 1000
    batch_size: int = 16
    width: float = 1.0
    lr: float = 1e-4
    gan: bool = False
    disc_lr: float = 1e-4
    disc_weight: float = 0.07
    schedule: str = "original"
    sync_weight: float | None = None
    sync_threshold: float = 0.75
    eval_interval: int = 3000
    eval_batches: int = 20
    checkpoint_interval: int = 3000
    seed: int = 0
    device: str = "auto"
    amp: bool = False
    num_workers: int = 0
    init_generator: str | None = None
    resume: str | None = None

    def __post_init__(self):
        if self.sync_expert not in EXPERTS:
            raise ValueError(f"sync_expert: expected one of {EXPERTS}, got {self.sync_expert!r}")
        if self.schedule not in MODES:
            raise ValueError(f"schedule: expected one of {MODES}, got {self.schedule!r}")
        if self.schedule == "fixed" and self.sync_weight is None:
            raise ValueError("sync_weight: the fixed schedule needs a weight, e.g. --sync-weight 0.01")
        for name in ("steps", "batch_size", "eval_interval", "eval_batches", "checkpoint_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")

    def make_schedule(self) -> SyncWeightSchedule:
        if self.schedule == "fixed":
            return SyncWeightSchedule.fixed(self.sync_weight)
        return SyncWeightSchedule.original(self.gan, self.sync_threshold, self.sync_weight)


def checkpoint_path(out: Path, step: int) -> Path:
    return out / f"checkpoint_step{step:09d}.pth"


def latest_checkpoint(out: Path) -> Path | None:
    found = sorted(out.glob("checkpoint_step*.pth"))
    return found[-1] if found else None


class StepBatches:
    """Sample ids of each step's batch: step ``s`` on rank ``r`` takes ids ``[(s * world + r) * b, ... + b)``."""

    def __init__(self, first_step: int, last_step: int, batch_size: int, rank: int, world: int):
        self.first, self.last, self.b, self.rank, self.world = first_step, last_step, batch_size, rank, world

    def __len__(self) -> int:
        return max(0, self.last - self.first)

    def __iter__(self):
        for s in range(self.first, self.last):
            begin = (s * self.world + self.rank) * self.b
            yield list(range(begin, begin + self.b))


class GeneratorTrainer:
    """Builds data, expert, generator (and discriminator), optimizers; :meth:`fit` trains to ``config.steps``."""

    def __init__(self, config: TrainConfig):
        self.config = config
        self.rank, self.world = _init_distributed()
        self.device = _pick_device(config.device, self.rank)
        self.out = Path(config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.train_data = Wav2LipWindows(config.data, "train", seed=config.seed)
        self.val_data = Wav2LipWindows(config.data, "val", seed=config.seed + 1,
                                       length=config.eval_batches * config.batch_size)
        for data in (self.train_data, self.val_data):
            if data.skipped and self.rank == 0:
                print(data.describe_skipped(), file=sys.stderr)
        self.expert = load_sync_expert(config.sync_expert, config.expert, self.device)
        torch.manual_seed(config.seed)
        self.generator = Wav2LipGenerator(config.width)
        if config.init_generator:
            load_weights(self.generator, config.init_generator)
        self.generator.to(self.device)
        self.optimizer = torch.optim.Adam(self.generator.parameters(), lr=config.lr)
        self.disc = self.disc_optimizer = None
        if config.gan:
            self.disc = QualityDiscriminator().to(self.device)
            self.disc_optimizer = torch.optim.Adam(self.disc.parameters(), lr=config.disc_lr, betas=(0.5, 0.999))
        self.schedule = config.make_schedule()
        self.scaler = torch.amp.GradScaler("cuda", enabled=config.amp and self.device.type == "cuda")
        self.step = 0
        resume = latest_checkpoint(self.out) if config.resume == "auto" else config.resume
        if resume:
            self.load(resume)
        self.gen_ddp = self._wrap(self.generator)
        self.disc_ddp = self._wrap(self.disc) if self.disc is not None else None

    # ------------------------------------------------------------------------------------------------ steps
    def _wrap(self, module):
        if self.world == 1:
            return module
        return DistributedDataParallel(module, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def _autocast(self):
        dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        return torch.autocast(self.device.type, dtype=dtype, enabled=self.config.amp)

    def _batches(self):
        """Batches for steps ``self.step, self.step + 1, ...``: sample ids depend on (step, rank) only."""
        ids = StepBatches(self.step, self.config.steps, self.config.batch_size, self.rank, self.world)
        return DataLoader(self.train_data, batch_sampler=ids, num_workers=self.config.num_workers,
                          pin_memory=self.device.type == "cuda")

    def train_step(self, batch) -> dict[str, float]:
        x, indiv_mels, mel, gt = (t.to(self.device, non_blocking=True) for t in batch)
        cfg, w = self.config, self.schedule.weight
        self.generator.train()
        with self._autocast():
            g = self.gen_ddp(indiv_mels, x)
            l1 = F.l1_loss(g.float(), gt)
            sync = sync_loss(self.expert, mel, g) if w > 0 else torch.zeros((), device=self.device)
            adv = self.disc.realism_loss(g) if self.disc is not None else torch.zeros((), device=self.device)
            d = cfg.disc_weight if self.disc is not None else 0.0
            loss = w * sync + d * adv + (1.0 - w - d) * l1
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        metrics = {"l1": l1.item(), "sync": sync.item(), "sync_weight": w, "loss": loss.item()}
        if self.disc is not None:
            metrics.update(self._disc_step(g.detach(), gt))
        self.scaler.update()
        return metrics

    def _disc_step(self, fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
        self.disc.train()
        with self._autocast():
            p_real = self.disc_ddp(real).float().clamp(1e-7, 1 - 1e-7)
            p_fake = self.disc_ddp(fake).float().clamp(1e-7, 1 - 1e-7)
            real_loss, fake_loss = -torch.log(p_real).mean(), -torch.log(1 - p_fake).mean()
        self.disc_optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(real_loss + fake_loss).backward()
        self.scaler.step(self.disc_optimizer)
        return {"disc_real": real_loss.item(), "disc_fake": fake_loss.item()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Mean sync loss and L1 over the fixed validation batches (all ranks averaged)."""
        self.generator.eval()
        loader = DataLoader(self.val_data, batch_size=self.config.batch_size, num_workers=self.config.num_workers)
        totals = torch.zeros(3, device=self.device)
        for batch in loader:
            x, indiv_mels, mel, gt = (t.to(self.device) for t in batch)
            with self._autocast():
                g = self.generator(indiv_mels, x)
                totals += torch.stack([sync_loss(self.expert, mel, g), F.l1_loss(g.float(), gt),
                                       torch.ones((), device=self.device)])
        if self.world > 1:
            dist.all_reduce(totals)
        return {"val_sync": (totals[0] / totals[2]).item(), "val_l1": (totals[1] / totals[2]).item()}

    def fit(self) -> dict[str, float]:
        """Train until ``config.steps``; evaluate at step 1 and every ``eval_interval``; returns the last metrics."""
        cfg = self.config
        log = open(self.out / "metrics.jsonl", "a") if self.rank == 0 else None
        bar = progress_bar(total=cfg.steps, initial=self.step, desc=f"wav2lip+{cfg.sync_expert}",
                           disable=self.rank != 0)
        metrics: dict[str, float] = {}
        start = time.perf_counter()
        with log or contextlib.nullcontext():
            for batch in self._batches():
                metrics = self.train_step(batch)
                self.step += 1
                if self.step == 1 or self.step % cfg.eval_interval == 0:
                    metrics.update(self.evaluate())
                    if self.schedule.observe(metrics["val_sync"], self.step) and self.rank == 0:
                        bar.write(f"step {self.step}: val sync loss {metrics['val_sync']:.3f} < "
                                   f"{self.schedule.threshold}: sync weight -> {self.schedule.weight}")
                if self.step % cfg.checkpoint_interval == 0 or self.step == cfg.steps:
                    self.save(checkpoint_path(self.out, self.step))
                metrics.update(step=self.step, seconds=round(time.perf_counter() - start, 3))
                if log:
                    log.write(json.dumps(metrics) + "\n")
                bar.update(1)
                bar.set_postfix(l1=f"{metrics['l1']:.4f}", sync=f"{metrics['sync']:.3f}", w=metrics["sync_weight"])
        bar.close()
        return metrics

    # ------------------------------------------------------------------------------------------------ files
    def save(self, path: Path) -> None:
        if self.rank != 0:
            return
        extra = {"config": asdict(self.config), "schedule": self.schedule.state_dict(),
                 "scaler": self.scaler.state_dict()}
        if self.disc is not None:
            extra.update(disc=self.disc.state_dict(), disc_optimizer=self.disc_optimizer.state_dict())
        tmp = path.with_suffix(".tmp")
        torch.save({"state_dict": self.generator.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "global_step": self.step, "global_epoch": 0, "unisync": extra}, tmp)
        os.replace(tmp, path)

    def load(self, path: str | os.PathLike) -> None:
        """Resume exactly from a checkpoint written by :meth:`save` (same expert kind and GAN setting)."""
        ckpt = torch.load(path, map_location=self.device, weights_only=True)
        extra = ckpt.get("unisync")
        if extra is None:
            raise ValueError(f"{path}: not a checkpoint of this trainer (to start from official weights use "
                             "--init-generator)")
        saved = extra["config"]
        for key in ("sync_expert", "gan", "batch_size", "width"):
            if saved[key] != getattr(self.config, key):
                raise ValueError(f"{path}: was trained with {key}={saved[key]!r}, this run has "
                                 f"{getattr(self.config, key)!r}")
        self.generator.load_state_dict(ckpt["state_dict"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.disc is not None:
            self.disc.load_state_dict(extra["disc"])
            self.disc_optimizer.load_state_dict(extra["disc_optimizer"])
        self.schedule = SyncWeightSchedule.from_state_dict(extra["schedule"])
        self.scaler.load_state_dict(extra["scaler"])
        self.step = int(ckpt["global_step"])


def _init_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def _pick_device(name: str, rank: int) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", rank))
            torch.cuda.set_device(local)
            return torch.device("cuda", local)
        return torch.device("cpu")
    return torch.device(name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m integrations.wav2lip.trainer",
                                     description="Train the Wav2Lip generator with a UniSync or Wav2Lip sync expert.")
    defaults = TrainConfig(data="", out="")
    helps = {
        "data": "clip store with RGB frames (train and val splits)", "out": "run folder (checkpoints, metrics.jsonl)",
        "sync_expert": "unisync or wav2lip", "expert": "UniSync folder, or lipsync_expert.pth for wav2lip",
        "gan": "add the visual-quality discriminator (hq_wav2lip_train)",
        "schedule": "original (0, then 0.01 / 0.03 with GAN once val sync < threshold) or fixed",
        "sync_weight": "weight of the fixed schedule, or the weight after the original schedule's switch",
        "init_generator": "start from a generator checkpoint (e.g. the official wav2lip.pth)",
        "resume": "checkpoint to resume, or 'auto' for the latest in --out",
        "width": "generator channel multiplier: 1 is the published network, < 1 a smaller one for CPU runs",
    }
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        if f.type == "bool":
            parser.add_argument(flag, action="store_true", help=helps.get(f.name))
        elif f.name in ("data", "out"):
            parser.add_argument(flag, required=True, help=helps[f.name])
        else:
            kind = {"int": int, "float": float, "float | None": float}.get(f.type, str)
            parser.add_argument(flag, type=kind, default=default, help=helps.get(f.name, f"default {default}"))
    parser.add_argument("--hq", dest="gan", action="store_true", help="same as --gan")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        trainer = GeneratorTrainer(TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)}))
        final = trainer.fit()
    except (ValueError, FileNotFoundError) as err:
        print(f"wav2lip trainer: error: {err}", file=sys.stderr)
        return 2
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if trainer.rank == 0:
        print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
