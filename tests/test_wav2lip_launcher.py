"""The upstream launcher against a stand-in Wav2Lip repository with the official module layout and calling conventions.

The stand-in's ``wav2lip_train.py`` parses its arguments and builds ``SyncNet()`` at import time, loads the expert with
``torch.load(path)["state_dict"]`` (``module.`` stripped), never calls ``syncnet.eval()``, and uses
``cosine_similarity(a, v)`` of ``syncnet(mel (B,1,80,16), faces (B,15,48,96))`` as the sync probability. Its
``audio.py`` calls ``librosa.filters.mel(sr, n_fft, ...)`` positionally against a librosa whose ``mel`` is keyword-only
(as librosa >= 0.10). Its own ``SyncNet_color`` refuses to run, so any use of it fails the test.
"""

import hashlib
import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from integrations.wav2lip.expert_adapter import UniSyncSyncNet
from integrations.wav2lip.launcher import check_wav2lip_dir, launch, main
from unisync_loss import UniSyncExpert

STAND_IN = {
    "models/__init__.py": "from .syncnet import SyncNet_color\nfrom .wav2lip import Wav2Lip\n",
    "models/syncnet.py": """
        from torch import nn
        class SyncNet_color(nn.Module):
            def __init__(self):
                super().__init__()
                raise RuntimeError("the upstream SyncNet_color was used instead of UniSync")
    """,
    "models/wav2lip.py": """
        import torch
        from torch import nn
        class Wav2Lip(nn.Module):
            def __init__(self):
                super().__init__()
                self.face = nn.Conv2d(6, 3, 3, padding=1)
                self.audio = nn.Linear(80 * 16, 3)
            def forward(self, audio_sequences, face_sequences):
                b, t = audio_sequences.shape[:2]
                a = self.audio(audio_sequences.reshape(b * t, -1)).reshape(b, t, 3, 1, 1).permute(0, 2, 1, 3, 4)
                f = self.face(face_sequences.permute(0, 2, 1, 3, 4).reshape(b * t, 6, 96, 96))
                f = f.reshape(b, t, 3, 96, 96).permute(0, 2, 1, 3, 4)
                return torch.sigmoid(f + a)
    """,
    "hparams.py": """
        class HParams:
            def __init__(self, **kwargs):
                self.data = dict(kwargs)
            def __getattr__(self, key):
                if key not in self.data:
                    raise AttributeError(key)
                return self.data[key]
            def set_hparam(self, key, value):
                self.data[key] = value
        hparams = HParams(sample_rate=16000, n_fft=800, num_mels=80, fmin=55, fmax=7600, batch_size=16,
                          syncnet_wt=0.0)
    """,
    "audio.py": """
        import librosa
        import librosa.filters
        from hparams import hparams as hp
        def build_mel_basis():
            return librosa.filters.mel(hp.sample_rate, hp.n_fft, n_mels=hp.num_mels, fmin=hp.fmin, fmax=hp.fmax)
    """,
    "wav2lip_train.py": """
        import argparse, json, os
        import torch
        from torch import nn
        from models import SyncNet_color as SyncNet
        from models import Wav2Lip
        import audio
        from hparams import hparams
        parser = argparse.ArgumentParser()
        parser.add_argument("--data_root", required=True)
        parser.add_argument("--checkpoint_dir", required=True)
        parser.add_argument("--syncnet_checkpoint_path", required=True)
        args = parser.parse_args()
        syncnet = SyncNet()
        for p in syncnet.parameters():
            p.requires_grad = False
        def load_checkpoint(path, model):
            s = torch.load(path, map_location=lambda storage, loc: storage)["state_dict"]
            model.load_state_dict({k.replace("module.", ""): v for k, v in s.items()})
        logloss = nn.BCELoss()
        def get_sync_loss(mel, g):
            g = g[:, :, :, g.size(3) // 2:]
            g = torch.cat([g[:, :, i] for i in range(5)], dim=1)
            a, v = syncnet(mel, g)
            d = nn.functional.cosine_similarity(a, v)
            return logloss(d.unsqueeze(1), torch.ones(g.size(0), 1)), d
        if __name__ == "__main__":
            load_checkpoint(args.syncnet_checkpoint_path, syncnet)
            basis = audio.build_mel_basis()
            torch.manual_seed(0)
            model = Wav2Lip()
            x = torch.rand(hparams.batch_size, 6, 5, 96, 96)
            indiv_mels = torch.rand(hparams.batch_size, 5, 1, 80, 16)
            mel = torch.rand(hparams.batch_size, 1, 80, 16) * 8 - 4
            g = model(indiv_mels, x)
            sync_loss, d = get_sync_loss(mel, g)
            loss = hparams.syncnet_wt * sync_loss + (1 - hparams.syncnet_wt) * g.mean()
            loss.backward()
            os.makedirs(args.checkpoint_dir, exist_ok=True)
            torch.save({"g": g.detach(), "mel": mel}, os.path.join(args.checkpoint_dir, "batch.pt"))
            json.dump({"probability": d.tolist(), "expert_training": syncnet.training, "basis": list(basis),
                       "grad": float(model.face.weight.grad.abs().sum()), "data_root": args.data_root,
                       "cwd": os.getcwd()}, open(os.path.join(args.checkpoint_dir, "result.json"), "w"))
    """,
}
FAKE_LIBROSA = {
    "librosa/__init__.py": "__version__ = '0.10.2'\nfrom . import filters\n",
    "librosa/filters.py": "def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm='slaney', dtype=None):\n"
                          "    return [sr, n_fft, n_mels, fmin, fmax]\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip())
    return root


def digest(root: Path) -> str:
    return hashlib.sha1(b"".join(p.read_bytes() for p in sorted(root.rglob("*.py")))).hexdigest()


@pytest.fixture()
def stand_in(tmp_path, monkeypatch):
    repo = write_tree(tmp_path / "Wav2Lip", STAND_IN)
    libs = write_tree(tmp_path / "libs", FAKE_LIBROSA)
    monkeypatch.syspath_prepend(str(libs))
    for name in [m for m in sys.modules if m.split(".")[0] == "librosa"]:
        monkeypatch.delitem(sys.modules, name)
    expert = UniSyncExpert("mel", "rgb", channels=16, embed_dim=32)
    torch.manual_seed(3)
    with torch.no_grad():
        for p in expert.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    expert.eval().save_pretrained(tmp_path / "expert")
    return repo, tmp_path / "expert", tmp_path / "run"


def test_unmodified_script_trains_with_the_unisync_expert(stand_in, capsys):
    repo, expert_dir, out = stand_in
    before = digest(repo)
    code = launch(repo, ["--data_root", "lrs2", "--checkpoint_dir", str(out), "--syncnet_checkpoint_path",
                         str(expert_dir)], overrides={"batch_size": 2, "syncnet_wt": 0.5})
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert result["expert_training"] is False
    assert result["basis"] == [16000, 800, 80, 55, 7600]  # the positional mel call went through the bridge
    assert result["grad"] > 0 and result["cwd"] == str(repo)
    batch = torch.load(out / "batch.pt")
    lower = batch["g"][:, :, :, 48:]
    rgb = lower.flip(1).permute(0, 2, 1, 3, 4)  # (B, 5, 3, 48, 96) RGB
    expected = UniSyncExpert.from_pretrained(expert_dir).sync_probability(batch["mel"], rgb)
    torch.testing.assert_close(torch.tensor(result["probability"]), expected, atol=1e-5, rtol=1e-4)
    assert digest(repo) == before
    printed = capsys.readouterr().out
    assert "#471" in printed and "files are unchanged" in printed and "UniSync mel-rgb expert" in printed


def test_expert_option_fills_the_required_argument(stand_in):
    repo, expert_dir, out = stand_in
    assert main(["--wav2lip-dir", str(repo), "--expert", str(expert_dir), "--set", "batch_size=1", "--",
                 "--data_root", "x", "--checkpoint_dir", str(out)]) == 0
    assert len(json.loads((out / "result.json").read_text())["probability"]) == 1


def test_bad_folders_and_experts_are_named(stand_in, tmp_path, capsys):
    repo, expert_dir, out = stand_in
    (repo / "hparams.py").rename(repo / "hparams_old.py")
    with pytest.raises(ValueError, match="missing hparams.py, hq_wav2lip_train.py"):
        check_wav2lip_dir(repo, hq=True)
    (repo / "hparams_old.py").rename(repo / "hparams.py")
    landmarks = tmp_path / "landmarks_expert"
    UniSyncExpert("mel", "landmarks", channels=16, embed_dim=32).save_pretrained(landmarks)
    assert main(["--wav2lip-dir", str(repo), "--", "--data_root", "x", "--checkpoint_dir", str(out),
                 "--syncnet_checkpoint_path", str(landmarks)]) == 2
    assert "mel+landmarks" in capsys.readouterr().err
    torch.save({"state_dict": {}}, tmp_path / "lipsync_expert.pth")
    with pytest.raises(ValueError, match="needs a UniSync expert folder"):
        launch(repo, ["--syncnet_checkpoint_path", str(tmp_path / "lipsync_expert.pth")])


def test_adapter_stays_in_eval_mode_and_matches_unisync(stand_in):
    _, expert_dir, _ = stand_in
    adapter = UniSyncSyncNet.bound_to(expert_dir)()
    adapter.train()
    assert not adapter.training and not adapter.expert.training
    mel, faces = torch.rand(3, 1, 80, 16) * 8 - 4, torch.rand(3, 15, 48, 96)
    a, v = adapter(mel, faces)
    rgb = faces.reshape(3, 5, 3, 48, 96).flip(2)
    torch.testing.assert_close(torch.cosine_similarity(a, v), adapter.expert.sync_probability(mel, rgb))
    with pytest.raises(ValueError, match=r"\(B, 15, 48, 96\)"):
        adapter(mel, torch.rand(3, 15, 96, 96))


def test_adapter_downsamples_halves_for_a_smaller_expert_and_refuses_other_shapes():
    small = UniSyncExpert("mel", {"name": "rgb", "height": 24, "width": 48}, channels=16, embed_dim=32).eval()
    adapter = UniSyncSyncNet(expert=small)
    mel, faces = torch.rand(2, 1, 80, 16) * 8 - 4, torch.rand(2, 15, 48, 96)
    a, v = adapter(mel, faces)
    rgb = torch.nn.functional.avg_pool2d(faces, 2).reshape(2, 5, 3, 24, 48).flip(2)  # area = 2x2 mean here
    torch.testing.assert_close(torch.cosine_similarity(a, v), small.sync_probability(mel, rgb))
    square = UniSyncExpert("mel", {"name": "rgb", "height": 48, "width": 48}, channels=16, embed_dim=32)
    with pytest.raises(ValueError, match=r"smaller 1:2 size"):
        UniSyncSyncNet(expert=square)


def test_train_sh_with_wav2lip_dir_runs_the_launcher(tmp_path):
    import os
    import subprocess

    script = Path(__file__).resolve().parents[1] / "integrations" / "wav2lip" / "train.sh"
    env = {**os.environ, "PYTHON": sys.executable}
    launcher = subprocess.run(["bash", str(script), "--wav2lip-dir", str(tmp_path), "--", "--data_root", "x"],
                              capture_output=True, text=True, env=env)
    assert launcher.returncode == 2 and "is not a Wav2Lip repository: missing models/__init__.py" in launcher.stderr


def test_missing_upstream_dependencies_say_what_to_install(tmp_path, capsys, monkeypatch):
    import importlib.util

    for name in [m for m in sys.modules if m.split(".")[0] == "librosa"]:  # the stand-in's, from other tests
        monkeypatch.delitem(sys.modules, name)
    if importlib.util.find_spec("librosa") is not None:
        pytest.skip("librosa is installed here: nothing is missing")
    repo = write_tree(tmp_path / "Wav2Lip", STAND_IN)
    UniSyncExpert("mel", "rgb", channels=16, embed_dim=32).save_pretrained(tmp_path / "expert")
    assert main(["--wav2lip-dir", str(repo), "--expert", str(tmp_path / "expert"), "--", "--data_root", "x",
                 "--checkpoint_dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "import librosa" in err and "unisync-loss[wav2lip]" in err and "bash run.sh setup wav2lip" in err
    assert not (tmp_path / "run").exists()  # stopped before upstream ran
