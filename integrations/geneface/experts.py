"""The experiment's sync experts, trained with the project's one sampler and trainer (:mod:`train_expert`).

The motion clips are first written into a clip store in the run folder (:func:`write_expert_store`): their motion as
the store's ``coeffs3dmm`` (64 expression coefficients) or ``landmarks`` (68 points) array, their 50 frames/s
features cached under the expert's audio representation, so that :class:`train_expert.windows.WindowSource` reads
exactly the arrays the motion model and the sync losses see. Then:

* UniSync experts (the one the motion model trains against, and the judge) are trained by
  :class:`train_expert.trainer.Trainer` from a :class:`train_expert.config.TrainConfig` (recipe ``unisync`` unless
  told otherwise: clip-grouped batches, margin BCE + multi-way contrastive term, temporal centring, L2, warm-up +
  cosine, validation, checkpoints, best-by-validation export).
* GeneFace's SyncNet is another architecture, which the Trainer does not build; it is trained here with GeneFace's
  objective (plain BCE on its cosine, Adam 5e-4), on pairs of :class:`train_expert.sampling.SyncPairDataset` with the
  shares of the same ``TrainConfig``, and the best state by protocol A on the same validation pairs is kept.

Every share (positives, cross-speaker, other-clip, shifts) means what ``TrainConfig`` and ``docs/training.md`` say.
Margins: the paper's best per audio representation, (0.1, 0.3) for mel features and (0.3, 0.7) for HuBERT.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from einops import rearrange
from torch import nn
from torch.utils.data import DataLoader

from unisync_loss import SampleKind, UniSyncExpert
from unisync_loss.data.clip_store import ClipStore
from unisync_loss.progress import progress_bar
from unisync_loss.representations import create_representation
from unisync_loss.validation import check_choice

from train_expert.config import TrainConfig, make_config
from train_expert.evaluate import protocol_a
from train_expert.sampling import SyncPairDataset
from train_expert.trainer import VAL_SEED_OFFSET, Trainer
from train_expert.windows import WindowSource

from .face_projection import FaceProjection
from .features import AudioFeatureSpec
from .motion_data import MotionClip
from .readers import write_clip_store
from .syncnet import GeneFaceSyncNet

#: The paper's best (same-speaker, cross-speaker) margins for each kind of audio features.
PAPER_MARGINS = {"mel50": (0.1, 0.3), "hubert": (0.3, 0.7)}
#: Seed offset of the test pairs that :func:`pair_accuracy` scores (apart from training and validation seeds).
TEST_SEED_OFFSET = 2_000_003


def visual_spec(motion_shape: tuple[int, ...], mouth_only: bool = False) -> dict[str, Any]:
    """The visual representation of motion frames ``(64,)`` (3DMM) or ``(68, D)`` (landmarks); ``mouth_only`` keeps
    landmarks 48-67, what GeneFace's SyncNet sees."""
    if len(motion_shape) == 1:
        return {"name": "3dmm", "num_coeffs": int(motion_shape[0])}
    if len(motion_shape) != 2:
        raise ValueError(f"motion_shape: expected (C,) coefficients or (K, D) landmarks, got {motion_shape!r}")
    return {"name": "landmarks", "num_points": 20 if mouth_only else int(motion_shape[0]),
            "dims": int(motion_shape[1])}


