"""Few-step train + inference smoke run: a playable mp4 with audio, and clear errors for bad inputs."""

import av
import cv2
import numpy as np
import pytest
import torch

from integrations.wav2lip.infer import main, plan_frames
from integrations.wav2lip.trainer import GeneratorTrainer, TrainConfig
from unisync_loss import UniSyncExpert
from unisync_loss.data.clip_store import Clip, ClipStore
from unisync_loss.synth.mp4 import write_mp4


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("wav2lip_infer")
    store = ClipStore.create(root / "store", {"test": "wav2lip-infer"})
    rng = np.random.default_rng(1)
    t = np.arange(40 * 640) / 16000
    ramp = np.linspace(200, 250, 80)
    smooth = np.stack([ramp[None, :].repeat(80, 0), ramp[:, None].repeat(80, 1), np.full((80, 80), 230.0)], -1)
    for i, split in enumerate(("train", "val")):
        frames = (smooth[None] - rng.integers(0, 20, (40, 1, 1, 3))).astype(np.uint8)  # compresses cleanly
        audio = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
        store.write_clip(Clip(id=f"c{i}", speaker=f"s{i}", split=split, audio=audio, frames=frames))
    store.reindex()
    torch.manual_seed(0)
    UniSyncExpert("mel", "rgb", channels=16, embed_dim=32).eval().save_pretrained(root / "expert")
    GeneratorTrainer(TrainConfig(data=str(root / "store"), out=str(root / "run"), expert=str(root / "expert"),
                                 steps=1, batch_size=1, width=0.125, eval_batches=1)).fit()
    clip = store.load_clip("c0", mmap=False)
    write_mp4(root / "face.mp4", clip.frames, clip.audio)
    write_mp4(root / "speech.mp4", clip.frames[:30], clip.audio[: 30 * 640])
    cv2.imwrite(str(root / "face.png"), clip.frames[0][..., ::-1])
    return root


def test_train_then_infer_writes_playable_mp4_with_audio(trained):
    out = trained / "out.mp4"
    assert main(["--face", str(trained / "face.png"), "--audio", str(trained / "speech.mp4"), "--checkpoint",
                 str(trained / "run" / "checkpoint_step000000001.pth"), "--out", str(out),
                 "--box", "8", "8", "72", "64"]) == 0
    with av.open(str(out)) as container:
        assert container.streams.audio and container.streams.video
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 30 and frames[0].shape == (80, 80, 3)
    still = cv2.imread(str(trained / "face.png"))[..., ::-1]
    assert np.abs(frames[0][:4].astype(int) - still[:4]).mean() < 6  # outside the box: the input frame
    assert np.abs(frames[0][40:60, 20:60].astype(int) - still[40:60, 20:60]).mean() > 20  # the mouth: generated


def test_audio_shorter_than_video_is_an_error(trained, capsys):
    code = main(["--face", str(trained / "face.mp4"), "--audio", str(trained / "speech.mp4"), "--checkpoint",
                 str(trained / "run" / "checkpoint_step000000001.pth"), "--out", str(trained / "x.mp4"),
                 "--box", "8", "8", "72", "64"])
    assert code == 2 and "shorter than the face video" in capsys.readouterr().err
    assert plan_frames(40, still=False, audio_seconds=1.2, trim=True) == list(range(30))
    assert plan_frames(10, still=False, audio_seconds=0.6, trim=False) == list(range(10)) + list(range(5))
