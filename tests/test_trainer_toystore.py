"""A tiny clip store whose sync is learnable (mouth opening follows the audio loudness), for the trainer tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unisync_loss.data import Clip, ClipStore

SAMPLES_PER_FRAME = 640  # 16 kHz / 25 fps


def make_store(root: Path, speakers: int = 3, clips_per_speaker: int = 2, frames: int = 48, seed: int = 0,
               val_speakers: int = 0) -> ClipStore:
    """``speakers`` train speakers (plus ``val_speakers`` in val/test) with per-frame loudness driving the mouth."""
    rng = np.random.default_rng(seed)
    store = ClipStore.create(root, info={"kind": "trainer-test-store", "seed": seed})
    plan = [("train", s) for s in range(speakers)]
    plan += [(split, speakers + s) for s in range(val_speakers) for split in ("val", "test")]
    for split, speaker in plan:
        tone = 150.0 + 60.0 * speaker
        for c in range(clips_per_speaker):
            loud = rng.uniform(0.05, 1.0, frames).astype(np.float32)
            t = np.arange(frames * SAMPLES_PER_FRAME) / 16000.0
            envelope = np.repeat(loud, SAMPLES_PER_FRAME)
            audio = (0.5 * envelope * np.sin(2 * np.pi * tone * t)).astype(np.float32)
            audio += rng.normal(0, 0.005, audio.shape).astype(np.float32)
            face = np.zeros((frames, 32, 32, 3), dtype=np.uint8)
            face[...] = np.array([180, 140 - 10 * speaker, 120], dtype=np.uint8)
            parsing = np.ones((frames, 32, 32), dtype=np.uint8)
            for i, a in enumerate(loud):
                h = 1 + int(round(a * 7))
                face[i, 24 - h // 2:24 + (h + 1) // 2, 8:24] = 30
                parsing[i, 24 - h // 2:24 + (h + 1) // 2, 8:24] = 11
            angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
            landmarks = np.stack([16 + 8 * np.cos(angles)[None].repeat(frames, 0),
                                  24 + (1 + 4 * loud[:, None]) * np.sin(angles)[None]], axis=-1).astype(np.float32)
            coeffs = rng.normal(0, 0.1, (frames, 8)).astype(np.float32)
            coeffs[:, 0] = loud
            store.write_clip(Clip(id=f"{split}-s{speaker}-c{c}", speaker=f"spk{speaker}", split=split, audio=audio,
                                  frames=face, parsing=parsing, landmarks=landmarks, coeffs3dmm=coeffs))
    store.reindex()
    return store


def test_toy_store_is_consistent(tmp_path):
    store = make_store(tmp_path / "store", speakers=2, clips_per_speaker=1, frames=20, val_speakers=1)
    assert store.speakers("train") == ["spk0", "spk1"] and store.speakers("val") == ["spk2"]
    clip = store.load_clip("train-s0-c0")
    loud_frames = (clip.frames[:, :, 12, 0] == 30).sum(axis=1)
    energy = np.abs(np.asarray(clip.audio)).reshape(20, SAMPLES_PER_FRAME).mean(axis=1)
    assert np.corrcoef(loud_frames, energy)[0, 1] > 0.9
