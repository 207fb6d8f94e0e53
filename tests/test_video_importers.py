"""External formats: Wav2Lip's preprocessed layout, GeneFace's binarized data, BiSeNet maps, Deep3DFaceRecon."""

import pickle

import cv2
import numpy as np
import pytest
from test_video_media import write_wav

from unisync_loss.data import ClipStore
from unisync_loss.data.external_arrays import load_3dmm_coeffs, load_parsing_maps, split_3dmm
from unisync_loss.data.geneface_layout import (HUBERT_CONFIG, import_geneface, lrs3_audio_finder, read_geneface_lrs3,
                                               read_geneface_trainval, read_indexed_dataset)
from unisync_loss.data.wav2lip_layout import import_wav2lip, load_wav2lip_clip


# ------------------------------------------------------------------------------------------------- Wav2Lip layout
def make_wav2lip_clip(folder, frames, audio_seconds, missing=()):
    folder.mkdir(parents=True)
    for i in range(frames):
        if i not in missing:
            image = np.full((120, 110, 3), (i * 5) % 256, np.uint8)
            cv2.imwrite(str(folder / f"{i}.jpg"), image)
    if audio_seconds:
        t = np.arange(int(audio_seconds * 16000)) / 16000
        write_wav(folder / "audio.wav", 0.3 * np.sin(2 * np.pi * 220 * t))


@pytest.fixture
def wav2lip_root(tmp_path):
    root = tmp_path / "lrs2_preprocessed"
    make_wav2lip_clip(root / "vid1" / "00001", 30, 1.2)
    make_wav2lip_clip(root / "vid1" / "00002", 40, 1.6, missing=(5,))  # a hole, as Wav2Lip leaves them
    make_wav2lip_clip(root / "vid2" / "00001", 30, 0)  # no audio.wav
    lists = tmp_path / "filelists"
    lists.mkdir()
    (lists / "train.txt").write_text("vid1/00001\nvid1/00002\nvid2/00001\n")
    (lists / "val.txt").write_text("vid9/00001\n")
    return root, lists


def test_wav2lip_layout_imports_with_gaps_never_bridged(wav2lip_root, tmp_path):
    root, lists = wav2lip_root
    summary = import_wav2lip(root, lists, tmp_path / "store", progress=False)
    assert summary["imported"] == 2 and summary["skip_reasons"] == {"no audio": 1, "missing": 1}
    store = ClipStore(tmp_path / "store")
    clip = store.load_clip("vid1-00001")
    assert clip.frames.shape == (30, 96, 96, 3) and len(clip.audio) == 30 * 640 and clip.speaker == "vid1"
    assert abs(int(clip.frames[7].mean()) - 35) <= 3  # frame 7 is frame 7 (JPEG tolerance)
    gap = store.load_clip("vid1-00002")
    assert gap.extra["start_frame"] == 6 and len(gap.frames) == 34  # longest run 6..39, audio from 6 * 640
    assert abs(int(gap.frames[0].mean()) - 30) <= 3


def test_wav2lip_gap_can_skip_the_clip(wav2lip_root):
    root, _ = wav2lip_root
    from unisync_loss.data.import_report import SkipEntry

    with pytest.raises(SkipEntry, match="missing"):
        load_wav2lip_clip(root, "vid1/00002", on_gap="skip")
    with pytest.raises(ValueError, match="on_gap"):
        load_wav2lip_clip(root, "vid1/00001", on_gap="bridge")


# ------------------------------------------------------------------------------------------------- GeneFace
def write_indexed_dataset(prefix, items):
    """GeneFace's IndexedDataset layout: 32-byte length, pickled index, then pickled items at absolute offsets."""
    blobs = [pickle.dumps(item) for item in items]
    offsets = [4096]
    for blob in blobs:
        offsets.append(offsets[-1] + len(blob))
    header = pickle.dumps({"offsets": offsets, "id2pos": {}, "meta": {"chunk_begin": [0], "gzip": False}})
    with open(f"{prefix}.data", "wb") as file:
        file.write(len(header).to_bytes(32, "little") + header)
        file.write(bytes(4096 - 32 - len(header)))
        for blob in blobs:
            file.write(blob)


def geneface_item(rng, speaker, clip, frames):
    return {"item_id": f"{speaker}_{clip}", "spk_id": speaker, "coeff": rng.normal(size=(frames, 257)).astype(np.float32),
            "hubert": rng.normal(size=(2 * frames, 1024)).astype(np.float32), "mel": np.zeros((2 * frames, 80)),
            "lm68": rng.uniform(0, 200, (frames, 68, 2)), "idexp_lm3d": rng.normal(size=(frames, 68, 3))}