def write_expert_store(root: str | Path, store: ClipStore, clips: dict[str, list[MotionClip]],
                       spec: AudioFeatureSpec, basis: np.ndarray | None = None) -> ClipStore:
    """``clips`` (split -> motion clips of ``store``) as a fresh clip store at ``root`` for :mod:`train_expert`.

    The waveforms come from ``store``; the clips' own features are cached under ``spec``'s representation, so no
    frontend runs. With ``basis`` (``(64, 68, 3)``, :func:`.face_projection.expression_basis`) coefficient clips
    also get ``landmarks (T, 68, 3)``: their expression landmarks, what landmark experts see of predicted motion.
    An existing folder at ``root`` is replaced.
    """
    if not isinstance(store, ClipStore) or not isinstance(spec, AudioFeatureSpec):
        raise ValueError(f"store, spec: expected a ClipStore and an AudioFeatureSpec, got {type(store).__name__} and "
                         f"{type(spec).__name__}")
    root = Path(root)
    if (root / "store.json").is_file():
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise ValueError(f"root: {root} holds files and is not a clip store; choose another folder")
    triples = [(clip, split, store.load_array(clip.id, "audio", mmap=False))
               for split, split_clips in clips.items() for clip in split_clips]
    expression = None
    if basis is not None:
        project = FaceProjection(basis)
        expression = {clip.id: clip.motion for clip, _, _ in triples}
        with torch.no_grad():
            triples = [(dataclasses.replace(clip, motion=project(torch.from_numpy(clip.motion)).numpy()), split, wave)
                       for clip, split, wave in triples]
    return write_clip_store(root, triples, expression=expression, audio=spec.representation(),
                            info={"source": str(store.root), "features": spec.cache_config()},
                            extra={"motion": "as the audio-to-motion model predicts it",
                                   **({"landmarks": "expression landmarks of the coefficients (no identity, no pose)"}
                                      if basis is not None else {})})


