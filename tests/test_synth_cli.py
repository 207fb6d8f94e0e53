"""``unisync synth``: the corpus command, the README figure, the mp4 writer's input checks."""

import numpy as np
import pytest

pytest.importorskip("espeakng_loader", reason="the synthetic corpus needs eSpeak NG (pip install espeakng-loader)")

from PIL import Image  # noqa: E402

from unisync_loss.cli import main  # noqa: E402
from unisync_loss.data import ClipStore  # noqa: E402
from unisync_loss.synth.figure import save_figure  # noqa: E402
from unisync_loss.synth.mp4 import write_mp4  # noqa: E402
from unisync_loss.synth.settings import SynthSettings  # noqa: E402


def test_command_writes_a_corpus_with_its_settings(tmp_path, capsys):
    out = tmp_path / "corpus"
    code = main(["synth", "--out", str(out), "--speakers", "2", "--clips", "1", "--min-seconds", "3",
                 "--max-seconds", "3", "--clean", "--head-motion", "0.5", "--no-mp4"])
    assert code == 0
    store = ClipStore(out)
    assert len(store) == 2 and not any((out / "videos").iterdir())
    settings = store.header["info"]["settings"]
    assert settings["snr_db"] is None and settings["head_motion"] == 0.5 and settings["language"] == "en"
    assert "2 clips" in capsys.readouterr().out
    assert main(["synth"]) == 2  # neither --out nor --figure


def test_figure_is_a_small_png(tmp_path):
    path = save_figure(tmp_path / "fig.png", speakers=(0,), frames=2,
                       settings=SynthSettings(min_seconds=3.0, max_seconds=3.0))
    image = Image.open(path)
    assert image.format == "PNG" and image.width > 150 and image.height > 300
    assert path.stat().st_size < 500_000
    with pytest.raises(ValueError, match="path"):
        save_figure(tmp_path / "fig.jpg")
    with pytest.raises(ValueError, match="frames"):
        save_figure(tmp_path / "fig.png", frames=0)


def test_mp4_writer_rejects_bad_arrays(tmp_path):
    frames = np.zeros((5, 96, 96, 3), np.uint8)
    audio = np.zeros(3200, np.float32)
    with pytest.raises(ValueError, match="frames"):
        write_mp4(tmp_path / "a.mp4", frames[:, :95], audio)
    with pytest.raises(ValueError, match="frames"):
        write_mp4(tmp_path / "a.mp4", frames.astype(np.float32), audio)
    with pytest.raises(ValueError, match="audio"):
        write_mp4(tmp_path / "a.mp4", frames, audio[None])
    assert write_mp4(tmp_path / "a.mp4", frames, audio).stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]  # no temporary file left behind


@pytest.mark.parametrize("kwargs, name", [
    ({"size": 100}, "size"), ({"min_seconds": 5, "max_seconds": 4}, "min_seconds"),
    ({"snr_db": float("inf")}, "snr_db"), ({"lighting": 6}, "lighting"),
])
def test_settings_bad_values(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SynthSettings(**kwargs)
