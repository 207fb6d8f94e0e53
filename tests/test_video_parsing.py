"""BiSeNet face parsing from a weights file: same state-dict layout and outputs as facexlib's network."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from unisync_loss.video.parsing_model import BiSeNet, FaceParser

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "video" / "bisenet_reference.json").read_text())


def seeded_state(model):
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, value in sorted(model.state_dict().items()):
        if key.endswith("num_batches_tracked"):
            state[key] = torch.zeros_like(value)
        elif key.endswith("running_var"):
            state[key] = torch.rand(value.shape, generator=generator) + 0.5
        else:
            state[key] = torch.randn(value.shape, generator=generator) * 0.1
    return state


def test_state_dict_layout_matches_the_checkpoints():
    ours = {k: list(v.shape) for k, v in BiSeNet().state_dict().items()}
    assert ours == REFERENCE["keys"]


@pytest.fixture(scope="module")
def state():
    return seeded_state(BiSeNet())


@pytest.fixture(scope="module")
def weights(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("weights") / "parsing_bisenet.pth"
    torch.save(state, path)
    return path


def test_logits_match_the_reference_network(state):
    model = BiSeNet().eval()
    model.load_state_dict(state)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(x)
    np.testing.assert_allclose(out[0, :, ::8, ::8].numpy(), np.array(REFERENCE["logits_stride8"]), atol=2e-4)


def test_face_parser_loads_a_weights_file_and_labels_crops(weights):
    parser = FaceParser(weights, input_size=32, batch_size=2)
    crops = np.random.default_rng(0).integers(0, 255, (3, 48, 40, 3), dtype=np.uint8)
    labels = parser(crops)
    assert labels.shape == (3, 48, 40) and labels.dtype == np.uint8 and labels.max() < 19
    with pytest.raises(ValueError, match="crops"):
        parser(crops.astype(np.float32))


def test_face_parser_refuses_other_files(tmp_path):
    torch.save({"conv.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a BiSeNet"):
        FaceParser(tmp_path / "other.pth")
    with pytest.raises(FileNotFoundError, match="weights"):
        FaceParser(tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="input_size"):
        FaceParser(tmp_path / "other.pth", input_size=100)


def test_preprocess_stores_parsing_maps_of_the_crops(tmp_path, weights):
    from test_video_media import tone, write_video
    from test_video_pipeline import CONFIG, SECONDS, frames, square_detector

    from unisync_loss.data import ClipStore
    from unisync_loss.video.pipeline import PreprocessConfig
    from unisync_loss.video.run import preprocess

    (tmp_path / "in").mkdir()
    write_video(tmp_path / "in" / "face.mp4", frames()[:26], audio=tone(SECONDS))
    config = PreprocessConfig(**{**CONFIG.__dict__, "parsing_weights": str(weights), "parsing_size": 32})
    summary = preprocess(tmp_path / "in", tmp_path / "store", config, detector_factory=square_detector, progress=False)
    assert summary["clips"] == 1
    clip = ClipStore(tmp_path / "store").load_clip("face")
    assert clip.parsing.shape == (26, 96, 96) and clip.parsing.dtype == np.uint8 and clip.parsing.max() < 19
    with pytest.raises(FileNotFoundError, match="parsing_weights"):
        PreprocessConfig(parsing_weights=str(tmp_path / "none.pth")).validate()
