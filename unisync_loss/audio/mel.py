"""Wav2Lip-compatible log-Mel spectrogram in torch (any device, batched, differentiable).

Pipeline (Wav2Lip's ``audio.melspectrogram`` with its ``hparams``): pre-emphasis 0.97, centred STFT (n_fft 800,
hop 200, periodic Hann window 800), Slaney mel filterbank (80 bins, 55-7600 Hz) on the magnitude,
``20 * log10(max(1e-5, x)) - 20`` dB, then symmetric normalisation to [-4, 4] with clipping.

Edges: the centred STFT pads ``n_fft // 2`` samples on each side, so the first and last two frames see padding.
librosa padded with ``"reflect"`` up to 0.8 (Wav2Lip pins 0.7.0, so its pretrained experts saw reflect padding) and
with zeros (``"constant"``) from 0.9 on. ``pad_mode`` picks either; the frames in between do not depend on it.
"""

from __future__ import annotations

import torch
import torchaudio
from einops import rearrange
from torch import nn

from ..validation import check_choice
from .checks import check_waveform

#: STFT edge padding of librosa <= 0.8 ("reflect", Wav2Lip's pinned version) and of librosa >= 0.9 ("constant").
PAD_MODES = ("reflect", "constant")


class Wav2LipMel(nn.Module):
    """``(B, S)`` float waveform at 16 kHz -> ``(B, n_mels, T)`` normalised log-mel in [-4, 4], ``T = S // hop + 1``.

    Computed in float32 whatever the input dtype; differentiable with respect to the waveform. ``S`` must be at
    least one 0.2 s sync window (3200 samples); NaN/inf samples are refused for CPU tensors.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 800,
        hop_length: int = 200,
        win_length: int = 800,
        n_mels: int = 80,
        fmin: float = 55.0,
        fmax: float = 7600.0,
        preemphasis: float = 0.97,
        ref_level_db: float = 20.0,
        min_level_db: float = -100.0,
        max_abs_value: float = 4.0,
        pad_mode: str = "reflect",
    ):
        super().__init__()
        check_choice(pad_mode, "pad_mode", PAD_MODES)
        if not 0 <= fmin < fmax <= sample_rate / 2:
            raise ValueError(f"fmin, fmax: expected 0 <= fmin < fmax <= sample_rate / 2, got {fmin}, {fmax}")
        if not 0 < win_length <= n_fft or hop_length < 1:
            raise ValueError(
                f"n_fft, win_length, hop_length: expected 0 < win_length <= n_fft and hop_length >= 1, "
                f"got {n_fft}, {win_length}, {hop_length}"
            )
        self.n_fft, self.hop_length, self.win_length = n_fft, hop_length, win_length
        self.preemphasis, self.ref_level_db = preemphasis, ref_level_db
        self.min_level_db, self.max_abs_value, self.pad_mode = min_level_db, max_abs_value, pad_mode
        fbank = torchaudio.functional.melscale_fbanks(
            n_freqs=n_fft // 2 + 1, f_min=fmin, f_max=fmax, n_mels=n_mels, sample_rate=sample_rate,
            norm="slaney", mel_scale="slaney",
        )
        self.register_buffer("fbank", fbank, persistent=False)  # (n_freqs, n_mels)
        self.register_buffer("window", torch.hann_window(win_length, periodic=True), persistent=False)

    def num_frames(self, num_samples: int) -> int:
        """Mel frames produced for ``num_samples`` samples."""
        return num_samples // self.hop_length + 1

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        check_waveform(wave, "wave")
        wave = wave.float()
        emphasised = torch.cat([wave[:, :1], wave[:, 1:] - self.preemphasis * wave[:, :-1]], dim=1)
        spec = torch.stft(
            emphasised, self.n_fft, self.hop_length, self.win_length, self.window,
            center=True, pad_mode=self.pad_mode, return_complex=True,
        ).abs()  # (B, n_freqs, T)
        mel = torch.einsum("bft,fm->bmt", spec, self.fbank)
        db = 20.0 * torch.log10(mel.clamp_min(1e-5)) - self.ref_level_db
        scaled = 2 * self.max_abs_value * (db - self.min_level_db) / (-self.min_level_db) - self.max_abs_value
        return scaled.clamp(-self.max_abs_value, self.max_abs_value)


class MelFrontend(Wav2LipMel):
    """Same as :class:`Wav2LipMel` but time-major: ``(B, S)`` -> ``(B, T, n_mels)``."""

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return rearrange(super().forward(wave), "b m t -> b t m")