def expert_config(data: str | Path, out: str | Path, spec: AudioFeatureSpec, motion_shape: tuple[int, ...],
                  steps: int, seed: int, **settings: Any) -> TrainConfig:
    """A ``TrainConfig`` for a UniSync expert on a :func:`write_expert_store` store: the audio representation of
    ``spec``, the visual one of ``motion_shape``, the paper's margins for the features, one process, no loader
    workers; ``settings`` override any field (e.g. ``channels``, ``batch_size``, ``recipe``, ``train_split``)."""
    if not isinstance(spec, AudioFeatureSpec):
        raise ValueError(f"spec: expected an AudioFeatureSpec, got {type(spec).__name__}")
    same, cross = PAPER_MARGINS[spec.kind]
    visual = visual_spec(motion_shape)
    eval_every = max(1, steps // 4)
    values = dict(audio="hubert", audio_options={k: v for k, v in spec.representation().items() if k != "name"},
                  visual=visual.pop("name"), visual_options=visual, data=str(data), out=str(out), max_steps=steps,
                  seed=seed, same_margin=same, cross_margin=cross, eval_every=eval_every,
                  checkpoint_every=eval_every, val_pairs=512, num_workers=0)
    return make_config(overrides={**values, **settings})


def train_unisync_expert(config: TrainConfig, progress: bool = True) -> UniSyncExpert:
    """Train with :class:`train_expert.trainer.Trainer` from scratch (a previous run in ``config.out`` is removed
    first, so that the Trainer does not resume it); returns its best-by-validation expert, frozen in eval mode."""
    out = Path(config.out)
    if (out / "config.yaml").is_file():
        shutil.rmtree(out)
    Trainer(config, progress=progress, tensorboard=False).train()
    return UniSyncExpert.from_pretrained(out / "best").eval().requires_grad_(False)


class SyncNetWindows(nn.Module):
    """GeneFace's SyncNet on windows as :class:`~train_expert.windows.WindowSource` gives them (``(N, 10, F)``
    audio, ``(N, 5, *frame_shape)`` motion, flattened to GeneFace's mouth vector), with the ``embed_audio`` /
    ``embed_visual`` pair that :func:`train_expert.evaluate.protocol_a` scores."""

    def __init__(self, syncnet: GeneFaceSyncNet):
        super().__init__()
        self.syncnet = syncnet

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        return self.syncnet.embed_audio(audio)

    def embed_visual(self, visual: torch.Tensor) -> torch.Tensor:
        return self.syncnet.embed_mouth(rearrange(visual, "n t ... -> n t (...)"))


def pair_dataset(config: TrainConfig, visual: dict[str, Any], split: str, length: int, seed: int) -> SyncPairDataset:
    """``length`` pairs of ``split`` of ``config.data`` for the audio of ``config`` and the ``visual`` representation,
    with ``config``'s shares (cross-speaker negatives only when the split has two speakers or more)."""
    store = ClipStore(config.data)
    source = WindowSource(store, create_representation(config.audio_spec(), modality="audio"),
                          create_representation(visual, modality="visual"), split, min_starts=config.min_shift + 1)
    cross = config.cross_share if len(source.clips_of_speaker) > 1 else 0.0
    return SyncPairDataset(source, length, seed=seed, positive_share=config.positive_share, cross_share=cross,
                           other_clip_share=config.other_clip_share, min_shift=config.min_shift,
                           max_shift=config.max_shift)


def train_geneface_syncnet(config: TrainConfig, motion_shape: tuple[int, ...], lr: float = 5e-4,
                           progress: bool = True) -> GeneFaceSyncNet:
    """GeneFace's SyncNet on the pairs ``config`` describes (its store, splits, shares, batch size, steps, seed,
    evaluation interval): BCE on the cosine, Adam at GeneFace's ``lr``; returns the state with the best protocol-A
    validation accuracy, frozen in eval mode."""
    if not lr > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    mouth = visual_spec(motion_shape, mouth_only=True)
    train = pair_dataset(config, mouth, config.train_split, config.samples_per_epoch, config.seed)
    val = pair_dataset(config, mouth, config.val_split, config.val_pairs, config.seed + VAL_SEED_OFFSET)
    torch.manual_seed(config.seed)
    frame = create_representation(mouth, modality="visual").frame_shape
    model = SyncNetWindows(GeneFaceSyncNet(audio_dim=train.source.audio_rep.feature_dim,
                                           mouth_dim=int(np.prod(frame))))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=tuple(config.betas))
    generator = torch.Generator().manual_seed(config.seed)
    loader = DataLoader(train, batch_size=config.batch_size, shuffle=True, drop_last=True, generator=generator)
    best, best_state, step, epoch = -1.0, None, 0, 0
    bar = progress_bar(total=config.max_steps, desc="GeneFace SyncNet", unit="step", disable=not progress)
    while step < config.max_steps:
        train.set_epoch(epoch)
        for batch in loader:
            model.train()
            mouth = rearrange(batch["visual"], "n t ... -> n t (...)")
            loss = model.syncnet.bce_loss(batch["audio"], mouth, batch["kind"] == SampleKind.POSITIVE)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            bar.update(1)
            if step % config.eval_every == 0 or step == config.max_steps:
                accuracy = protocol_a(model, val, batch_size=max(64, config.batch_size))["accuracy"]
                bar.set_postfix(loss=f"{float(loss.detach()):.4f}", val_acc=f"{accuracy:.3f}")
                if accuracy > best:
                    best, best_state = accuracy, copy.deepcopy(model.syncnet.state_dict())
            if step >= config.max_steps:
                break
        epoch += 1
    bar.close()
    model.syncnet.load_state_dict(best_state)
    return model.syncnet.eval().requires_grad_(False)


@torch.no_grad()
def pair_accuracy(expert: nn.Module, config: TrainConfig, motion_shape: tuple[int, ...], split: str = "test",
                  pairs: int = 1024) -> dict[str, float]:
    """Protocol A (accuracy at p > 0.5, AUC) of a UniSync expert or a GeneFace SyncNet on ``pairs`` pairs of
    ``split`` of ``config.data``, drawn with ``config``'s shares: a UniSync expert sees ``config``'s visual
    representation (what it was trained on), the SyncNet the mouth of ``motion_shape``."""
    check_choice(split, "split", ("train", "val", "test"))
    mouth_only = isinstance(expert, GeneFaceSyncNet)
    visual = visual_spec(motion_shape, True) if mouth_only else {"name": config.visual, **config.visual_options}
    dataset = pair_dataset(config, visual, split, pairs, config.seed + TEST_SEED_OFFSET)
    scorer = SyncNetWindows(expert) if mouth_only else expert
    result = protocol_a(scorer, dataset, batch_size=256)
    return {"accuracy": result["accuracy"], "auc": result["auc"]}
