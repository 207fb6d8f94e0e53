"""Holding frozen networks inside a module without registering them.

A loss built on a frozen network (a sync expert, a feature frontend) must keep it out of the parent model's
``parameters()`` and ``state_dict()`` (so no optimizer sees it and no generator checkpoint carries it), keep it in
eval mode when the parent calls ``.train()``, and still move it with ``.to()`` / ``.cuda()`` / ``.half()``.
"""

from __future__ import annotations

from torch import nn


def freeze(module: nn.Module) -> nn.Module:
    """Eval mode and ``requires_grad=False`` on every parameter; returns ``module``."""
    if not isinstance(module, nn.Module):
        raise ValueError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


class FrozenHolder(nn.Module):
    """Base class: ``self.hold(name, module)`` keeps a frozen, unregistered network reachable as ``self.held(name)``."""

    def __init__(self) -> None:
        super().__init__()
        self._held: dict[str, nn.Module] = {}  # a plain dict: its modules are not registered

    def hold(self, name: str, module: nn.Module) -> nn.Module:
        """Freeze ``module`` and keep it under ``name``; returns it."""
        self._held[name] = freeze(module)
        return module

    def held(self, name: str) -> nn.Module | None:
        """The network held under ``name``, or None."""
        return self._held.get(name)

    def train(self, mode: bool = True):
        super().train(mode)
        for module in self._held.values():
            module.eval()
        return self

    def _apply(self, fn, recurse=True):
        for name, module in self._held.items():
            self._held[name] = module._apply(fn)
        return super()._apply(fn, recurse)
