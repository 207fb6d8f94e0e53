"""The synthetic corpus: speakers x clips written into a clip store (plus one mp4 per clip), resumable.

``generate_corpus(out, speakers=40, clips=20, seed=0)`` writes ``out/clips/<id>/...`` in the clip store format and
``out/videos/<id>.mp4``. Speaker ``i``'s looks, voice and split depend only on ``(seed, i)`` and clip ``j`` only on
``(seed, i, j)``, so a corpus can be extended with more speakers or clips, and an interrupted run resumes where it
stopped (finished clips are kept; half-written ones never become visible).
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from ..progress import progress_bar

from ..data import ClipStore
from .clip import generate_clip
from .mp4 import write_mp4
from .settings import SynthSettings
from .speaker import Speaker, clip_id

GENERATOR = "unisync-synth"
GENERATOR_VERSION = 1


def corpus_info(seed: int, settings: SynthSettings) -> dict:
    """The store header's ``info``: what decides the content (a folder with other info holds a different corpus)."""
    return {"generator": GENERATOR, "generator_version": GENERATOR_VERSION, "seed": seed,
            "settings": settings.to_dict()}


def generate_corpus(out: str | os.PathLike, speakers: int = 40, clips: int = 20, seed: int = 0,
                    settings: SynthSettings | None = None, mp4: bool = True, progress: bool = True,
                    workers: int = 1) -> ClipStore:
    """Generate (or complete) the corpus in ``out``; returns the open :class:`ClipStore`.

    ``workers`` > 1 generates clips in that many processes (the bytes written do not depend on it).
    Raises ``ValueError`` for non-positive counts, a negative seed, or an ``out`` folder that holds something else.
    """
    counts = (("speakers", speakers, 1), ("clips", clips, 1), ("seed", seed, 0), ("workers", workers, 1))
    for name, value, low in counts:
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
    done = {(i, j) for i in range(speakers) for j in range(clips)
            if store.has_clip(clip_id(i, j)) and (not mp4 or (videos / f"{clip_id(i, j)}.mp4").is_file())}
    todo = [(str(out), i, j, seed, settings, mp4) for i in range(speakers) for j in range(clips) if (i, j) not in done]
    with progress_bar(total=speakers * clips, initial=len(done), desc="synth", unit="clip",
                      disable=not progress) as bar:
        if workers == 1:
            for task in todo:
                _write_one(task)
                bar.update(1)
        else:
            # fork where the platform has it (workers need no re-import); clip generation uses no threads
            methods = multiprocessing.get_all_start_methods()
            with multiprocessing.get_context("fork" if "fork" in methods else "spawn").Pool(workers) as pool:
                for _ in pool.imap_unordered(_write_one, todo):
                    bar.update(1)
    store.reindex()
    return store


def _write_one(task: tuple) -> str:
    """Generate and write clip ``j`` of speaker ``i`` (its mp4 first, then the clip folder; both atomic)."""
    out, i, j, seed, settings, mp4 = task
    store = ClipStore(out)
    clip = generate_clip(Speaker.sample(seed, i, settings), seed, j, settings)
    if mp4:
        write_mp4(Path(out) / "videos" / f"{clip.id}.mp4", clip.frames, clip.audio)
    store.write_clip(clip, overwrite=True)
    return clip.id
