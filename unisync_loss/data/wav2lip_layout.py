"""Reader of Wav2Lip's preprocessed layout, and its import into a clip store.

Layout (what Wav2Lip's ``preprocess.py`` writes and its ``filelists/*.txt`` name)::

    ROOT/<video_dir>/<clip>/0.jpg, 1.jpg, ...   face crops of any size, one per 25 fps frame (BGR JPEG)
    ROOT/<video_dir>/<clip>/audio.wav           the clip's audio (16 kHz mono from Wav2Lip's ffmpeg call)
    FILELISTS/train.txt, val.txt, test.txt      one ``<video_dir>/<clip>`` per line

Wav2Lip silently drops frames where its detector found no face, leaving holes in the numbering; its loader then
pairs the wrong audio with the frames after a hole. Here a hole is never bridged: by default the longest run of
consecutive frames becomes the clip (its audio cut from that run's start), or the clip is skipped (``on_gap="skip"``).
"""

from __future__ import annotations

import os
from pathlib import Path
import numpy as np
from ..progress import progress_bar

from ..validation import check_choice, describe
from .clip_store import SPLITS, Clip, ClipStore
from .import_report import ImportReport, SkipEntry

FPS, SAMPLE_RATE = 25, 16000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS


def read_filelists(filelists: str | os.PathLike) -> list[tuple[str, str]]:
    """``(entry, split)`` pairs from ``train.txt`` / ``val.txt`` / ``test.txt`` in the folder ``filelists``."""
    folder = Path(filelists)
    if not folder.is_dir():
        raise FileNotFoundError(f"filelists: no such folder {str(folder)!r}")
    pairs = []
    for split in SPLITS:
        path = folder / f"{split}.txt"
        if path.is_file():
            pairs += [(line.split()[0], split) for line in path.read_text().splitlines() if line.strip()]
    if not pairs:
        raise ValueError(f"filelists: {folder} holds no train.txt, val.txt or test.txt with entries")
    return pairs


def frame_runs(indices: list[int]) -> list[tuple[int, int]]:
    """Runs ``(first, stop)`` of consecutive integers in sorted ``indices``."""
    runs, first = [], None
    for previous, current in zip([None, *indices], indices):
        if previous is None or current != previous + 1:
            if first is not None:
                runs.append((first, previous + 1))
            first = current
    if first is not None:
        runs.append((first, indices[-1] + 1))
    return runs


def load_wav2lip_clip(root: str | os.PathLike, entry: str, split: str = "train", size: int = 96,
                      on_gap: str = "longest", min_frames: int = 5) -> Clip:
    """One Wav2Lip clip folder -> :class:`Clip` with frames uint8 ``(T, size, size, 3)`` RGB and aligned 16 kHz audio.

    Raises SkipEntry (reason) for a clip without frames or audio, or with a hole in its numbering (``on_gap``).
    """
    import cv2

    from ..video.decode import VideoDecodeError, read_audio

    check_choice(on_gap, "on_gap", ("longest", "skip"))
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size: expected an integer >= 8, got {describe(size)}")
    folder = Path(root) / entry
    if not folder.is_dir():
        raise SkipEntry("missing", f"no clip folder {entry!r} under the root")
    numbers = sorted(int(p.stem) for p in folder.glob("*.jpg") if p.stem.isdigit())
    if not numbers:
        raise SkipEntry("no frames", "no numbered .jpg frames")
    runs = frame_runs(numbers)
    if len(runs) > 1 or runs[0][0] != 0:
        holes = len(set(range(numbers[-1] + 1)) - set(numbers))
        if on_gap == "skip":
            raise SkipEntry("frame gap", f"{holes} frames missing from the numbering 0..{numbers[-1]}")
    first, stop = max(runs, key=lambda r: r[1] - r[0])
    wav = folder / "audio.wav"
    if not wav.is_file():
        raise SkipEntry("no audio", "no audio.wav")
    try:
        audio = read_audio(wav, SAMPLE_RATE)
    except VideoDecodeError as err:
        raise SkipEntry("no audio", str(err)) from err
    stop = min(stop, len(audio) // SAMPLES_PER_FRAME)
    if stop - first < min_frames:
        raise SkipEntry("too short", f"{max(stop - first, 0)} usable frames (< {min_frames})")
    frames = []
    for index in range(first, stop):
        image = cv2.imread(str(folder / f"{index}.jpg"))
        if image is None:
            raise SkipEntry("bad frame", f"{index}.jpg is not a readable image")
        frames.append(cv2.cvtColor(cv2.resize(image, (size, size)), cv2.COLOR_BGR2RGB))
    clip_id = entry.strip("/").replace("/", "-")
    speaker = entry.strip("/").split("/")[0]
    extra = {"source": f"wav2lip:{entry}", "start_frame": first, "dropped_frames": numbers[-1] + 1 - (stop - first),
             "crop": "wav2lip-layout", "sync": None}
    return Clip(id=clip_id, speaker=speaker, split=split, audio=audio[first * SAMPLES_PER_FRAME: stop * SAMPLES_PER_FRAME],
                frames=np.stack(frames), extra=extra)


def import_wav2lip(root: str | os.PathLike, filelists: str | os.PathLike, out: str | os.PathLike,
                   progress: bool = True, **options) -> dict:
    """Write every Wav2Lip clip listed in ``filelists`` into the clip store ``out``; returns a summary with skips.

    Already imported clips are kept (the import resumes)."""
    store = ClipStore.create(out, info={"producer": "wav2lip layout import", "size": options.get("size", 96)})
    store.clean_partial()
    report = ImportReport()
    pairs = read_filelists(filelists)
    todo = [(e, s) for e, s in pairs if not store.has_clip(e.strip("/").replace("/", "-"))]
    for entry, split in progress_bar(todo, desc="wav2lip import", unit="clip", disable=not progress):
        try:
            clip = load_wav2lip_clip(root, entry, split, **options)
        except SkipEntry as err:
            report.skip(entry, err)
            continue
        store.write_clip(clip)
        report.imported.append(clip.id)
    store.reindex()
    return {**report.summary(), "already_present": len(pairs) - len(todo)}
