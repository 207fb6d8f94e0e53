"""Evaluation protocols on known cases: an oracle expert scores 100 %, a random one about chance; the command runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from test_trainer_toystore import make_store
from train_expert import evaluate
from train_expert.metrics import equal_error_rate, roc_auc, roc_curve
from train_expert.sampling import SyncPairDataset
from train_expert.windows import WindowSource
from unisync_loss import UniSyncExpert, create_representation
from unisync_loss.audio.features import feature_config
from unisync_loss.cli import main as unisync_main
from unisync_loss.data import Clip, ClipStore

FRAMES, CLIPS = 45, 4


class OracleExpert:
    """Embeds the first frame of each window, which in the oracle store is a one-hot code of the global frame."""

    training = False

    def embed_audio(self, x):
        return x[:, 0].float()

    def embed_visual(self, x):
        return x[:, 0].float()


class RandomExpert:
    """Fixed random projections of the flattened windows (knows nothing about sync)."""

    training = False

    def __init__(self, audio_numel, visual_numel, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.wa, self.wv = torch.randn(audio_numel, 32, generator=g), torch.randn(visual_numel, 32, generator=g)

    def embed_audio(self, x):
        return x.flatten(1).float() @ self.wa

    def embed_visual(self, x):
        return x.flatten(1).float() @ self.wv


@pytest.fixture(scope="module")
def oracle_source(tmp_path_factory):
    dim = FRAMES * CLIPS
    store = ClipStore.create(tmp_path_factory.mktemp("oracle") / "store", info={"kind": "oracle"})
    audio_rep = create_representation({"name": "hubert", "dim": dim, "model": "unused"})
    visual_rep = create_representation({"name": "3dmm", "num_coeffs": dim})
    for c in range(CLIPS):
        codes = np.eye(dim, dtype=np.float32)[c * FRAMES:(c + 1) * FRAMES]
        clip = Clip(id=f"c{c}", speaker=f"s{c % 2}", split="test", audio=np.zeros(FRAMES * 640, np.float32),
                    coeffs3dmm=codes)
        store.write_clip(clip)
        store.features(clip.id, feature_config(audio_rep), lambda _a, codes=codes: np.repeat(codes, 2, axis=0))
    store.reindex()
    return WindowSource(store, audio_rep, visual_rep, "test", min_starts=3)


def test_metrics_on_known_cases():
    assert roc_auc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == 1.0
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0
    assert roc_auc([0.5] * 4, [1, 0, 1, 0]) == 0.5
    assert equal_error_rate([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == 0.0
    assert equal_error_rate([0.9, 0.3, 0.8, 0.1], [1, 1, 0, 0]) == pytest.approx(0.5)
    fpr, tpr, _ = roc_curve([0.9, 0.3, 0.8, 0.1], [1, 1, 0, 0])
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    with pytest.raises(ValueError, match="labels"):
        roc_auc([0.1, 0.2], [1, 1])


def test_oracle_expert_is_perfect(oracle_source):
    dataset = SyncPairDataset(oracle_source, 200, seed=0, cross_share=0.2)
    a = evaluate.protocol_a(OracleExpert(), dataset)
    assert a["accuracy"] == 1.0 and a["auc"] == 1.0 and a["eer"] == 0.0
    b = evaluate.protocol_b(OracleExpert(), oracle_source)
    assert b["clips"] == CLIPS
    assert all(b[f"K{k}"] == 1.0 for k in evaluate.CONTEXTS)


def test_random_expert_is_at_chance(oracle_source):
    dim = FRAMES * CLIPS
    expert = RandomExpert(10 * dim, 5 * dim)
    a = evaluate.protocol_a(expert, SyncPairDataset(oracle_source, 400, seed=1, cross_share=0.2))
    assert 0.35 < a["auc"] < 0.65 and 0.35 < a["accuracy"] < 0.65
    b = evaluate.protocol_b(expert, oracle_source)
    assert b["K5"] < 0.35  # chance is 3 of 31 offsets, about 0.1


def test_offset_accuracy_context_and_tolerance():
    scores = np.zeros((6, 31))
    scores[:, 15 + 1] = 1.0  # every window says +1: within tolerance
    assert evaluate.offset_accuracy(scores, 5, 15) == 1.0
    scores[:3, 15 + 1], scores[:3, 15 + 5] = 0.0, 2.0  # first half says +5, strongly
    assert evaluate.offset_accuracy(scores, 5, 15) == 0.5
    assert evaluate.offset_accuracy(scores, 9, 15) == 0.0  # averaging 5 windows: the strong +5 dominates
    assert evaluate.offset_accuracy(scores, 15, 15) is None  # 11 windows needed, 6 available


def test_evaluation_command(tmp_path, unisync_commands):
    store = make_store(tmp_path / "store", speakers=2, clips_per_speaker=1, frames=40, val_speakers=2)
    torch.manual_seed(0)
    expert = UniSyncExpert("mel", {"name": "3dmm", "num_coeffs": 8}, channels=8, embed_dim=16)
    expert.save_pretrained(tmp_path / "expert")
    out = tmp_path / "result.json"
    args = ["--expert", str(tmp_path / "expert"), "--data", str(tmp_path / "store"), "--pairs", "64",
            "--json", str(out)]
    assert evaluate.main(args) == 0
    result = json.loads(out.read_text())
    assert result["pair"] == "mel-3dmm" and result["split"] == "test"
    assert 0.0 <= result["protocol_a"]["accuracy"] <= 1.0 and result["protocol_b"]["clips"] == 2
    assert "cross-speaker" in result["protocol_a"]["negatives"]
    assert unisync_main(["evaluate", *args[:4], "--pairs", "32"]) == 0
    assert evaluate.main(["--expert", str(tmp_path / "missing"), "--data", str(tmp_path / "store")]) == 2
