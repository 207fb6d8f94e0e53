import pytest
import torch
from torch import nn

from conftest import PAIRS, audio_features, visual_sequence
from unisync_loss import UniSyncExpert, UniSyncLoss, install_expert


def make_loss(audio="mel", visual="rgb", **kwargs):
    return UniSyncLoss(audio, visual, expert=UniSyncExpert(audio, visual), **kwargs)


@pytest.mark.parametrize("audio,visual", PAIRS)
def test_every_pair_gives_a_differentiable_scalar(audio, visual):
    loss_fn = make_loss(audio, visual)
    a = audio_features(loss_fn.expert, 2, 7)
    v = visual_sequence(loss_fn.expert, 2, 7).requires_grad_(True)
    loss = loss_fn(a, v)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert v.grad is not None and v.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss_fn.expert.parameters())
    p = loss_fn.sync_probability(a, v)
    assert p.shape == (2, 3) and torch.all((p >= 0) & (p <= 1))
    torch.testing.assert_close(loss, -torch.log(p).mean(), rtol=1e-5, atol=1e-6)


class Generator(nn.Module):
    def __init__(self, sync):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 64), nn.BatchNorm1d(64))
        self.sync = sync


def test_expert_stays_frozen_and_hidden_from_optimizers():
    sync = make_loss("mel", "3dmm")
    model = Generator(sync)
    model.train()
    assert not sync.expert.training and all(not m.training for m in sync.expert.modules())
    assert all(not p.requires_grad for p in sync.expert.parameters())
    expert_ids = {id(p) for p in sync.expert.parameters()}
    assert not expert_ids & {id(p) for p in model.parameters()}
    assert not any(k.startswith("sync") for k in model.state_dict())
    # A training step with BN in the expert never updates its running statistics.
    before = {k: v.clone() for k, v in sync.expert.state_dict().items()}
    coeffs = torch.randn(2, 10, 64, requires_grad=True)
    sync(torch.randn(2, 33, 80), coeffs).backward()
    assert all(torch.equal(before[k], v) for k, v in sync.expert.state_dict().items())


def test_to_moves_the_hidden_expert():
    sync = make_loss("mel", "3dmm").to(torch.float64)
    assert next(sync.expert.parameters()).dtype == torch.float64


def test_waveform_input_matches_precomputed_mel():
    sync = make_loss("mel", "rgb")
    wave = torch.randn(2, 16000) * 0.1  # 1 s = 25 frames
    frames = torch.rand(2, 25, 3, 48, 96)
    from unisync_loss.audio.mel import MelFrontend

    feats = MelFrontend()(wave)
    torch.testing.assert_close(sync(wave, frames), sync(feats, frames))
    # A 44.1 kHz waveform is accepted when its rate is given, refused when it is not.
    wave44 = torch.randn(2, 44100) * 0.1
    assert torch.isfinite(sync(wave44, frames, sample_rate=44100))
    with pytest.raises(ValueError, match="pass sample_rate"):
        sync(wave44, frames)


def test_wav2lip_layouts_are_accepted():
    sync = make_loss("mel", "rgb")
    frames = torch.rand(2, 5, 3, 48, 96)
    mel = torch.randn(2, 1, 80, 16).clamp(-4, 4)
    torch.testing.assert_close(sync(mel, frames.permute(0, 2, 1, 3, 4)), sync(mel, frames))


def test_reduction_and_stride():
    sync = make_loss("hubert", "landmarks", reduction="none", stride=2)
    a = audio_features(sync.expert, 3, 11)
    out = sync(a, torch.randn(3, 11, 68, 2))
    assert out.shape == (3, 4)


def test_checkpoint_found_by_name_and_mismatch_named(tmp_path, monkeypatch):
    from unisync_loss import checkpoints

    monkeypatch.setenv("UNISYNC_HOME", str(tmp_path))
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", tmp_path / "nothing-shipped")  # as if the package shipped none
    with pytest.raises(FileNotFoundError, match=r"(?s)experts/mel-rgb .*python -m train_expert"):
        UniSyncLoss("mel", "rgb")
    expert = UniSyncExpert("mel", "rgb")
    install_expert(expert)
    loaded = UniSyncLoss("mel", "rgb")
    assert torch.equal(next(loaded.expert.parameters()), next(expert.parameters()))
    UniSyncExpert("hubert", "3dmm").save_pretrained(tmp_path / "other")
    with pytest.raises(ValueError, match="holds a hubert-3dmm expert, but a mel-rgb expert"):
        UniSyncLoss("mel", "rgb", checkpoint=tmp_path / "other")


def bad_cases():
    a, v = torch.randn(2, 33, 80), torch.rand(2, 10, 3, 48, 96)
    nan_v = v.clone()
    nan_v[0, 0, 0, 0, 0] = float("nan")
    yield "wrong rank", a, v[:, :, 0], "visual: expected shape"
    yield "wrong channels", a, torch.rand(2, 10, 4, 48, 96), r"visual: expected shape \(B, T, 3, 48, 96\)"
    yield "too few frames", a[:, :16], v[:, :4], "at least 5 frames"
    yield "audio too short", a[:, :20], v, "need 32 mel frames"
    yield "audio too long", torch.randn(2, 80, 80), v, "cut audio and video"
    yield "nan", a, nan_v, "NaN/inf"
    yield "out of range", a, v * 2, r"values in \[0, 1\]"
    yield "int dtype", a, (v * 255).to(torch.uint8), "floating-point"
    yield "batch", a[:1], v, "same batch size"
    yield "transposed mel", a.transpose(1, 2), v, r"transpose it"
    yield "wrong feature size", torch.randn(2, 33, 64), v, "audio: expected shape"


@pytest.mark.parametrize("case", list(bad_cases()), ids=lambda c: c[0])
def test_bad_inputs_raise_value_errors(case):
    _, a, v, message = case
    with pytest.raises(ValueError, match=message):
        make_loss("mel", "rgb")(a, v)


def test_autocast_bf16_on_cpu():
    sync = make_loss("mel", "3dmm")
    a, v = torch.randn(2, 33, 80), torch.randn(2, 10, 64, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = sync(a, v)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(v.grad).all()
    torch.testing.assert_close(loss, sync(a, v), atol=0.05, rtol=0.05)


def test_torch_compile_traces_the_loss():
    sync = make_loss("mel", "3dmm")
    a, v = torch.randn(2, 33, 80), torch.randn(2, 10, 64)
    compiled = torch.compile(sync, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(a, v), sync(a, v))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_forward_never_synchronises_with_host():
    sync = make_loss("mel", "rgb").cuda()
    a = torch.randn(2, 33, 80, device="cuda").clamp(-4, 4)
    v = torch.rand(2, 10, 3, 48, 96, device="cuda", requires_grad=True)
    sync(a, v)  # warm-up (lazy initialisation may synchronise once)
    torch.cuda.set_sync_debug_mode("error")
    try:
        loss = sync(a, v)
        loss.backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert torch.isfinite(loss)


def test_waveform_frontend_is_held_frozen_and_follows_to():
    sync = make_loss("mel", "3dmm")
    sync(torch.randn(2, 6400) * 0.1, torch.randn(2, 10, 64))
    frontend = sync.held("frontend")
    assert frontend is not None and not frontend.training
    assert not list(sync.parameters()) and not sync.state_dict()
    sync.train()
    assert not frontend.training and not sync.expert.training
    sync.to(torch.float64)
    assert sync.held("frontend").fbank.dtype == torch.float64
