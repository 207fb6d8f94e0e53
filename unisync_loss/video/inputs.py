"""Which videos to preprocess: a folder searched recursively, a list file or a manifest, with clip names, speakers
and splits.

Two split rules, both by speaker (a speaker's clips always share one split) and deterministic:

* :func:`speaker_split` (folders and list files): a speaker goes to ``val`` when the CRC-32 of its id, scaled to
  [0, 1), is below ``val_fraction``, to ``test`` when it is below ``val_fraction + test_fraction``, else to
  ``train``. It needs no knowledge of the other speakers (stable when videos are added), but on a few dozen speakers
  the shares it gives vary widely.
* :func:`balanced_speaker_splits` (manifests, where every speaker and duration is known up front): speakers are
  taken in the order of the SHA-1 of ``"<seed>:<speaker>"`` and each goes to the split that is furthest below its
  target share of the corpus's seconds, so that small corpora get the asked shares of speech. A speaker with more
  than half of a held-out split's target seconds stays in ``train``, so that no single speaker dominates the
  validation or test numbers.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..data.clip_store import SPLITS

log = logging.getLogger(__name__)

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


def speaker_split(speaker: str, val_fraction: float, test_fraction: float = 0.0) -> str:
    """Deterministic split by speaker from the CRC-32 of its id alone (see the module docstring)."""
    check_split_fractions(val_fraction, test_fraction)
    u = (zlib.crc32(speaker.encode()) % 10_000) / 10_000
    return "val" if u < val_fraction else "test" if u < val_fraction + test_fraction else "train"


def check_split_fractions(val_fraction: float, test_fraction: float) -> None:
    """Require shares in [0, 1) that leave something for training."""
    for value, name in ((val_fraction, "val_fraction"), (test_fraction, "test_fraction")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
            raise ValueError(f"{name}: expected a fraction in [0, 1), got {value!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction: expected less than 1 (something left to train on), "
                         f"got {val_fraction} + {test_fraction}")


def balanced_speaker_splits(seconds: dict[str, float], val_fraction: float, test_fraction: float,
                            seed: int = 0, max_speaker_share: float = 0.5) -> dict[str, str]:
    """Speaker -> split, with ``val`` and ``test`` close to their shares of the total seconds.

    ``seconds``: speech seconds per speaker. Speakers are visited in the order of ``sha1(f"{seed}:{speaker}")``;
    each goes to the split whose assigned seconds are furthest below its target (ties: test, val, train), among
    ``train`` and the held-out splits whose target is at least ``1 / max_speaker_share`` times its seconds.
    """
    if not 0.0 < max_speaker_share <= 1.0:
        raise ValueError(f"max_speaker_share: expected a fraction in (0, 1], got {max_speaker_share!r}")
    check_split_fractions(val_fraction, test_fraction)
    if not isinstance(seconds, dict) or not seconds or any(
            not isinstance(v, (int, float)) or v < 0 for v in seconds.values()):
        raise ValueError(f"seconds: expected a non-empty dict speaker -> seconds >= 0, got {seconds!r}"[:300])
    total = float(sum(seconds.values()))
    targets = {"test": test_fraction * total, "val": val_fraction * total,
               "train": (1.0 - val_fraction - test_fraction) * total}
    assigned = dict.fromkeys(targets, 0.0)
    order = sorted(seconds, key=lambda s: hashlib.sha1(f"{seed}:{s}".encode()).hexdigest())
    splits = {}
    for speaker in order:
        allowed = [k for k in targets if k == "train" or seconds[speaker] <= max_speaker_share * targets[k]]
        split = max(allowed, key=lambda k: (targets[k] - assigned[k]) if targets[k] > 0 else float("-inf"))
        splits[speaker] = split
        assigned[split] += seconds[speaker]
    return splits


#: Columns a manifest must have; ``duration_s`` (seconds) and ``split`` are read when present.
MANIFEST_COLUMNS = ("file", "speaker")


def read_manifest(manifest: str | os.PathLike, folder: str | os.PathLike | None = None, val_fraction: float = 0.1,
                  test_fraction: float = 0.2, seed: int = 0) -> list[VideoJob]:
    """Jobs for the rows of a CSV manifest with columns ``file`` (relative to ``folder``, default the manifest's
    folder) and ``speaker``. A ``split`` column, where filled, fixes a row's split (every clip of a speaker must
    then name the same one); the other speakers get :func:`balanced_speaker_splits` by ``duration_s`` (or the
    probed duration). Clip names are the file stems. Videos of ``folder`` missing from the manifest are left out
    with a warning; a listed file that does not exist is an error."""
    from .decode import probe_video

    manifest = Path(manifest)
    if not manifest.is_file():
        raise FileNotFoundError(f"manifest: no such file {str(manifest)!r}")
    folder = Path(folder) if folder is not None else manifest.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"input: the manifest's videos folder {str(folder)!r} does not exist")
    with manifest.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{manifest}: expected columns {list(MANIFEST_COLUMNS)}, missing {missing} "
                             f"(has {reader.fieldnames})")
        rows = list(reader)
    jobs, seconds, fixed = [], {}, {}
    for number, row in enumerate(rows, 2):
        file, speaker = (row.get("file") or "").strip(), (row.get("speaker") or "").strip()
        if not file or not speaker:
            raise ValueError(f"{manifest}:{number}: expected a file and a speaker, got {row!r}"[:300])
        path = folder / file
        if not path.is_file():
            raise FileNotFoundError(f"{manifest}:{number}: listed video {str(path)!r} does not exist")
        split = (row.get("split") or "").strip() or None
        if split is not None:
            if split not in SPLITS:
                raise ValueError(f"{manifest}:{number}: split must be one of {SPLITS}, got {split!r}")
            if fixed.setdefault(speaker, split) != split:
                raise ValueError(f"{manifest}:{number}: speaker {speaker!r} is put in both {fixed[speaker]!r} and "
                                 f"{split!r}; a speaker's clips must share one split")
        duration = (row.get("duration_s") or "").strip()
        seconds[speaker] = seconds.get(speaker, 0.0) + (float(duration) if duration else probe_video(path).duration)
        jobs.append(VideoJob(str(path), Path(file).stem.replace(" ", "_"), speaker, split))
    names = Counter(j.name for j in jobs)
    if any(n > 1 for n in names.values()):
        raise ValueError(f"{manifest}: several rows map to the same clip name: {[k for k, n in names.items() if n > 1]}")
    listed = {Path(j.path).resolve() for j in jobs}
    unlisted = [p for p in sorted(folder.rglob("*")) if p.suffix.lower() in VIDEO_SUFFIXES and p.resolve() not in listed]
    if unlisted:
        log.warning("%d video(s) under %s are not in %s and are left out: %s", len(unlisted), folder, manifest.name,
                    ", ".join(p.name for p in unlisted[:5]) + (" ..." if len(unlisted) > 5 else ""))
    free = {s: v for s, v in seconds.items() if s not in fixed}
    splits = balanced_speaker_splits(free, val_fraction, test_fraction, seed) if free else {}
    for job in jobs:
        job.split = fixed.get(job.speaker) or splits[job.speaker]
    return jobs
