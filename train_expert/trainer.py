"""The training loop: margin BCE + L2 on sync probabilities, Adam, warm-up + cosine decay, AMP, DDP, checkpoints.

Objective: :class:`~unisync_loss.MarginBCELoss` with margins (positive, same, cross) = (0, ``same_margin``,
``cross_margin``) on ``p = cos(relu(a), relu(v))``, plus ``l2_penalty(model, l2_weight)``. With ``batching`` "pairs"
the pairs are independent (:class:`~train_expert.sampling.SyncPairDataset`, the paper's recipe); with "clips" a batch
holds several windows of each of a few clips (:class:`~train_expert.clip_batches.ClipGroupBatches`), the margin BCE
takes its positives and negatives from the batch's all-pairs matrix, and ``contrastive_weight`` adds the multi-way
contrastive term (:mod:`train_expert.objectives`). ``max_minutes`` bounds the wall-clock training time: the run then
stops, evaluates and exports as at ``max_steps``, and the cosine follows elapsed time when that is ahead of the steps.
Adam with ``lr`` and
``betas`` (defaults 5e-4 and (0.9, 0.999)); the gradient norm is clipped to ``grad_clip``; the learning rate warms up
linearly over ``warmup_steps`` and decays along a cosine to ``lr * min_lr_ratio`` at ``max_steps``.

Data parallel: start with ``torchrun --nproc_per_node N -m train_expert ...``; ``batch_size`` is the global batch,
split evenly over ranks. Rank 0 logs, evaluates and writes files. ``OUT/checkpoints/last.pt`` (atomic, every
``checkpoint_every`` steps) holds model, optimizer, scheduler, grad scaler, every rank's RNG state and the data
position (epoch, batches done), so that a run restarted with the same ``--out`` continues the same trajectory.
The best expert by validation accuracy (protocol A) is exported to ``OUT/best`` (``UniSyncExpert.from_pretrained``).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from unisync_loss import (MarginBCELoss, SampleKind, UniSyncExpert, install_expert, l2_penalty,
                          pairwise_sync_probability, sync_probability)
from unisync_loss.audio.features import precompute_features
from unisync_loss.data import ClipStore

from .clip_batches import ClipGroupBatches
from .checkpointing import LAST_NAME, atomic_save, export_expert, load_checkpoint, rng_state, set_rng_state
from .config import TrainConfig, save_config
from .distributed import DistContext, all_gather_objects, barrier, broadcast_buffers, broadcast_object, init_distributed
from .evaluate import protocol_a
from .monitor import Monitor
from .objectives import balanced_pairs, multiway_contrastive, pair_kinds
from .sampling import ResumableDistributedSampler, SyncPairDataset
from .schedule import warmup_cosine
from .windows import WindowSource

#: Seed offset of the fixed validation pairs (kept apart from the training pairs' seeds).
VAL_SEED_OFFSET = 1_000_003


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device`` (None = full precision)."""
    if amp == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    return {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]