def test_geneface_lrs3_binarized_data_imports(tmp_path):
    rng = np.random.default_rng(0)
    binary, raw = tmp_path / "binary", tmp_path / "lrs3_raw"
    binary.mkdir()
    items = [geneface_item(rng, "spk_A1", "00001", 30), geneface_item(rng, "spk_A1", "00002", 25)]
    write_indexed_dataset(binary / "train", items)
    (raw / "spk_A1").mkdir(parents=True)
    write_wav(raw / "spk_A1" / "00001.wav", 0.1 * rng.normal(size=30 * 640))  # 00002 has no audio
    read = list(read_geneface_lrs3(binary, "train"))
    assert [r.item_id for r in read] == ["spk_A1_00001", "spk_A1_00002"] and read[0].speaker == "spk_A1"
    np.testing.assert_array_equal(read[0].exp, items[0]["coeff"][:, 80:144])
    summary = import_geneface(read, tmp_path / "store", lrs3_audio_finder(raw), progress=False)
    assert summary["imported"] == 1 and summary["skip_reasons"] == {"no audio": 1}
    store = ClipStore(tmp_path / "store")
    clip = store.load_clip("spk_A1_00001")
    assert clip.coeffs3dmm.shape == (30, 64) and clip.landmarks.shape == (30, 68, 3) and len(clip.audio) == 30 * 640
    cached = store.features("spk_A1_00001", HUBERT_CONFIG, compute=lambda a: pytest.fail("must be cached"))
    np.testing.assert_allclose(cached, items[0]["hubert"])


def test_geneface_bad_items_are_refused(tmp_path):
    rng = np.random.default_rng(1)
    item = geneface_item(rng, "s", "1", 10)
    item["hubert"] = item["hubert"][:5]
    write_indexed_dataset(tmp_path / "train", [item])
    with pytest.raises(ValueError, match="hubert"):
        list(read_geneface_lrs3(tmp_path, "train"))
    with pytest.raises(FileNotFoundError, match="prefix"):
        list(read_indexed_dataset(tmp_path / "val"))


def test_geneface_trainval_npy(tmp_path):
    rng = np.random.default_rng(2)
    samples = [{"idx": i, "exp": rng.normal(size=64), "idexp_lm3d": rng.normal(size=(68, 3))} for i in range(12)]
    data = {"hubert": rng.normal(size=(24, 1024)), "train_samples": samples[:9][::-1], "val_samples": samples[9:]}
    np.save(tmp_path / "trainval_dataset.npy", data, allow_pickle=True)
    train, val = read_geneface_trainval(tmp_path / "trainval_dataset.npy", speaker="may")
    assert train.exp.shape == (9, 64) and val.exp.shape == (3, 64) and val.hubert.shape == (6, 1024)
    np.testing.assert_allclose(train.exp[2], samples[2]["exp"])
    np.testing.assert_allclose(val.hubert, data["hubert"][18:24])


# ------------------------------------------------------------------------------------------------- arrays
def test_parsing_maps_from_pngs_and_npy(tmp_path):
    maps = np.random.default_rng(3).integers(0, 19, (3, 32, 32)).astype(np.uint8)
    for i, label in enumerate(maps):
        cv2.imwrite(str(tmp_path / f"{i}.png"), label)
    loaded = load_parsing_maps(tmp_path)
    np.testing.assert_array_equal(loaded, maps)
    assert load_parsing_maps(tmp_path, size=(16, 8)).shape == (3, 16, 8)
    np.save(tmp_path / "bad.npy", maps.astype(np.int64) + 5)
    with pytest.raises(ValueError, match="CelebAMask-HQ"):
        load_parsing_maps(tmp_path / "bad.npy")
    (tmp_path / "4.png").write_bytes((tmp_path / "0.png").read_bytes())
    with pytest.raises(ValueError, match="without gaps"):
        load_parsing_maps(tmp_path)


def test_deep3dfacerecon_coefficients(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(4)
    coeffs = rng.normal(size=(5, 257)).astype(np.float32)
    parts = split_3dmm(coeffs)
    assert {k: v.shape[1] for k, v in parts.items()} == {"id": 80, "exp": 64, "tex": 80, "angle": 3, "gamma": 27,
                                                         "trans": 3}
    savemat(tmp_path / "all.mat", parts)
    np.testing.assert_allclose(load_3dmm_coeffs(tmp_path / "all.mat"), coeffs, rtol=1e-6)
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(5):
        savemat(frames / f"{i}.mat", {k: v[i:i + 1] for k, v in parts.items()})
    np.testing.assert_allclose(load_3dmm_coeffs(frames), coeffs, rtol=1e-6)
    np.save(tmp_path / "c.npy", coeffs[:, :200])
    with pytest.raises(ValueError, match="257"):
        load_3dmm_coeffs(tmp_path / "c.npy")
    savemat(tmp_path / "partial.mat", {"id": parts["id"], "exp": parts["exp"]})
    with pytest.raises(ValueError, match="missing"):
        load_3dmm_coeffs(tmp_path / "partial.mat")
    with pytest.raises(FileNotFoundError):
        load_3dmm_coeffs(tmp_path / "none.npy")
