"""``UniSyncLoss``: a frozen UniSync expert as a differentiable lip-sync loss.

    sync = UniSyncLoss("hubert", "3dmm")      # finds the expert by name (user home, then shipped), or checkpoint=DIR
    loss = sync(audio, coeffs)                # scalar, differentiable w.r.t. coeffs

Audio is a 16 kHz waveform ``(B, S)`` or precomputed features ``(B, T_a, F)``; visual is a sequence
``(B, T, *frame_shape)`` with ``T >= 5`` at 25 fps. The sequence is cut into 0.2 s windows (stride configurable),
each window's audio taken at the matching time; the loss is the mean of ``-log p`` over windows.
"""

from __future__ import annotations

import os

import torch
from einops import rearrange

from .checkpoints import load_expert
from .expert import UniSyncExpert, sync_probability
from .frozen import FrozenHolder
from .representations import SAMPLE_RATE
from .timing import audio_frames_needed, audio_window_indices
from .validation import check_choice, check_finite, check_floating, check_positive_int, check_rank, check_same_batch
from .validation import describe


class UniSyncLoss(FrozenHolder):
    """Frozen-expert sync loss.

    Args:
        audio_rep, visual_rep: representation names, e.g. ``"mel", "rgb"``.
        checkpoint: checkpoint folder; ``None`` loads the user's ``$UNISYNC_HOME/experts/<audio>-<visual>`` or
            else the expert shipped with the package (``unisync experts`` lists them).
        expert: an already built :class:`UniSyncExpert` (instead of a checkpoint).
        stride: video frames between consecutive windows.
        reduction: "mean" (default), "sum" or "none" (per-window values ``(B, N)``).
        check_values: "cpu" (read values only for CPU tensors, so CUDA never synchronises), "always" or "never".
        eps: probabilities are clamped to ``[eps, 1]`` before the log.

    The expert is held by :class:`~unisync_loss.frozen.FrozenHolder`, not registered: it is absent from ``parameters()`` and ``state_dict()`` of any model
    that holds this loss, so no optimizer sees it; it follows ``.to()``/``.cuda()``; it stays in eval mode.
    """

    def __init__(self, audio_rep: str = "mel", visual_rep: str = "rgb", checkpoint: str | os.PathLike | None = None,
                 *, expert: UniSyncExpert | None = None, stride: int = 1, reduction: str = "mean",
                 check_values: str = "cpu", eps: float = 1e-6):
        super().__init__()
        check_choice(reduction, "reduction", ("mean", "sum", "none"))
        check_choice(check_values, "check_values", ("cpu", "always", "never"))
        check_positive_int(stride, "stride")
        if expert is None:
            expert = load_expert(audio_rep, visual_rep, checkpoint)
        elif not isinstance(expert, UniSyncExpert):
            raise ValueError(f"expert: expected a UniSyncExpert, got {describe(expert)}")
        elif (expert.audio_rep.name, expert.visual_rep.name) != (audio_rep, visual_rep):
            raise ValueError(f"expert: is a {expert.pair} expert, but {audio_rep}-{visual_rep} was asked for")
        self.stride, self.reduction, self.check_values, self.eps = stride, reduction, check_values, eps
        self.hold("expert", expert)

    @property
    def expert(self) -> UniSyncExpert:
        """The frozen expert (not a registered submodule)."""
        return self.held("expert")

    # ------------------------------------------------------------------------------------------------ public
    def forward(self, audio: torch.Tensor, visual: torch.Tensor, sample_rate: int | None = None) -> torch.Tensor:
        """Mean (or per-window) ``-log p``. ``audio`` ``(B, S)`` waveform or ``(B, T_a, F)`` features."""
        p = self.sync_probability(audio, visual, sample_rate)
        loss = -torch.log(p.clamp_min(self.eps))
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()

    def sync_probability(self, audio: torch.Tensor, visual: torch.Tensor,
                         sample_rate: int | None = None) -> torch.Tensor:
        """Per-window sync probabilities ``(B, N)`` in [0, 1], ``N = (T - 5) // stride + 1``."""
        a, v = self.window_embeddings(audio, visual, sample_rate)
        b = visual.shape[0]
        return rearrange(sync_probability(a, v), "(b n) -> b n", b=b)

    def window_embeddings(self, audio: torch.Tensor, visual: torch.Tensor,
                          sample_rate: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Audio and visual embeddings of every window, ``(B * N, E)`` each."""
        expert = self.expert
        vrep, arep = expert.visual_rep, expert.audio_rep
        visual = vrep.prepare(visual, "visual")
        b, t = visual.shape[:2]
        if t < vrep.window:
            raise ValueError(f"visual: expected at least {vrep.window} frames (0.2 s at 25 fps), got {describe(visual)}")
        features = self.audio_features(audio, t, sample_rate)
        check_same_batch(features, "audio", visual, "visual")
        if self._should_check(visual):
            vrep.check_values(visual, "visual")
        visual_windows = rearrange(visual.unfold(1, vrep.window, self.stride), "b n ... w -> (b n) w ...")
        n = visual_windows.shape[0] // b
        starts = torch.arange(n, device=visual.device) * self.stride
        index = audio_window_indices(starts, vrep.rate, arep.rate, arep.window)  # (N, window)
        audio_windows = rearrange(features[:, index], "b n w f -> (b n) w f")
        return expert(audio_windows, visual_windows)

    def audio_features(self, audio: torch.Tensor, num_video_frames: int,
                       sample_rate: int | None = None) -> torch.Tensor:
        """Validated features ``(B, T_a, F)`` covering ``num_video_frames`` video frames (computed from a waveform)."""
        arep, vrep = self.expert.audio_rep, self.expert.visual_rep
        check_rank(audio, "audio", (2, 3, 4), f"(B, S) waveform at 16 kHz or {arep.layout} features")
        check_floating(audio, "audio")
        seconds = num_video_frames / vrep.rate
        if audio.ndim == 2:
            audio = self._waveform_features(audio, seconds, sample_rate)
        elif sample_rate is not None:
            raise ValueError(f"sample_rate: only meaningful for a waveform (B, S), but audio is {describe(audio)}")
        features = arep.prepare(audio, "audio")
        needed = audio_frames_needed(num_video_frames, vrep.rate, arep.rate, self.stride)
        allowed = needed + int(arep.rate / vrep.rate) + 2
        if not needed <= features.shape[1] <= allowed:
            raise ValueError(
                f"audio: {num_video_frames} video frames ({seconds:.3f} s) need {needed} {arep.name} frames at "
                f"{arep.rate:g}/s (up to {allowed} accepted), got {features.shape[1]} in {describe(audio)}; "
                "cut audio and video to the same span"
            )
        if self._should_check(features):
            arep.check_values(features, "audio")
        return features

    # ------------------------------------------------------------------------------------------------ helpers
    def _waveform_features(self, wave: torch.Tensor, seconds: float, sample_rate: int | None) -> torch.Tensor:
        if self._should_check(wave):
            check_finite(wave, "audio")
        if sample_rate is not None and sample_rate != SAMPLE_RATE:
            from .audio.resample import resample

            wave = resample(wave, sample_rate, SAMPLE_RATE)
        expected = seconds * SAMPLE_RATE
        if abs(wave.shape[1] - expected) > SAMPLE_RATE / self.expert.visual_rep.rate:
            told = f"{sample_rate} Hz resampled to 16 kHz" if sample_rate else "16 kHz assumed (no sample_rate given)"
            raise ValueError(
                f"audio: a waveform of {wave.shape[1]} samples ({told}) does not span the visual's {seconds:.3f} s "
                f"(expected {expected:.0f} +/- {SAMPLE_RATE / self.expert.visual_rep.rate:.0f} samples); "
                "pass sample_rate= if it is not 16 kHz, or cut audio and video to the same span"
            )
        frontend = self.held("frontend")
        if frontend is None:
            device = next(self.expert.parameters()).device
            frontend = self.hold("frontend", self.expert.audio_rep.build_frontend().to(device))
        return frontend(wave)

    def _should_check(self, x: torch.Tensor) -> bool:
        if self.check_values == "never" or torch.compiler.is_compiling():
            return False
        return self.check_values == "always" or x.device.type == "cpu"

