"""Aligned 0.2 s windows of the clips of one split of a clip store, for one (audio, visual) representation pair.

A window starts at video frame ``s`` (25 fps): the visual window is frames ``s .. s + 4`` and the audio window the
feature frames from :func:`unisync_loss.timing.audio_frame_index` on (16 mel frames, 10 HuBERT frames). Visual arrays
are read from the store (``frames``, ``parsing``, ``coeffs3dmm``; for landmarks the array of their layout:
``landmarks``, ``mouth_landmarks`` or ``mesh_landmarks``, see :func:`unisync_loss.data.visual_array_name`); face
crops ``(H, W)`` are cut to their lower half and resized to the representation's size, as Wav2Lip's expert sees the
mouth region.
Arrays are memory-mapped lazily in each process, so a source pickles cheaply into data-loader workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from unisync_loss.audio.features import cached_features
from unisync_loss.data import ClipStore, visual_array_name
from unisync_loss.data.clip_store import REPRESENTATION_ARRAYS, landmark_points
from unisync_loss.representations import AudioRepresentation, VisualRepresentation
from unisync_loss.timing import audio_frame_index
from unisync_loss.validation import check_choice, is_integer


@dataclass(frozen=True)
class ClipEntry:
    """One usable clip: its id, speaker index and number of valid window starts (``0 .. num_starts - 1``)."""

    clip_id: str
    speaker: int
    num_starts: int


class WindowSource:
    """Windows of the clips of ``split`` that hold the visual array and cached audio features of the pair.

    Args:
        store: the clip store (audio features are read from its cache, computed there on a miss).
        audio_rep, visual_rep: the pair's representations.
        split: "train", "val" or "test".
        min_starts: clips with fewer valid window starts are left out.
    """

    def __init__(self, store: ClipStore, audio_rep: AudioRepresentation, visual_rep: VisualRepresentation,
                 split: str, min_starts: int = 1):
        if not isinstance(store, ClipStore):
            raise ValueError(f"store: expected a ClipStore, got {type(store).__name__}")
        check_choice(visual_rep.name, "visual_rep", sorted(REPRESENTATION_ARRAYS))
        self.store, self.audio_rep, self.visual_rep, self.split = store, audio_rep, visual_rep, split
        first = store.clip_ids(split)[:1]
        available = store.meta(first[0])["arrays"] if first else None
        self.array_name = visual_array_name(visual_rep.name, visual_rep.options, available)
        speakers = store.speakers(split)
        self.speakers = speakers
        clips, skipped = [], []
        for clip_id in store.clip_ids(split):
            meta = store.meta(clip_id)
            if self.array_name not in meta["arrays"]:
                raise ValueError(
                    f"{store.root}: clip {clip_id!r} has no {self.array_name!r} array, needed by the "
                    f"{visual_rep.name} representation (it has {sorted(meta['arrays'])})"
                )
            num_frames = meta["arrays"][self.array_name]["shape"][0]
            num_audio = len(cached_features(store, clip_id, audio_rep))
            starts = self._num_starts(num_frames, num_audio)
            (clips if starts >= min_starts else skipped).append(
                ClipEntry(clip_id, speakers.index(meta["speaker"]), starts)
            )
        if not clips:
            raise ValueError(
                f"{store.root}: no {split} clip has {min_starts} or more 0.2 s windows "
                f"({len(skipped)} too short, {len(store.clip_ids(split))} in the split)"
            )
        self.clips = clips
        self.skipped = [c.clip_id for c in skipped]
        self.clips_of_speaker: dict[int, list[int]] = {}
        for index, clip in enumerate(clips):
            self.clips_of_speaker.setdefault(clip.speaker, []).append(index)
        self._arrays: dict[tuple[str, str], np.ndarray] = {}

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state

    def _num_starts(self, num_frames: int, num_audio: int) -> int:
        window = self.visual_rep.window
        last = num_frames - window
        while last >= 0 and audio_frame_index(last, self.visual_rep.rate, self.audio_rep.rate) + \
                self.audio_rep.window > num_audio:
            last -= 1
        return last + 1

    def _array(self, clip_id: str, kind: str) -> np.ndarray:
        key = (clip_id, kind)
        if key not in self._arrays:
            if kind == "audio":
                self._arrays[key] = cached_features(self.store, clip_id, self.audio_rep)
            else:
                self._arrays[key] = self.store.load_array(clip_id, self.array_name)
        return self._arrays[key]

    # ------------------------------------------------------------------------------------------------ windows
    def audio_window(self, clip: int, start: int) -> np.ndarray:
        """Float32 ``(audio window, F)`` features of the window starting at video frame ``start`` of ``clip``."""
        entry = self._entry(clip, start)
        first = audio_frame_index(start, self.visual_rep.rate, self.audio_rep.rate)
        return np.array(self._array(entry.clip_id, "audio")[first:first + self.audio_rep.window], dtype=np.float32)

    def visual_window(self, clip: int, start: int) -> np.ndarray:
        """``(5, *frame_shape)`` window (RGB float32 in [0, 1]; parsing int64 class indices; others float32)."""
        entry = self._entry(clip, start)
        raw = np.asarray(self._array(entry.clip_id, "visual")[start:start + self.visual_rep.window])
        return convert_visual(self.visual_rep, raw)

    def _entry(self, clip: int, start: int) -> ClipEntry:
        if not is_integer(clip) or not 0 <= clip < len(self.clips):
            raise ValueError(f"clip: expected an integer index in [0, {len(self.clips)}), got {clip!r}")
        entry = self.clips[clip]
        if not is_integer(start) or not 0 <= start < entry.num_starts:
            raise ValueError(f"start: clip {entry.clip_id!r} has window starts 0..{entry.num_starts - 1}, "
                             f"got {start!r}")
        return entry


def convert_visual(rep: VisualRepresentation, raw: np.ndarray) -> np.ndarray:
    """Store arrays of a window -> the representation's frame layout (see the module docstring)."""
    name = rep.name
    if name in ("rgb", "parsing"):
        height, width = rep.options["height"], rep.options["width"]
        lower = raw[:, raw.shape[1] // 2:]
        if name == "rgb":
            x = torch.from_numpy(np.ascontiguousarray(lower)).permute(0, 3, 1, 2).float() / 255.0
            if tuple(x.shape[2:]) != (height, width):
                x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
            return x.clamp(0.0, 1.0).numpy()
        x = torch.from_numpy(np.ascontiguousarray(lower)).long()
        if tuple(x.shape[1:]) != (height, width):
            x = F.interpolate(x[:, None].float(), size=(height, width), mode="nearest")[:, 0].long()
        return x.numpy()
    values = np.array(raw, dtype=np.float32)
    if name == "landmarks":
        values = landmark_points(values, rep.frame_shape[0])
    if tuple(values.shape[1:]) != rep.frame_shape:
        option = "num_points/dims" if name == "landmarks" else "num_coeffs"
        raise ValueError(
            f"{name}: the store holds frames of shape {tuple(values.shape[1:])}, the representation expects "
            f"{rep.frame_shape}; set the visual option {option} to match the store"
        )
    return values
