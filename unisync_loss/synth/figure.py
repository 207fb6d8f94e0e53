"""README figure: a few frames of three synthetic speakers in all four visual representations (RGB, face parsing,
68 landmarks, 64 3DMM expression coefficients), with the phoneme being spoken at each frame."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from .clip import generate_clip
from .settings import SynthSettings
from .speaker import Speaker

_ROWS = ("RGB", "parsing", "landmarks", "3DMM")


def _phoneme_at(phonemes: list, time: float) -> str:
    for p, start, end in phonemes:
        if start <= time < end:
            return p or "(pause)"
    return "(pause)"


def save_figure(path: str | os.PathLike, seed: int = 0, settings: SynthSettings | None = None,
                speakers: tuple[int, ...] = (0, 1, 2), frames: int = 6) -> Path:
    """Render the figure to ``path`` (PNG) and return the path. Deterministic for a ``seed``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..representations.parsing import CELEBAMASK_HQ_CLASSES

    if isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= 12:
        raise ValueError(f"frames: expected an integer in [1, 12], got {frames!r}")
    settings = settings or SynthSettings(min_seconds=3.0, max_seconds=3.5)
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path: expected a .png file name, got {str(path)!r}")
    colours = plt.get_cmap("tab20")(np.arange(len(CELEBAMASK_HQ_CLASSES)))[:, :3]
    colours[0] = 1.0
    fig, axes = plt.subplots(len(speakers) * len(_ROWS), frames, squeeze=False,
                             figsize=(1.25 * frames + 0.6, 1.25 * len(_ROWS) * len(speakers)))
    for s, index in enumerate(speakers):
        clip = generate_clip(Speaker.sample(seed, index, settings), seed, 0, settings)
        speech_frames = [i for i in range(clip.num_frames)
                         if _phoneme_at(clip.extra["phonemes"], (i + 0.5) / 25) != "(pause)"]
        picks = np.array(speech_frames)[np.linspace(0, len(speech_frames) - 1, frames + 2).round().astype(int)[1:-1]]
        size = clip.frames.shape[1]
        for c, t in enumerate(picks):
            rows = axes[s * len(_ROWS):(s + 1) * len(_ROWS), c]
            rows[0].imshow(clip.frames[t])
            rows[0].set_title(f"t={t / 25:.2f}s /{_phoneme_at(clip.extra['phonemes'], (t + 0.5) / 25)}/", fontsize=7)
            rows[1].imshow(colours[clip.parsing[t]])
            lm = clip.landmarks[t]
            rows[2].imshow(np.ones((size, size, 3)))
            for part, colour in ((slice(0, 48), "0.35"), (slice(48, 68), "crimson")):
                rows[2].scatter(lm[part, 0], lm[part, 1], s=2.5, c=colour, linewidths=0)
            coeffs = clip.coeffs3dmm[t]
            rows[3].bar(np.arange(64), coeffs, width=0.9, color=["crimson"] * 6 + ["0.5"] * 58)
            rows[3].set_ylim(-1.2, 1.2)
            rows[3].set_xlim(-1, 64)
            for ax in rows:
                ax.set_xticks([])
                ax.set_yticks([])
            for ax in rows[:3]:
                ax.set_xlim(-0.5, size - 0.5)
                ax.set_ylim(size - 0.5, -0.5)
        for r, name in enumerate(_ROWS):
            label = f"{clip.speaker}\n{name}" if r == 0 else name
            axes[s * len(_ROWS) + r, 0].set_ylabel(label, fontsize=7)
    fig.suptitle("Synthetic corpus: eSpeak NG speech, one face model, four representations\n"
                 "(red: mouth landmarks 48-67 and mouth coefficients 0-5)", fontsize=8)
    fig.tight_layout(pad=0.3, h_pad=0.2, w_pad=0.2, rect=(0, 0, 1, 0.975))
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=90, format="png")
    plt.close(fig)
    buffer.seek(0)
    Image.open(buffer).convert("RGB").quantize(colors=128).save(path, optimize=True)  # a palette keeps it small
    return path
