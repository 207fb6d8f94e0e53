"""Regenerating a test clip's mouth from its audio, without letting the real mouth leak in.

Wav2Lip's inference feeds each frame as its own identity reference. On a clip dubbed with its *own* audio that hands
the generator the true mouth, so a generator that merely copies its reference looks perfectly in sync, whatever it
learnt. Here the reference of frame ``t`` is frame ``t + T // 2`` (mod ``T``) of the same clip: the same face,
lighting and size, but a mouth from another moment, as in training (a random other window of the clip). Everything
in the mouth that matches the audio then comes from the audio.

Per-frame mel windows follow the training samples (:mod:`.data`): frame ``t``'s window starts at video frame
``t - 1``'s time (clamped to the clip).
"""

from __future__ import annotations

import numpy as np
import torch
from einops import rearrange

from unisync_loss.timing import audio_frame_index

from .data import FPS, MEL_RATE, to_bgr96
from .models import IMG_SIZE, MEL_STEPS


def frame_mels(mel: np.ndarray, num_frames: int) -> torch.Tensor:
    """``(T_mel, 80)`` log-mel at 80 frames/s -> ``(num_frames, 1, 80, 16)`` per-frame windows (training indexing)."""
    mel = np.asarray(mel, dtype=np.float32)
    if mel.ndim != 2 or len(mel) < MEL_STEPS:
        raise ValueError(f"mel: expected (T_mel >= {MEL_STEPS}, 80) log-mel, got shape {mel.shape}")
    last = len(mel) - MEL_STEPS
    starts = [min(audio_frame_index(max(t - 1, 0), FPS, MEL_RATE), last) for t in range(num_frames)]
    return torch.from_numpy(np.stack([mel[s:s + MEL_STEPS].T for s in starts]))[:, None]


def reference_order(num_frames: int) -> np.ndarray:
    """Index of each frame's identity reference: half the clip away."""
    if num_frames < 2:
        raise ValueError(f"num_frames: expected at least 2 frames, got {num_frames}")
    return (np.arange(num_frames) + num_frames // 2) % num_frames


@torch.no_grad()
def regenerate(generator: torch.nn.Module, frames: np.ndarray, mel: np.ndarray, batch_size: int = 32,
               device: str | torch.device = "cpu") -> np.ndarray:
    """``frames`` ``(T, 96, 96, 3)`` uint8 RGB faces and their clip's ``mel`` -> ``(T, 96, 96, 3)`` uint8 RGB with
    every lower half generated from the audio (upper halves are the generator's reconstruction of the input)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[1:] != (IMG_SIZE, IMG_SIZE, 3) or frames.dtype != np.uint8:
        raise ValueError(f"frames: expected (T, {IMG_SIZE}, {IMG_SIZE}, 3) uint8 RGB faces, got {frames.dtype} "
                         f"{frames.shape}")
    generator.eval()
    faces = torch.from_numpy(to_bgr96(frames).copy())
    faces = rearrange(faces, "t h w c -> t c h w")
    masked = faces.clone()
    masked[:, :, IMG_SIZE // 2:] = 0.0
    inputs = torch.cat([masked, faces[torch.from_numpy(reference_order(len(frames)))]], dim=1)
    mels = frame_mels(mel, len(frames))
    out = []
    for begin in range(0, len(frames), batch_size):
        chunk = slice(begin, begin + batch_size)
        out.append(generator(mels[chunk].to(device), inputs[chunk].to(device)).float().cpu())
    bgr = rearrange(torch.cat(out), "t c h w -> t h w c").numpy()
    return np.ascontiguousarray((bgr[..., ::-1] * 255.0).round().clip(0, 255).astype(np.uint8))
