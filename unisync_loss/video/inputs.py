"""Which videos to preprocess: a folder searched recursively or a list file, with clip names, speakers and splits."""

from __future__ import annotations

import os
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..data.clip_store import SPLITS

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".flv", ".ts")


@dataclass
class VideoJob:
    """One input video: its path, the clip id prefix and speaker derived from its place under the input folder."""

    path: str
    name: str
    speaker: str
    split: str | None = None

def find_videos(source: str | os.PathLike) -> list[VideoJob]:
    """Jobs for a folder (searched recursively for video files) or a list file (one ``path [split]`` a line, paths
    relative to the list's folder). Clip names join the relative path parts with ``-``; the speaker is the first
    folder under the input folder (VoxCeleb2/LRS3 layout), or the file stem for files directly in it."""
    source = Path(source)
    if source.is_dir():
        base, entries = source, [(p, None) for p in sorted(source.rglob("*")) if p.suffix.lower() in VIDEO_SUFFIXES]
    elif source.is_file():
        base, entries = source.parent, []
        for number, line in enumerate(source.read_text().splitlines(), 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) > 2 or (len(parts) == 2 and parts[1] not in SPLITS):
                raise ValueError(f"{source}:{number}: expected 'path [split]' with split in {SPLITS}, got {line!r}")
            path = Path(parts[0]) if Path(parts[0]).is_absolute() else source.parent / parts[0]
            entries.append((path, parts[1] if len(parts) == 2 else None))
    else:
        raise FileNotFoundError(f"input: no such folder or list file {str(source)!r}")
    jobs = []
    for path, split in entries:
        try:
            rel = path.resolve().relative_to(base.resolve()).with_suffix("")
        except ValueError:
            rel = Path(path.stem)
        parts = [p.replace(" ", "_") for p in rel.parts]
        jobs.append(VideoJob(str(path), "-".join(parts), parts[0], split))
    names = Counter(j.name for j in jobs)
    if any(n > 1 for n in names.values()):
        raise ValueError(f"input: several videos map to the same clip name: {[k for k, n in names.items() if n > 1]}")
    return jobs


def speaker_split(speaker: str, val_fraction: float) -> str:
    """Deterministic split by speaker: a speaker's clips all land in the same split."""
    return "val" if (zlib.crc32(speaker.encode()) % 10_000) / 10_000 < val_fraction else "train"
