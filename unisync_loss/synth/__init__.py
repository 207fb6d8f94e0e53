"""Synthetic talking-face corpus: real synthesised speech (eSpeak NG), mouth motion driven by the spoken phonemes,
and one linear face model rendered into all four visual representations (RGB, parsing, landmarks, 3DMM).

Python API::

    from unisync_loss.synth import SynthSettings, generate_corpus
    store = generate_corpus("corpus", speakers=40, clips=20, seed=0, settings=SynthSettings(snr_db=15))

Command line: ``unisync synth --out corpus --speakers 40 --clips 20 --seed 0``.
"""

from .corpus import generate_corpus
from .settings import SynthSettings

__all__ = ["SynthSettings", "generate_corpus"]