class Trainer:
    """One training run of ``config`` (resumes from ``OUT/checkpoints/last.pt`` when it exists).

    Args:
        config: the resolved configuration.
        ctx: process placement (default: from the ``torchrun`` environment).
        progress: show progress bars (rank 0 only).
        tensorboard: write TensorBoard scalars (rank 0 only).
    """

    def __init__(self, config: TrainConfig, ctx: DistContext | None = None, progress: bool = True,
                 tensorboard: bool = True):
        self.config = config.validate()
        if not config.data or not config.out:
            raise ValueError(f"data, out: expected a clip store and an output folder, got {config.data!r}, {config.out!r}")
        self.ctx = ctx or init_distributed(config.device)
        self.out = Path(config.out)
        if config.batch_size % self.ctx.world_size:
            raise ValueError(f"batch_size: {config.batch_size} does not split evenly over {self.ctx.world_size} ranks")
        self.per_rank_batch = config.batch_size // self.ctx.world_size
        device = self.device = self.ctx.device
        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        torch.manual_seed(config.seed)
        self.model = UniSyncExpert(config.audio_spec(), config.visual_spec(), channels=config.channels,
                                   embed_dim=config.embed_dim).to(device)
        if config.init_from:
            self._initialise(Path(config.init_from))
        self._build_data(ClipStore(config.data), progress)
        self.net = DistributedDataParallel(self.model) if self.ctx.distributed else self.model
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=tuple(config.betas))
        self.elapsed = 0.0  # seconds of training (loop time) so far, kept across resumes
        self._time_up = False
        budget = config.max_minutes * 60.0
        self.scheduler = warmup_cosine(self.optimizer, config.warmup_steps, config.max_steps, config.min_lr_ratio,
                                       time_fraction=(lambda: self.elapsed / budget) if budget else None)
        self.amp_dtype = resolve_amp(config.amp, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp_dtype == torch.float16)
        self.loss_fn = MarginBCELoss(0.0, config.same_margin, config.cross_margin).to(device)
        self.step, self.epoch, self.batches_done = 0, 0, 0
        self.best_accuracy, self.history = -1.0, []
        self.resumed_from: int | None = None
        if self.ctx.is_main:
            save_config(config, self.out)
        self._resume()
        self.monitor = Monitor(self.out, self.ctx.is_main, config.max_steps, self.step, config.chance_check_steps,
                               tensorboard=tensorboard, progress=progress)
        self._diagnostics: dict[str, float] = {}

    # ------------------------------------------------------------------------------------------------ set-up
    def _build_data(self, store: ClipStore, progress: bool) -> None:
        c = self.config
        arep, vrep = self.model.audio_rep, self.model.visual_rep
        if self.ctx.is_main:
            ids = store.clip_ids(c.train_split) + store.clip_ids(c.val_split)
            precompute_features(store, arep, ids, device=self.device, progress=progress)
        barrier(self.ctx)
        shares = dict(positive_share=c.positive_share, other_clip_share=c.other_clip_share, min_shift=c.min_shift,
                      max_shift=c.max_shift)
        clips = c.batching == "clips"
        min_starts = max(c.min_shift + 1, c.windows_per_clip if clips else 0)
        train_source = WindowSource(store, arep, vrep, c.train_split, min_starts=min_starts)
        if clips:
            self.train_set = ClipGroupBatches(train_source, max(1, c.samples_per_epoch // c.batch_size) * self.ctx.world_size,
                                              c.clips_per_batch(self.ctx.world_size), c.windows_per_clip, seed=c.seed)
        else:
            self.train_set = SyncPairDataset(train_source, c.samples_per_epoch, seed=c.seed,
                                             cross_share=c.cross_share, **shares)
        val_source = WindowSource(store, arep, vrep, c.val_split, min_starts=c.min_shift + 1)
        val_cross = c.cross_share if len(val_source.clips_of_speaker) > 1 else 0.0
        self.val_set = SyncPairDataset(val_source, c.val_pairs, seed=c.seed + VAL_SEED_OFFSET, cross_share=val_cross,
                                       **shares)
        items_per_step = 1 if clips else self.per_rank_batch  # a clip-batch item is a whole batch
        self.sampler = ResumableDistributedSampler(self.train_set, self.ctx.world_size, self.ctx.rank,
                                                   items_per_step, seed=c.seed)
        self.steps_per_epoch = len(self.sampler.inner) // items_per_step
        if self.steps_per_epoch < 1:
            raise ValueError(f"samples_per_epoch: {c.samples_per_epoch} gives no full batch of {c.batch_size}")
        cuda = self.device.type == "cuda"
        self.loader = DataLoader(self.train_set, batch_size=None if clips else self.per_rank_batch,
                                 sampler=self.sampler, num_workers=c.num_workers, pin_memory=c.pin_memory and cuda,
                                 drop_last=not clips)

    def _initialise(self, directory: Path) -> None:
        """Start from the weights of the expert in ``directory`` (same pair and architecture)."""
        source = UniSyncExpert.from_pretrained(directory)
        differ = sorted(k for k in set(source.config) | set(self.model.config)
                        if not k.startswith("_") and k != "unisync_version"
                        and source.config.get(k) != self.model.config.get(k))
        if differ:
            raise ValueError(f"init_from: {directory} holds an expert whose settings differ from this run's in "
                             f"{differ}: {[source.config.get(k) for k in differ]} vs "
                             f"{[self.model.config.get(k) for k in differ]}")
        self.model.load_state_dict(source.state_dict())

    def _resume(self) -> None:
        path = self.out / "checkpoints" / LAST_NAME
        if not path.is_file():
            return
        state = load_checkpoint(path)
        saved = state["config"]
        if (saved["audio"], saved["visual"]) != (self.config.audio, self.config.visual):
            raise ValueError(f"{path}: belongs to a {saved['audio']}-{saved['visual']} run, not "
                             f"{self.config.audio}-{self.config.visual}; choose another --out")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        rngs = state["rng"]
        set_rng_state(rngs[self.ctx.rank] if self.ctx.rank < len(rngs) else rngs[0])
        self.step, self.epoch, self.batches_done = state["step"], state["epoch"], state["batches_done"]
        self.best_accuracy, self.history = state["best_accuracy"], state["history"]
        self.elapsed = state.get("elapsed", 0.0)
        self.resumed_from = self.step

    # ------------------------------------------------------------------------------------------------ loop
    def train(self) -> dict[str, Any]:
        """Train to ``max_steps`` or ``max_minutes``; returns a summary (steps, best accuracy, throughput, history)."""
        c = self.config
        train_time, data_time, samples = 0.0, 0.0, 0
        try:
            while not self._done():
                self.sampler.set_position(self.epoch, self.batches_done)
                self.train_set.set_epoch(self.epoch)
                tick = time.perf_counter()
                for batch in self.loader:
                    loaded = time.perf_counter()
                    values = self._train_step(batch, log=self._due(c.log_every))
                    self.step += 1
                    self.batches_done += 1
                    now = time.perf_counter()
                    data_time += loaded - tick
                    train_time += now - tick
                    self.elapsed += now - tick
                    samples += c.batch_size
                    self._check_time()
                    self.monitor.step(self.step, values, log=bool(values))
                    if self.step >= c.chance_check_steps and not self.monitor.warned and values:
                        self.monitor.check_chance(self.step, self._diagnostics)
                    self._after_step()
                    if self._done():
                        break
                    tick = time.perf_counter()
                else:
                    self.epoch, self.batches_done = self.epoch + 1, 0
        finally:
            self.monitor.close()
        self._finish()
        return {
            "steps": self.step, "best_accuracy": self.best_accuracy, "history": self.history,
            "samples_per_second": samples / train_time if train_time else float("nan"),
            "data_wait_share": data_time / train_time if train_time else float("nan"),
            "resumed_from": self.resumed_from, "out": str(self.out), "elapsed_minutes": self.elapsed / 60.0,
            "stopped_by": "time" if self._time_up else "steps",
        }

    def _done(self) -> bool:
        return self.step >= self.config.max_steps or self._time_up

    def _check_time(self) -> None:
        """Set ``_time_up`` once ``max_minutes`` of training have passed (rank 0 decides for every rank)."""
        if not self.config.max_minutes:
            return
        up = self.elapsed >= self.config.max_minutes * 60.0
        self._time_up = bool(broadcast_object(self.ctx, up)) if self.ctx.distributed else up

    def _due(self, every: int) -> bool:
        next_step = self.step + 1
        return next_step % every == 0 or next_step == self.config.max_steps

    def _objective(self, batch: dict[str, torch.Tensor], a: torch.Tensor, v: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(loss, p, kind)`` of a batch: the margin BCE (+ the contrastive term on clip batches); ``p`` and ``kind``
        are the pairs the BCE saw."""
        c, dev = self.config, self.device
        if c.batching == "pairs":
            kind = batch["kind"].to(dev, non_blocking=True)
            p = sync_probability(a, v)
            return self.loss_fn(p, kind), p, kind
        kinds = pair_kinds(*(batch[k].to(dev) for k in ("clip", "start", "speaker")), min_shift=c.min_shift)
        similarity = pairwise_sync_probability(a, v)  # (visual i, audio j)
        generator = torch.Generator().manual_seed(c.seed * 1_000_003 + self.step * 97 + self.ctx.rank)
        p, kind = balanced_pairs(similarity, kinds, c.cross_share, generator)
        loss = self.loss_fn(p, kind)
        if c.contrastive_weight > 0:
            loss = loss + c.contrastive_weight * multiway_contrastive(similarity, kinds, c.temperature)
        return loss, p, kind

    def _train_step(self, batch: dict[str, torch.Tensor], log: bool) -> dict[str, float]:
        c, dev = self.config, self.device
        self.net.train()
        audio = batch["audio"].to(dev, non_blocking=True)
        visual = batch["visual"].to(dev, non_blocking=True)
        autocast = torch.autocast(dev.type, dtype=self.amp_dtype) if self.amp_dtype else nullcontext()
        with autocast:
            a, v = self.net(audio, visual)
        loss, p, kind = self._objective(batch, a, v)
        if c.l2_weight > 0:
            loss = loss + l2_penalty(self.model, c.l2_weight)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if not (log and self.ctx.is_main):
            return {}
        with torch.no_grad():
            positive = kind == SampleKind.POSITIVE
            bce = F.binary_cross_entropy(p.clamp(1e-6, 1 - 1e-6), positive.float())
            self._diagnostics = batch_diagnostics(a, v, p, positive, grad_norm, self.scheduler.get_last_lr()[0])
        return {"loss": float(loss.detach()), "bce": float(bce), "accuracy": float(((p > 0.5) == positive).float().mean()),
                "lr": self._diagnostics["lr"], "grad_norm": self._diagnostics["grad_norm"],
                "p_gap": self._diagnostics["p_gap"]}

    def _after_step(self) -> None:
        c = self.config
        at_end = self._done()
        evaluate, save = self.step % c.eval_every == 0 or at_end, self.step % c.checkpoint_every == 0 or at_end
        if evaluate or save:
            broadcast_buffers(self.ctx, self.model)
        if evaluate:
            self._evaluate()
        if save:
            self.save_checkpoint()

    def _evaluate(self) -> None:
        if self.ctx.is_main:
            result = protocol_a(self.model, self.val_set, batch_size=max(64, self.per_rank_batch), device=self.device)
            entry = {"step": self.step, **{k: v for k, v in result.items() if isinstance(v, float)}}
            self.history.append(entry)
            self.monitor.evaluation(self.step, result)
            if result["accuracy"] > self.best_accuracy:
                self.best_accuracy = result["accuracy"]
                export_expert(self.model, self.out / "best")
        self.best_accuracy = broadcast_object(self.ctx, self.best_accuracy)
        self.history = broadcast_object(self.ctx, self.history)

    def save_checkpoint(self) -> Path:
        """Write ``OUT/checkpoints/last.pt`` atomically (rank 0; every rank contributes its RNG state)."""
        rngs = all_gather_objects(self.ctx, rng_state())
        path = self.out / "checkpoints" / LAST_NAME
        if self.ctx.is_main:
            atomic_save({
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(), "rng": rngs,
                "step": self.step, "epoch": self.epoch, "batches_done": self.batches_done,
                "best_accuracy": self.best_accuracy, "history": self.history, "config": self.config.to_dict(),
                "elapsed": self.elapsed,
            }, path)
        barrier(self.ctx)
        return path

    def _finish(self) -> None:
        if self.ctx.is_main and self.config.install and (self.out / "best").is_dir():
            target = install_expert(UniSyncExpert.from_pretrained(self.out / "best"), self.config.install_home)
            print(f"installed the best expert at {target}")
        barrier(self.ctx)


@torch.no_grad()
def batch_diagnostics(a: torch.Tensor, v: torch.Tensor, p: torch.Tensor, positive: torch.Tensor,
                      grad_norm: torch.Tensor, lr: float) -> dict[str, float]:
    """Numbers the chance-level check reads (see :func:`train_expert.monitor.chance_advice`)."""
    spread, dead = [], []
    for e in (a, v):
        r = F.relu(e.float())
        dead.append(float((r.abs().sum(dim=1) == 0).float().mean()))
        spread.append(float(F.normalize(r, dim=1, eps=1e-8).std(dim=0).mean()))
    gap = float(p[positive].mean() - p[~positive].mean()) if positive.any() and (~positive).any() else 0.0
    return {"embedding_spread": min(spread), "dead_embeddings": max(dead), "p_gap": gap, "p_mean": float(p.mean()),
            "lr": float(lr), "grad_norm": float(grad_norm)}
