"""Wav2Lip's three networks, rebuilt from the published architecture (Prajwal et al., ACM MM 2020).

The module tree reproduces the official state-dict layout exactly (``face_encoder.0.conv_block.0.weight`` ...), so the
released ``lipsync_expert.pth``, ``wav2lip.pth`` and ``wav2lip_gan.pth`` load strictly (see :mod:`.weights`).

* :class:`SyncNetColor` - the lip-sync expert: mel ``(B, 1, 80, 16)`` + 5 stacked lower-half BGR faces
  ``(B, 15, 48, 96)`` in [0, 1] -> L2-normalised embeddings ``(B, 512)`` each; 16,435,072 parameters.
* :class:`Wav2LipGenerator` - masked target + reference faces ``(B, 6, 96, 96)`` (or ``(B, 6, T, 96, 96)``) and
  per-frame mels ``(B, 1, 80, 16)`` (or ``(B, T, 1, 80, 16)``) -> BGR faces in [0, 1]; 36,298,035 parameters.
* :class:`QualityDiscriminator` - visual-quality discriminator on lower halves; 14,113,793 parameters.

All images are BGR (the official models were trained on OpenCV frames).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from unisync_loss.validation import check_floating, check_rank, check_same_batch, describe

IMG_SIZE = 96
MEL_BINS, MEL_STEPS = 80, 16
SYNC_FRAMES = 5


class Block(nn.Module):
    """Conv (or transposed conv) -> optional batch norm -> ReLU (LeakyReLU 0.01 without norm), optional residual.

    The convolution and norm live in ``conv_block`` (indices 0 and 1), as in the official checkpoints.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride=1, padding=0, *, residual: bool = False,
                 transpose: bool = False, output_padding: int = 0, norm: bool = True):
        super().__init__()
        if transpose:
            conv = nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, output_padding)
        else:
            conv = nn.Conv2d(c_in, c_out, kernel, stride, padding)
        self.conv_block = nn.Sequential(conv, nn.BatchNorm2d(c_out)) if norm else nn.Sequential(conv)
        self.act = nn.ReLU() if norm else nn.LeakyReLU(0.01)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv_block(x)
        return self.act(y + x if self.residual else y)


def scaled(width: float):
    """Channel count for a width multiplier (1.0 = the published networks; smaller for CPU-sized experiments)."""
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= 1:
        raise ValueError(f"width: expected a multiplier in (0, 1], got {width!r}")
    return lambda channels: max(4, int(round(channels * width)))


def stage(c_in: int, c_out: int, stride, residuals: int, kernel: int = 3, padding: int = 1) -> list[nn.Module]:
    """A (strided) block changing the width, followed by ``residuals`` 3x3 residual blocks."""
    return [Block(c_in, c_out, kernel, stride, padding)] + [
        Block(c_out, c_out, 3, 1, 1, residual=True) for _ in range(residuals)
    ]


def up_stage(c_in: int, c_out: int, residuals: int, stride: int = 2) -> nn.Sequential:
    """Transposed-conv upsampling (x2, or 1x1 -> 3x3 with ``stride=1``) then residual blocks."""
    padding, output_padding = (1, 1) if stride == 2 else (0, 0)
    up = Block(c_in, c_out, 3, stride, padding, transpose=True, output_padding=output_padding)
    return nn.Sequential(up, *[Block(c_out, c_out, 3, 1, 1, residual=True) for _ in range(residuals)])


def mel_encoder(last_stage_residuals: int, width: float = 1.0) -> nn.Sequential:
    """``(N, 1, 80, 16)`` mel -> ``(N, 512 w, 1, 1)``; heights 80 -> 27 -> 9 -> 3 -> 1, widths 16 -> 16 -> 6 -> 3 -> 1."""
    c = scaled(width)
    return nn.Sequential(
        *stage(1, c(32), 1, 2),
        *stage(c(32), c(64), (3, 1), 2),
        *stage(c(64), c(128), 3, 2),
        *stage(c(128), c(256), (3, 2), last_stage_residuals),
        Block(c(256), c(512), 3, 1, 0),
        Block(c(512), c(512), 1, 1, 0),
    )


def check_mel(mel: torch.Tensor, name: str = "mel") -> None:
    check_rank(mel, name, (4,), f"(B, 1, {MEL_BINS}, {MEL_STEPS})")
    check_floating(mel, name)
    if tuple(mel.shape[1:]) != (1, MEL_BINS, MEL_STEPS):
        raise ValueError(f"{name}: expected shape (B, 1, {MEL_BINS}, {MEL_STEPS}) (0.2 s of mel), got {describe(mel)}")


