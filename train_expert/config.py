"""Training configuration: a dataclass, a YAML file whose values the command line overrides, saved resolved.

Precedence: dataclass defaults < YAML file (``--config``) < command-line flags. The resolved configuration is written
as ``config.yaml`` in the output folder, next to the checkpoints, so every run says exactly how it was trained.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from unisync_loss.representations import list_representations
from unisync_loss.validation import check_choice

RESOLVED_NAME = "config.yaml"

#: Named recipes: settings applied over the dataclass defaults (which are the ``unisync`` recipe) and under the YAML
#: file and command line. ``paper`` is the paper's recipe alone (independent pairs, margin BCE + L2, no additions);
#: ``wav2lip`` trains the way Wav2Lip trains its expert (plain BCE, negatives from the same clip at any shift of 1+
#: frames, Adam at 1e-4 without schedule or L2).
RECIPES: dict[str, dict[str, Any]] = {
    "unisync": {},
    "paper": dict(batching="pairs", contrastive_weight=0.0, temporal_centring=False),
    "wav2lip": dict(batching="pairs", contrastive_weight=0.0, temporal_centring=False, same_margin=0.0,
                    cross_margin=0.0, cross_share=0.0, other_clip_share=0.0, min_shift=1, max_shift=100, lr=1e-4,
                    l2_weight=0.0, warmup_steps=0, min_lr_ratio=1.0),
}


@dataclass
class TrainConfig:
    """Every setting of a training run. Units: steps are optimizer steps; batch sizes count pairs over all ranks."""

    # what to train
    recipe: str = "unisync"  # a name from RECIPES: its settings replace these defaults (YAML and flags override them)
    audio: str = "mel"
    visual: str = "rgb"
    audio_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"model": "DIR", "dim": 768} for hubert
    visual_options: dict[str, Any] = field(default_factory=dict)
    channels: int = 128
    embed_dim: int = 512
    init_from: str = ""  # expert folder (save_pretrained) whose weights start a new run: fine-tuning (same pair/config)
    # where
    data: str = ""
    out: str = ""
    train_split: str = "train"
    val_split: str = "val"
    # sampling
    positive_share: float = 0.5  # share of positives in the training pairs (balanced by default)
    cross_share: float = 0.2  # share of the negatives whose audio comes from another speaker
    other_clip_share: float = 0.5  # share of same-speaker negatives taken from another clip of the speaker
    min_shift: int = 2  # smallest |offset| (video frames) of a shifted same-clip negative
    max_shift: int = 15  # largest |offset| of a shifted same-clip negative
    samples_per_epoch: int = 12800
    batching: str = "clips"  # "clips": windows_per_clip windows of each of batch_size / windows_per_clip clips, every
    #                          audio scored against every visual window; "pairs": independent pairs (the paper's)
    windows_per_clip: int = 8
    # objective and optimiser
    same_margin: float = 0.1
    cross_margin: float = 0.3
    l2_weight: float = 1e-6
    contrastive_weight: float = 1.0  # weight of the multi-way contrastive term (clip batches only; 0 = off)
    temperature: float = 0.07  # of the contrastive softmax over cosine similarities
    temporal_centring: bool = True  # visual stems subtract each window's mean frame (a representation option)
    lr: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = 64
    grad_clip: float = 5.0
    warmup_steps: int = 100
    max_steps: int = 5000
    max_minutes: float = 0.0  # wall-clock training budget (0 = none): stop, evaluate and export after this long
    min_lr_ratio: float = 0.05  # cosine decay ends at lr * min_lr_ratio
    # machinery
    amp: str = "auto"  # "auto" (bf16 on CUDA when supported, off on CPU), "none", "bf16", "fp16"
    device: str = "auto"
    num_workers: int = 2
    num_threads: int = 0  # intra-op CPU threads of each process (0 = torch's default); 1 is fastest on a busy CPU
    pin_memory: bool = True  # used only with CUDA
    seed: int = 0
    log_every: int = 10
    eval_every: int = 250
    checkpoint_every: int = 250
    val_pairs: int = 1024
    chance_check_steps: int = 500  # warn if the loss is still at chance (0.693) after this many steps
    install: bool = False
    install_home: str | None = None

    def validate(self) -> "TrainConfig":
        """Raise ``ValueError`` naming the first bad setting."""
        check_choice(self.audio, "audio", list_representations("audio"))
        check_choice(self.visual, "visual", list_representations("visual"))
        check_choice(self.amp, "amp", ("auto", "none", "bf16", "fp16"))
        check_choice(self.recipe, "recipe", sorted(RECIPES))
        check_choice(self.batching, "batching", ("clips", "pairs"))
        if self.batching == "pairs" and self.contrastive_weight > 0:
            raise ValueError(f"contrastive_weight: the contrastive term needs batching 'clips', got batching 'pairs' "
                             f"with contrastive_weight {self.contrastive_weight}; set it to 0")
        if not self.contrastive_weight >= 0 or not self.temperature > 0 or not self.max_minutes >= 0:
            raise ValueError(f"contrastive_weight, temperature, max_minutes: expected >= 0, > 0, >= 0, got "
                             f"{self.contrastive_weight}, {self.temperature}, {self.max_minutes}")
        if self.batching == "clips" and (self.windows_per_clip < 2 or self.batch_size % self.windows_per_clip):
            raise ValueError(f"windows_per_clip: expected >= 2 and a divisor of batch_size ({self.batch_size}), got "
                             f"{self.windows_per_clip!r}")
        for name in ("audio_options", "visual_options"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name}: expected a mapping of representation options, got {getattr(self, name)!r}")
        for name in ("positive_share", "cross_share", "other_clip_share"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a share in [0, 1], got {value!r}")
        if not 0.0 < self.positive_share < 1.0:
            raise ValueError(f"positive_share: expected a value strictly between 0 and 1, got {self.positive_share!r}")
        for name in ("same_margin", "cross_margin"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name}: expected a margin in [0, 1), got {getattr(self, name)!r}")
        ints = ("channels", "embed_dim", "batch_size", "max_steps", "samples_per_epoch", "log_every", "eval_every",
                "checkpoint_every", "val_pairs", "min_shift", "max_shift", "chance_check_steps")
        for name in ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if self.max_shift < self.min_shift:
            raise ValueError(f"max_shift: expected >= min_shift ({self.min_shift}), got {self.max_shift}")
        if self.warmup_steps < 0 or self.num_workers < 0 or self.num_threads < 0:
            raise ValueError(f"warmup_steps, num_workers, num_threads: expected >= 0, got {self.warmup_steps}, "
                             f"{self.num_workers}, {self.num_threads}")
        if not self.lr > 0 or self.grad_clip <= 0 or self.l2_weight < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(
                f"lr, grad_clip, l2_weight, min_lr_ratio: expected lr > 0, grad_clip > 0, l2_weight >= 0, "
                f"min_lr_ratio in [0, 1], got {self.lr}, {self.grad_clip}, {self.l2_weight}, {self.min_lr_ratio}"
            )
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas: expected two values in [0, 1), got {self.betas!r}")
        if self.samples_per_epoch < self.batch_size:
            raise ValueError(f"samples_per_epoch: expected >= batch_size ({self.batch_size}), got {self.samples_per_epoch}")
        return self

    def clips_per_batch(self, world_size: int = 1) -> int:
        """Clips in one rank's batch when ``batching`` is "clips"."""
        return self.batch_size // world_size // self.windows_per_clip

    def audio_spec(self) -> dict[str, Any]:
        """Audio representation config ``{"name": ..., **options}``."""
        return {"name": self.audio, **self.audio_options}

    def visual_spec(self) -> dict[str, Any]:
        """Visual representation config ``{"name": ..., **options}`` (``temporal_centring`` from the setting of that
        name unless the options set it)."""
        return {"name": self.visual, "temporal_centring": self.temporal_centring, **self.visual_options}

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["betas"] = list(self.betas)
        return data


