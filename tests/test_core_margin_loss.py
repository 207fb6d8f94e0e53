import math

import pytest
import torch
import torch.nn.functional as F

from unisync_loss import MarginBCELoss, SampleKind, UniSyncExpert, l2_penalty

KINDS = (SampleKind.POSITIVE, SampleKind.SAME_SPEAKER, SampleKind.CROSS_SPEAKER)


def test_zero_margins_is_exactly_bce():
    p = torch.rand(64, dtype=torch.float64).float().clamp(0.01, 0.99)
    kind = torch.randint(0, 3, (64,))
    target = (kind == SampleKind.POSITIVE).float()
    ours = MarginBCELoss(0.0, 0.0, 0.0, reduction="none")(p, kind)
    torch.testing.assert_close(ours, F.binary_cross_entropy(p, target, reduction="none"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_larger_margin_gives_larger_loss(kind):
    p = torch.linspace(0.05, 0.95, 19)
    kinds = torch.full_like(p, int(kind), dtype=torch.long)
    losses = []
    for m in (0.0, 0.1, 0.3, 0.7):
        margins = [0.0, 0.0, 0.0]
        margins[int(kind)] = m
        losses.append(MarginBCELoss(*margins, reduction="none")(p, kinds))
    for smaller, larger in zip(losses, losses[1:]):
        assert torch.all(larger > smaller)


@pytest.mark.parametrize("margins", [(0.1, 0.3), (0.3, 0.7)])
def test_gradient_never_vanishes_at_paper_margins(margins):
    p = torch.linspace(1e-4, 1 - 1e-4, 2001, requires_grad=True)
    loss_fn = MarginBCELoss(0.0, *margins, reduction="sum")
    for kind in KINDS:
        (grad,) = torch.autograd.grad(loss_fn(p, torch.full((2001,), int(kind))), p)
        assert torch.all(grad.abs() > 1e-3), f"gradient vanished for kind {kind.name}"
        assert torch.all(grad < 0) if kind == SampleKind.POSITIVE else torch.all(grad > 0)


def test_finite_at_zero_and_one():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], requires_grad=True)
    kind = torch.tensor([0, 0, 1, 1, 2, 2])
    loss = MarginBCELoss(0.0, 0.3, 0.7)(p, kind)
    loss.backward()
    assert math.isfinite(loss.item()) and torch.isfinite(p.grad).all()


def test_margin_shift_formula():
    # d = 2 atanh(m): a negative at p = 0.5 with margin m is scored like p = (1 + m) / 2 without margin.
    m = 0.3
    with_margin = MarginBCELoss(0.0, m, 0.0, reduction="none")(torch.tensor([0.5]), torch.tensor([1]))
    plain = MarginBCELoss(0.0, 0.0, 0.0, reduction="none")(torch.tensor([(1 + m) / 2]), torch.tensor([1]))
    torch.testing.assert_close(with_margin, plain)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_bad_margin(bad):
    with pytest.raises(ValueError, match="margin"):
        MarginBCELoss(0.0, bad, 0.3)


def test_bad_inputs():
    loss_fn = MarginBCELoss()
    with pytest.raises(ValueError, match="p: expected shape"):
        loss_fn(torch.rand(4, 1), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="same batch size"):
        loss_fn(torch.rand(4), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="kind: expected integer"):
        loss_fn(torch.rand(4), torch.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        MarginBCELoss(reduction="avg")


def test_l2_penalty_counts_conv_and_linear_weights_only():
    expert = UniSyncExpert("mel", "3dmm")
    expected = sum(
        m.weight.pow(2).sum() for m in expert.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    )
    torch.testing.assert_close(l2_penalty(expert, 1e-4), 1e-4 * expected)
    with pytest.raises(ValueError, match="non-negative"):
        l2_penalty(expert, -1.0)