class SyncNetColor(nn.Module):
    """Wav2Lip's lip-sync expert (upstream ``models.SyncNet_color``). ``forward(mel, faces) -> (audio, face)``.

    ``mel`` ``(B, 1, 80, 16)``; ``faces`` ``(B, 15, 48, 96)``: 5 lower-half BGR frames in [0, 1] stacked on channels.
    Returns L2-normalised embeddings ``(B, 512)``; their cosine is the sync probability. ``width`` < 1 scales every
    channel count (not the official network; for CPU-sized experiments).
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        c = scaled(width)
        self.face_encoder = nn.Sequential(
            Block(3 * SYNC_FRAMES, c(32), 7, 1, 3),
            *stage(c(32), c(64), (1, 2), 2, kernel=5),
            *stage(c(64), c(128), 2, 3),
            *stage(c(128), c(256), 2, 2),
            *stage(c(256), c(512), 2, 2),
            Block(c(512), c(512), 3, 2, 1),
            Block(c(512), c(512), 3, 1, 0),
            Block(c(512), c(512), 1, 1, 0),
        )
        self.audio_encoder = mel_encoder(2, width)

    def forward(self, mel: torch.Tensor, faces: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_mel(mel)
        check_rank(faces, "faces", (4,), f"(B, {3 * SYNC_FRAMES}, {IMG_SIZE // 2}, {IMG_SIZE})")
        if tuple(faces.shape[1:]) != (3 * SYNC_FRAMES, IMG_SIZE // 2, IMG_SIZE):
            raise ValueError(
                f"faces: expected 5 stacked lower-half BGR frames (B, 15, 48, 96) of 96x96 faces, got {describe(faces)}"
            )
        check_same_batch(mel, "mel", faces, "faces")
        face = rearrange(self.face_encoder(faces), "b c 1 1 -> b c")
        audio = rearrange(self.audio_encoder(mel), "b c 1 1 -> b c")
        return F.normalize(audio, p=2, dim=1), F.normalize(face, p=2, dim=1)


class Wav2LipGenerator(nn.Module):
    """Wav2Lip's generator (upstream ``models.Wav2Lip``): U-Net face encoder/decoder conditioned on a mel window.

    ``forward(mels, faces)``: ``mels`` ``(B, 1, 80, 16)`` with ``faces`` ``(B, 6, 96, 96)`` -> ``(B, 3, 96, 96)``, or
    the sequence form ``(B, T, 1, 80, 16)`` with ``(B, 6, T, 96, 96)`` -> ``(B, 3, T, 96, 96)``. The 6 face channels are
    the masked target (lower half zero) and the reference frame, BGR in [0, 1]; the output is BGR in [0, 1].
    ``width`` < 1 scales every channel count (not the official network; for CPU-sized experiments).
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        c = scaled(width)
        enc = [c(16), c(32), c(64), c(128), c(256), c(512), c(512)]   # at 96, 48, 24, 12, 6, 3, 1 pixels
        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(Block(6, enc[0], 7, 1, 3)),
            nn.Sequential(*stage(enc[0], enc[1], 2, 2)),
            nn.Sequential(*stage(enc[1], enc[2], 2, 3)),
            nn.Sequential(*stage(enc[2], enc[3], 2, 2)),
            nn.Sequential(*stage(enc[3], enc[4], 2, 2)),
            nn.Sequential(*stage(enc[4], enc[5], 2, 1)),
            nn.Sequential(Block(enc[5], enc[6], 3, 1, 0), Block(enc[6], enc[6], 1, 1, 0)),
        ])
        self.audio_encoder = mel_encoder(1, width)
        dec = [c(512), c(512), c(512), c(384), c(256), c(128), c(64)]  # decoder outputs at 1, 3, 6, ..., 96 pixels
        ins = [dec[i] + enc[6 - i] for i in range(7)]                  # each output is concatenated with its skip
        self.face_decoder_blocks = nn.ModuleList([
            nn.Sequential(Block(c(512), dec[0], 1, 1, 0)),
            up_stage(ins[0], dec[1], 1, stride=1),
            *[up_stage(ins[i - 1], dec[i], 2) for i in range(2, 7)],
        ])
        self.output_block = nn.Sequential(Block(ins[6], c(32), 3, 1, 1), nn.Conv2d(c(32), 3, 1, 1, 0), nn.Sigmoid())

    def forward(self, mels: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        check_rank(faces, "faces", (4, 5), f"(B, 6, {IMG_SIZE}, {IMG_SIZE}) or (B, 6, T, {IMG_SIZE}, {IMG_SIZE})")
        check_floating(faces, "faces")
        if faces.shape[1] != 6 or tuple(faces.shape[-2:]) != (IMG_SIZE, IMG_SIZE):
            raise ValueError(
                f"faces: the Wav2Lip architecture needs 6-channel (masked + reference) {IMG_SIZE}x{IMG_SIZE} faces, "
                f"got {describe(faces)}"
            )
        sequence = faces.ndim == 5
        batch = faces.shape[0]
        if sequence:
            check_rank(mels, "mels", (5,), f"(B, T, 1, {MEL_BINS}, {MEL_STEPS})")
            if mels.shape[1] != faces.shape[2]:
                raise ValueError(f"mels and faces: expected T mel windows for T frames, got {describe(mels)} "
                                 f"and {describe(faces)}")
            mels = rearrange(mels, "b t c m s -> (t b) c m s")
            faces = rearrange(faces, "b c t h w -> (t b) c h w")
        check_mel(mels, "mels")
        check_same_batch(mels, "mels", faces, "faces")
        skips = []
        x = faces
        for block in self.face_encoder_blocks:
            x = block(x)
            skips.append(x)
        x = self.audio_encoder(mels)
        for block in self.face_decoder_blocks:
            x = torch.cat([block(x), skips.pop()], dim=1)
        out = self.output_block(x)
        return rearrange(out, "(t b) c h w -> b c t h w", b=batch) if sequence else out


class QualityDiscriminator(nn.Module):
    """Wav2Lip's visual-quality discriminator (upstream ``models.Wav2Lip_disc_qual``).

    ``forward(faces)``: ``(B, 3, T, 96, 96)`` BGR in [0, 1] -> probability of "real" per frame ``(B * T, 1)``, judged
    on the lower half of each face (frames ordered time-major, as upstream).
    """

    def __init__(self):
        super().__init__()

        def plain(c_in, c_out, kernel, stride, padding):
            return Block(c_in, c_out, kernel, stride, padding, norm=False)

        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(plain(3, 32, 7, 1, 3)),                                        # 48x96
            nn.Sequential(plain(32, 64, 5, (1, 2), 2), plain(64, 64, 5, 1, 2)),          # 48
            nn.Sequential(plain(64, 128, 5, 2, 2), plain(128, 128, 5, 1, 2)),            # 24
            nn.Sequential(plain(128, 256, 5, 2, 2), plain(256, 256, 5, 1, 2)),           # 12
            nn.Sequential(plain(256, 512, 3, 2, 1), plain(512, 512, 3, 1, 1)),           # 6
            nn.Sequential(plain(512, 512, 3, 2, 1), plain(512, 512, 3, 1, 1)),           # 3
            nn.Sequential(plain(512, 512, 3, 1, 0), plain(512, 512, 1, 1, 0)),           # 1
        ])
        self.binary_pred = nn.Sequential(nn.Conv2d(512, 1, 1, 1, 0), nn.Sigmoid())

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        check_rank(faces, "faces", (5,), f"(B, 3, T, {IMG_SIZE}, {IMG_SIZE})")
        if faces.shape[1] != 3 or tuple(faces.shape[-2:]) != (IMG_SIZE, IMG_SIZE):
            raise ValueError(f"faces: expected (B, 3, T, {IMG_SIZE}, {IMG_SIZE}) BGR faces, got {describe(faces)}")
        x = rearrange(faces, "b c t h w -> (t b) c h w")[:, :, IMG_SIZE // 2:]
        for block in self.face_encoder_blocks:
            x = block(x)
        return rearrange(self.binary_pred(x), "n 1 1 1 -> n 1")

    def realism_loss(self, fake_faces: torch.Tensor) -> torch.Tensor:
        """Generator's adversarial term: BCE of "real" on generated faces ``(B, 3, T, 96, 96)`` (float32)."""
        p = self(fake_faces).float().clamp(1e-7, 1 - 1e-7)
        return -torch.log(p).mean()


def parameter_count(model: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in model.parameters())
