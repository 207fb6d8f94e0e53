"""GeneFace's own trainer with a frozen UniSync expert in place of its landmark SyncNet.

GeneFace builds its task from the YAML key ``task_cls`` (and the postnet its audio-to-motion task from
``audio2motion_task_cls``) through importlib, so a YAML whose ``base_config`` is the user's config and whose
``task_cls`` names a class below swaps the expert without touching GeneFace (``train.sh --geneface-dir`` writes it
from ``configs/``). Both tasks keep GeneFace's sync interface: ``self.syncnet_task.run_model(sample, infer=True,
batch_size=...)['sync_loss']``; here that is UniSync's mean ``-log p`` over the windows that lie inside ``y_mask``.

The expert (hparam ``unisync_expert_dir``) must be a ``hubert``-``landmarks`` UniSync expert on 1024-d features with
3D points: 20 mouth points (GeneFace's ``mouth_idexp_lm3d``) or 68 (then the sample must carry ``idexp_lm3d``).
It holds no parameters of the task (absent from GeneFace's checkpoints and optimizers) and stays in eval mode when
GeneFace's trainer calls ``task.train()`` after each validation.

Import this module with GeneFace's repository on ``sys.path`` (its ``utils``, ``tasks`` and ``modules`` packages).
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from modules.audio2motion.vae import VAEModel  # GeneFace
from tasks.audio2motion.lm3d_vae_sync import VAESyncAudio2MotionTask  # GeneFace
from tasks.postnet.lm3d_postnet_adv_sync import PostnetAdvSyncTask  # GeneFace
from utils.commons.hparams import hparams  # GeneFace's global hyper-parameters

from unisync_loss import UniSyncExpert, UniSyncLoss
from unisync_loss.validation import describe

from .conventions import HUBERT_DIM, HUBERT_PER_VIDEO_FRAME, NUM_LANDMARKS, NUM_MOUTH_POINTS, VIDEO_WINDOW
from .conventions import check_hubert_rate

EXPERT_KEY = "unisync_expert_dir"


class UniSyncSyncNetTask(nn.Module):
    """Stands where GeneFace keeps its ``SyncNetTask``: ``run_model(sample, infer, batch_size)`` -> sync loss."""

    def __init__(self, expert: UniSyncExpert):
        super().__init__()
        audio, visual = expert.audio_rep, expert.visual_rep
        problems = []
        if audio.name != "hubert" or audio.feature_dim != HUBERT_DIM:
            problems.append(f"audio must be hubert with dim {HUBERT_DIM}, got {audio!r}")
        if visual.name != "landmarks" or visual.frame_shape not in ((NUM_MOUTH_POINTS, 3), (NUM_LANDMARKS, 3)):
            problems.append(f"visual must be 3D landmarks of 20 (mouth) or 68 points, got {visual!r}")
        if problems:
            raise ValueError(f"{EXPERT_KEY}: this expert does not fit GeneFace's data: {'; '.join(problems)}")
        self.num_points = visual.frame_shape[0]
        self.loss = UniSyncLoss("hubert", "landmarks", expert=expert, reduction="none")

    def train(self, mode: bool = True) -> "UniSyncSyncNetTask":
        """Ignore GeneFace's ``task.train()``: the expert is frozen and stays in eval mode."""
        return super().train(False)

    def run_model(self, sample: dict, infer: bool = False, batch_size: int | None = None):
        """``sample``: ``hubert (B, T_a, 1024)``, ``mouth_idexp_lm3d (B, T, 60)`` or ``idexp_lm3d (B, T, 204)``,
        ``y_mask (B, T)``. Returns ``{'sync_loss': scalar}`` when ``infer``, else ``(losses, {'cosine_sim': p})``.

        ``batch_size`` (GeneFace's number of random windows) is ignored: every window is scored.
        """
        key = "mouth_idexp_lm3d" if self.num_points == NUM_MOUTH_POINTS else "idexp_lm3d"
        if key not in sample:
            raise ValueError(f"sample: a {self.num_points}-point expert needs '{key}', but the sample has "
                             f"{sorted(sample)}; use a 20-point (mouth) expert with GeneFace's audio-to-motion task")
        visual = sample[key]
        if visual.ndim != 3 or visual.shape[-1] != 3 * self.num_points:
            raise ValueError(f"sample['{key}']: expected (B, T, {3 * self.num_points}), got {describe(visual)}")
        visual = rearrange(visual, "b t (k d) -> b t k d", d=3)
        hubert, mask = sample["hubert"], sample["y_mask"].to(visual.dtype)
        frames = visual.shape[1]
        check_hubert_rate(hubert.shape[1], frames, "sample['hubert']")
        hubert = _fit_length(hubert, HUBERT_PER_VIDEO_FRAME * frames)
        p = self.loss.sync_probability(hubert, visual)  # (B, T - 4)
        valid = mask.unfold(1, VIDEO_WINDOW, 1).amin(-1)
        if not bool(valid.any()):
            raise ValueError(f"sample['y_mask']: no run of {VIDEO_WINDOW} valid frames in {describe(mask)}")
        sync_loss = (-torch.log(p.clamp_min(self.loss.eps)) * valid).sum() / valid.sum()
        if infer:
            return {"sync_loss": sync_loss}
        return {"sync_loss": sync_loss}, {"cosine_sim": p[valid > 0]}


def _fit_length(x: torch.Tensor, length: int) -> torch.Tensor:
    if x.shape[1] >= length:
        return x[:, :length]
    return torch.cat([x, x.new_zeros(x.shape[0], length - x.shape[1], *x.shape[2:])], dim=1)


def build_unisync_syncnet_task() -> UniSyncSyncNetTask:
    """The frozen UniSync expert named by ``hparams['unisync_expert_dir']``."""
    directory = hparams.get(EXPERT_KEY)
    if not directory:
        raise ValueError(f"hparams: '{EXPERT_KEY}' is not set; it must name a UniSync expert folder "
                         "(config.json + model.safetensors)")
    return UniSyncSyncNetTask(UniSyncExpert.from_pretrained(directory))


class UniSyncAudio2MotionTask(VAESyncAudio2MotionTask):
    """GeneFace's audio-to-motion VAE task, supervised by UniSync instead of GeneFace's SyncNet."""

    def build_model(self):
        self.syncnet_task = build_unisync_syncnet_task()
        self.model = VAEModel(in_out_dim=NUM_LANDMARKS * 3)  # the model GeneFace's task builds
        return self.model


class UniSyncPostnetTask(PostnetAdvSyncTask):
    """GeneFace's post-net task, with UniSync as its sync expert."""

    def build_syncnet_task(self):
        self.syncnet_task = build_unisync_syncnet_task()
        return self.syncnet_task
