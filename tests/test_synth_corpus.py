"""The synthetic corpus: determinism, splits, lip closure on bilabials, agreement of the four representations,
audio/video length, mp4s, resuming and bad input."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("espeakng_loader", reason="the synthetic corpus needs eSpeak NG (pip install espeakng-loader)")

from unisync_loss.cli import main  # noqa: E402
from unisync_loss.data import ClipStore  # noqa: E402
from unisync_loss.representations.parsing import CELEBAMASK_HQ_CLASSES  # noqa: E402
from unisync_loss.synth.corpus import generate_corpus  # noqa: E402
from unisync_loss.synth.settings import SynthSettings  # noqa: E402
from unisync_loss.synth.visemes import bilabial_intervals, frame_of  # noqa: E402

FAST = SynthSettings(min_seconds=3.0, max_seconds=4.0)
CLASS = {name: i for i, name in enumerate(CELEBAMASK_HQ_CLASSES)}


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".npy", ".json")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> ClipStore:
    return generate_corpus(tmp_path_factory.mktemp("synth") / "corpus", speakers=3, clips=2, seed=7,
                           settings=FAST, progress=False)


def _clips(store):
    return [store.load_clip(i, mmap=False) for i in store.clip_ids()]


def test_same_seed_gives_the_same_bytes(corpus, tmp_path):
    again = generate_corpus(tmp_path / "again", speakers=3, clips=2, seed=7, settings=FAST, mp4=False,
                            progress=False, workers=2)  # two processes: same bytes as one
    first, second = _digest(corpus.root), _digest(again.root)
    assert first and first == second
    other = generate_corpus(tmp_path / "other", speakers=1, clips=1, seed=8, settings=FAST, mp4=False, progress=False)
    assert _digest(other.root)["clips/spk0000_c000/frames.npy"] != first["clips/spk0000_c000/frames.npy"]


def test_splits_are_speaker_disjoint_and_all_present(corpus):
    by_split = {split: set(corpus.speakers(split)) for split in ("train", "val", "test")}
    assert all(by_split.values())
    assert not (by_split["train"] & by_split["val"] or by_split["train"] & by_split["test"]
                or by_split["val"] & by_split["test"])
    assert len(corpus) == 6 and all(e["num_frames"] >= 75 for e in corpus.index())


def test_array_formats_and_audio_video_lengths(corpus):
    for clip in _clips(corpus):
        t = clip.num_frames
        assert clip.frames.shape == (t, 96, 96, 3) and clip.frames.dtype == np.uint8
        assert clip.parsing.shape == (t, 96, 96) and clip.parsing.max() < 19
        assert clip.landmarks.shape == (t, 68, 2) and clip.landmarks3d.shape == (t, 68, 3)
        assert clip.coeffs3dmm.shape == (t, 64) and clip.coeffs3dmm.dtype == np.float32
        np.testing.assert_array_equal(clip.landmarks, clip.landmarks3d[:, :, :2])
        assert abs(len(clip.audio) - t * 640) <= 640 and 3.0 <= len(clip.audio) / 16000 <= 4.6
        # the mouth is in the lower half of the crop (the rgb expert sees rows 48:96)
        assert clip.landmarks[:, 48:68, 1].min() > 48
        assert clip.extra["phonemes"] and clip.extra["text"]


def _inner_gap(landmarks):
    """Vertical distance (pixels) between the inner upper and lower lip at the three middle points."""
    return (landmarks[:, [67, 66, 65], 1] - landmarks[:, [61, 62, 63], 1]).mean(1)


def test_bilabials_close_the_lips_within_one_frame(corpus):
    checked = 0
    for clip in _clips(corpus):
        gap = _inner_gap(clip.landmarks)
        mouth_pixels = (clip.parsing == CLASS["mouth"]).sum((1, 2))
        phonemes = clip.extra["phonemes"]
        intervals = bilabial_intervals([p for p, _, _ in phonemes], np.array([s for _, s, _ in phonemes]),
                                       np.array([e for _, _, e in phonemes]))
        for start, end in intervals:
            lo, hi = max(frame_of(start, 25) - 1, 0), min(frame_of(end, 25) + 1, clip.num_frames - 1)
            assert gap[lo:hi + 1].min() < 0.6, (clip.id, start, gap[lo:hi + 1])
            assert mouth_pixels[lo:hi + 1].min() <= 3
            checked += 1
        assert gap.max() > 4.0  # and the mouth does open while speaking
    assert checked >= 6


def test_the_four_representations_agree(corpus):
    for clip in _clips(corpus):
        t = np.arange(clip.num_frames)
        lm = clip.landmarks
        # points inside the lips (between outer and inner contour) fall on lip pixels of the parsing map
        for outer, inner, name in ((50, 61, "u_lip"), (51, 62, "u_lip"), (52, 63, "u_lip"),
                                   (58, 67, "l_lip"), (57, 66, "l_lip"), (56, 65, "l_lip")):
            mid = np.round((lm[:, outer] + lm[:, inner]) / 2).astype(int)
            labels = clip.parsing[t, mid[:, 1], mid[:, 0]]
            assert np.mean(labels == CLASS[name]) > 0.97, (name, np.bincount(labels))
        # eye and nose landmarks sit on their classes
        for idx, names in (([37, 38, 40, 41], ("l_eye", "skin")), ([43, 44, 46, 47], ("r_eye", "skin")),
                           ([30], ("nose",))):
            pts = np.round(lm[:, idx]).astype(int)
            labels = clip.parsing[t[:, None], pts[..., 1], pts[..., 0]]
            assert np.isin(labels, [CLASS[n] for n in names]).mean() > 0.95
        # the 3DMM opening coefficient, the landmark lip gap and the parsing mouth area move together
        opening = clip.coeffs3dmm[:, 0]
        mouth_area = (clip.parsing == CLASS["mouth"]).sum((1, 2))
        assert np.corrcoef(opening, _inner_gap(lm))[0, 1] > 0.95
        assert np.corrcoef(opening, mouth_area)[0, 1] > 0.85
        # RGB: each part's pixels have their own colour: mouth and lips differ from the skin around them
        open_frames = mouth_area > 15
        rgb = clip.frames[open_frames].astype(float)
        labels = clip.parsing[open_frames]
        skin = rgb[labels == CLASS["skin"]].mean(0)
        for name in ("mouth", "u_lip", "l_lip"):
            assert np.abs(rgb[labels == CLASS[name]].mean(0) - skin).sum() > 30, name
        lips = rgb[labels == CLASS["l_lip"]].mean(0)
        assert lips[0] / lips[1] > skin[0] / skin[1]  # lips are redder than skin


def test_mp4s_hold_the_same_clip(corpus):
    av = pytest.importorskip("av")
    clip = corpus.load_clip(corpus.clip_ids()[0])
    with av.open(str(corpus.root / "videos" / f"{clip.id}.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(corpus.root / "videos" / f"{clip.id}.mp4")) as container:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert len(frames) == clip.num_frames and frames[0].shape == (96, 96, 3)
    assert np.abs(np.asarray(frames, float) - clip.frames).mean() < 6.0
    assert abs(len(audio) - len(clip.audio)) < 2048


def test_interrupted_generation_resumes_and_extends(tmp_path):
    out = tmp_path / "corpus"
    store = generate_corpus(out, speakers=2, clips=1, seed=3, settings=FAST, progress=False)
    before = _digest(out)
    stamp = (out / "clips/spk0000_c000/frames.npy").stat().st_mtime_ns
    (out / "clips" / ".tmp-spk0001_c000-dead").mkdir()  # a writer killed mid-clip
    (out / "videos" / "spk0001_c000.mp4").unlink()  # killed between the mp4 and the clip
    store = generate_corpus(out, speakers=3, clips=1, seed=3, settings=FAST, progress=False)
    assert (out / "clips/spk0000_c000/frames.npy").stat().st_mtime_ns == stamp  # finished clips are kept
    assert not list((out / "clips").glob(".tmp-*")) and (out / "videos" / "spk0001_c000.mp4").is_file()
    assert len(store) == 3 and store.speakers() == ["spk0000", "spk0001", "spk0002"]
    after = _digest(out)
    assert all(after[k] == v for k, v in before.items() if k != "index.json")


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="speakers"):
        generate_corpus(tmp_path / "a", speakers=0, clips=1, progress=False)
    with pytest.raises(ValueError, match="clips"):
        generate_corpus(tmp_path / "a", speakers=1, clips=-1, progress=False)
    with pytest.raises(ValueError, match="workers"):
        generate_corpus(tmp_path / "a", speakers=1, clips=1, progress=False, workers=0)
    with pytest.raises(ValueError, match="language"):
        SynthSettings(language="xx")
    with pytest.raises(ValueError, match="head_motion"):
        SynthSettings(head_motion=-1)
    generate_corpus(tmp_path / "b", speakers=1, clips=1, seed=1, settings=FAST, mp4=False, progress=False)
    with pytest.raises(ValueError, match="different"):
        generate_corpus(tmp_path / "b", speakers=1, clips=1, seed=2, settings=FAST, progress=False)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an empty folder"):
        generate_corpus(tmp_path / "c", speakers=1, clips=1, progress=False)
    assert main(["synth", "--out", str(tmp_path / "d"), "--speakers", "0"]) == 2
    assert main(["synth", "--out", str(tmp_path / "b"), "--speakers", "1", "--clips", "1", "--seed", "2"]) == 2
    assert json.loads((tmp_path / "b" / "store.json").read_text())["info"]["seed"] == 1


def test_mandarin_clip_follows_its_phonemes():
    from unisync_loss.synth.clip import generate_clip
    from unisync_loss.synth.speaker import Speaker

    settings = SynthSettings(language="zh", min_seconds=3.0, max_seconds=4.0)
    clip = generate_clip(Speaker.sample(0, 4, settings), 0, 0, settings)
    clip.validate()
    assert clip.extra["language"] == "zh" and any("\u4e00" <= ch <= "\u9fff" for ch in clip.extra["text"])
    assert clip.extra["voice"].startswith("cmn")
    gap = _inner_gap(clip.landmarks)
    phonemes = clip.extra["phonemes"]
    for start, end in bilabial_intervals([p for p, _, _ in phonemes], np.array([s for _, s, _ in phonemes]),
                                         np.array([e for _, _, e in phonemes])):
        lo, hi = max(frame_of(start, 25) - 1, 0), frame_of(end, 25) + 1
        assert gap[lo:hi + 1].min() < 0.6


def test_difficulty_knobs_at_zero_remove_distractors():
    from unisync_loss.synth.clip import generate_clip
    from unisync_loss.synth.speaker import Speaker

    calm = SynthSettings(min_seconds=3.0, max_seconds=3.5, snr_db=None, head_motion=0.0, lighting=0.0,
                         articulation_variability=0.0)
    clip = generate_clip(Speaker.sample(0, 0, calm), 0, 0, calm)
    # no head motion and no facial nuisance: the nose tip and jaw corners stay put, only mouth and blinks move
    assert np.ptp(clip.landmarks[:, [0, 16, 27, 30]], axis=0).max() < 1e-3
    assert np.abs(clip.coeffs3dmm[:, 6:12]).max() == 0.0 and np.abs(clip.coeffs3dmm[:, 14:]).max() == 0.0
    assert np.ptp(clip.landmarks[:, 48:68], axis=0).max() > 3.0
    noisy = SynthSettings(min_seconds=3.0, max_seconds=3.5, snr_db=0.0)
    loud = generate_clip(Speaker.sample(0, 0, noisy), 0, 0, noisy)
    quiet_start = loud.audio[:2000]  # the lead-in silence now carries noise
    assert np.abs(clip.audio[:2000]).max() == 0.0 and np.abs(quiet_start).max() > 0.01
