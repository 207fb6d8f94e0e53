"""GeneFace's binarized LRS3 and person datasets -> motion clips and clip stores."""

import pickle

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from integrations.geneface.readers import (IndexedDatasetReader, iter_lrs3_clips, lrs3_to_clip_store,
                                           person_to_clip_store, read_person_clips)
from unisync_loss.audio.features import cached_features

INDEX_SIZE = 4096



def write_indexed_dataset(prefix, items):
    """GeneFace's on-disk layout: 32-byte little-endian index size, the pickled index at 32, items after it."""
    offsets, blobs = [INDEX_SIZE], [pickle.dumps(item) for item in items]
    for blob in blobs:
        offsets.append(offsets[-1] + len(blob))
    index = pickle.dumps({"offsets": offsets, "id2pos": {}, "meta": {"chunk_begin": [0], "gzip": False}})
    with open(f"{prefix}.data", "wb") as f:
        f.write(len(index).to_bytes(32, "little"))
        f.write(index)
        f.seek(INDEX_SIZE)
        for blob in blobs:
            f.write(blob)


def lrs3_item(speaker, clip, frames, rng, hubert_frames=None):
    return {"item_id": f"{speaker}_{clip}", "spk_id": speaker, "mel": rng.normal(size=(2 * frames, 80)),
            "hubert": rng.normal(size=(hubert_frames or 2 * frames - 1, 1024)).astype(np.float32),
            "coeff": rng.normal(size=(frames, 257)).astype(np.float32),
            "idexp_lm3d": rng.normal(size=(frames, 68, 3)).astype(np.float32), "lm68": np.zeros((frames, 68, 2))}


def test_lrs3_items_become_clips_and_a_clip_store(tmp_path):
    rng = np.random.default_rng(0)
    binary, raw = tmp_path / "binary", tmp_path / "raw"
    binary.mkdir()
    items = {"train": [lrs3_item("spkA", "00001", 30, rng), lrs3_item("spkB", "00002", 25, rng)],
             "val": [lrs3_item("spkA", "00003", 20, rng)]}
    for split, split_items in items.items():
        write_indexed_dataset(binary / split, split_items)
        for item in split_items:
            speaker, clip = item["item_id"].split("_")
            (raw / speaker).mkdir(parents=True, exist_ok=True)
            frames = len(item["coeff"])
            wave = (rng.normal(size=frames * 640) * 3000).astype(np.int16)
            wavfile.write(raw / speaker / f"{clip}.wav", 16000, wave)
    reader = IndexedDatasetReader(binary / "train")
    assert len(reader) == 2 and reader[1]["item_id"] == "spkB_00002"

    clips = list(iter_lrs3_clips(binary, "train"))
    assert [c.speaker for c in clips] == ["spkA", "spkB"]
    assert clips[0].features.shape == (60, 1024) and clips[0].motion.shape == (30, 68, 3)
    np.testing.assert_array_equal(clips[0].features[:59], items["train"][0]["hubert"])  # zero-padded by one frame
    assert not clips[0].features[59].any()
    exp = next(iter_lrs3_clips(binary, "val", target="3dmm"))
    np.testing.assert_array_equal(exp.motion, items["val"][0]["coeff"][:, 80:144])

    store = lrs3_to_clip_store(binary, raw, tmp_path / "store")
    assert store.clip_ids("val") == ["spkA_00003"] and store.speakers("train") == ["spkA", "spkB"]
    clip = store.load_clip("spkA_00001")
    assert clip.audio.shape == (30 * 640,) and clip.landmarks.shape == (30, 68, 3) and clip.coeffs3dmm.shape == (30, 64)
    # the project's shared cache finds them: no HuBERT model is needed to train on this store
    np.testing.assert_array_equal(cached_features(store, "spkA_00001", "hubert"), clips[0].features)


def test_lrs3_hubert_at_25_hz_is_refused(tmp_path):
    rng = np.random.default_rng(1)
    write_indexed_dataset(tmp_path / "train", [lrs3_item("s", "1", 40, rng, hubert_frames=40)])
    with pytest.raises(ValueError, match="looks like 25 Hz"):
        list(iter_lrs3_clips(tmp_path, "train"))
    with pytest.raises(FileNotFoundError, match="indexed dataset"):
        IndexedDatasetReader(tmp_path / "val")


def test_person_dataset_to_clips_and_store(tmp_path):
    rng = np.random.default_rng(2)
    frames, train_frames = 55, 50
    samples = [{"idx": i, "exp": rng.normal(size=64).astype(np.float32),
                "idexp_lm3d": rng.normal(size=(68, 3)).astype(np.float32)} for i in range(frames)]
    data = {"hubert": rng.normal(size=(2 * frames + 1, 1024)).astype(np.float32),
            "train_samples": samples[:train_frames][::-1], "val_samples": samples[train_frames:]}
    binary = tmp_path / "data" / "binary" / "videos" / "May"
    binary.mkdir(parents=True)
    np.save(binary / "trainval_dataset.npy", data, allow_pickle=True)
    processed = tmp_path / "data" / "processed" / "videos" / "May"
    processed.mkdir(parents=True)
    wave = (np.sin(np.arange(frames * 640) / 7) * 2 ** 14).astype(np.int16)
    wavfile.write(processed / "aud.wav", 16000, wave)

    clips = read_person_clips(binary / "trainval_dataset.npy")
    assert clips["train"].motion.shape == (50, 68, 3) and clips["val"].features.shape == (10, 1024)
    np.testing.assert_array_equal(clips["train"].motion[3], samples[3]["idexp_lm3d"])  # sorted by idx
    np.testing.assert_array_equal(clips["val"].features, data["hubert"][100:110])

    store = person_to_clip_store(binary / "trainval_dataset.npy", tmp_path / "store")
    val = store.load_clip("May-val")
    np.testing.assert_allclose(val.audio, wave[50 * 640:] / 32768, atol=1e-6)
    np.testing.assert_array_equal(val.coeffs3dmm[0], samples[50]["exp"])
    with pytest.raises(FileNotFoundError, match="aud.wav"):
        person_to_clip_store(binary / "trainval_dataset.npy", tmp_path / "store2", tmp_path / "aud.wav")