def config_fields() -> dict[str, dataclasses.Field]:
    """The dataclass fields by name (used to build the command line)."""
    return {f.name: f for f in fields(TrainConfig)}


def make_config(file: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Defaults, then the recipe's settings, then the YAML ``file``'s values, then ``overrides`` (``None`` values are
    ignored); validated. The recipe is named in the file or the overrides (default ``unisync``)."""
    values: dict[str, Any] = {}
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"config: no such YAML file {path}")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"config: {path} must hold a mapping of settings, got {type(loaded).__name__}")
        values.update(loaded)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    recipe = values.get("recipe", "unisync")
    check_choice(recipe, "recipe", sorted(RECIPES))
    values = {**RECIPES[recipe], **values}
    known = config_fields()
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"config: unknown settings {unknown}; known: {sorted(known)}")
    if "betas" in values:
        values["betas"] = tuple(float(b) for b in values["betas"])
    return TrainConfig(**values).validate()


def save_config(config: TrainConfig, directory: str | Path) -> Path:
    """Write the resolved config as ``config.yaml`` in ``directory``."""
    path = Path(directory) / RESOLVED_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    return path


def load_saved_config(directory: str | Path) -> TrainConfig:
    """Read back a resolved ``config.yaml``."""
    return make_config(Path(directory) / RESOLVED_NAME)
