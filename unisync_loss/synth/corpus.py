"""The synthetic corpus: speakers x clips written into a clip store (plus one mp4 per clip), resumable.

``generate_corpus(out, speakers=40, clips=20, seed=0)`` writes ``out/clips/<id>/...`` in the clip store format and
``out/videos/<id>.mp4``. Speaker ``i``'s looks, voice and split depend only on ``(seed, i)`` and clip ``j`` only on
``(seed, i, j)``, so a corpus can be extended with more speakers or clips, and an interrupted run resumes where it
stopped (finished clips are kept; half-written ones never become visible).
"""

from __future__ import annotations

import os
from pathlib import Path

from tqdm import tqdm

from ..data import ClipStore
from .clip import clip_id, generate_clip
from .mp4 import write_mp4
from .settings import SynthSettings
from .speaker import Speaker

GENERATOR = "unisync-synth"
GENERATOR_VERSION = 1


def corpus_info(seed: int, settings: SynthSettings) -> dict:
    """The store header's ``info``: what decides the content (a folder with other info holds a different corpus)."""
    return {"generator": GENERATOR, "generator_version": GENERATOR_VERSION, "seed": seed, "settings": settings.to_dict()}


def generate_corpus(out: str | os.PathLike, speakers: int = 40, clips: int = 20, seed: int = 0,
                    settings: SynthSettings | None = None, mp4: bool = True, progress: bool = True) -> ClipStore:
    """Generate (or complete) the corpus in ``out``; returns the open :class:`ClipStore`.

    Raises ``ValueError`` for non-positive counts, a negative seed, or an ``out`` folder that holds something else.
    """
    for name, value, low in (("speakers", speakers, 1), ("clips", clips, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    settings = SynthSettings() if settings is None else settings
    if not isinstance(settings, SynthSettings):
        raise ValueError(f"settings: expected a SynthSettings, got {type(settings).__name__}")
    store = ClipStore.create(out, corpus_info(seed, settings))
    store.clean_partial()
    videos = Path(out) / "videos"
    videos.mkdir(exist_ok=True)
    for leftover in videos.glob(".*.mp4"):
        leftover.unlink()
    bar = tqdm(total=speakers * clips, desc="synth", unit="clip", disable=not progress)
    for i in range(speakers):
        speaker = Speaker.sample(seed, i, settings)
        for j in range(clips):
            cid = clip_id(speaker, j)
            video_path = videos / f"{cid}.mp4"
            if store.has_clip(cid) and (video_path.is_file() or not mp4):
                bar.update(1)
                continue
            clip = generate_clip(speaker, seed, j, settings)
            if mp4:
                write_mp4(video_path, clip.frames, clip.audio)
            store.write_clip(clip, overwrite=True)
            bar.update(1)
        store.reindex()
    bar.close()
    return store
