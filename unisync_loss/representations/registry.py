"""Name -> representation class, in the style of timm's model registry.

Adding a representation: write one module with a :class:`~.base.Representation` subclass decorated with
``@register_representation("name")`` and import it in :mod:`unisync_loss.representations`.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from .base import Representation

_REGISTRY: dict[str, type[Representation]] = {}

R = TypeVar("R", bound=type[Representation])


def register_representation(name: str) -> Callable[[R], R]:
    """Class decorator registering a representation under ``name``."""

    def wrap(cls: R) -> R:
        if name in _REGISTRY:
            raise ValueError(f"representation {name!r} is already registered by {_REGISTRY[name].__module__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def list_representations(modality: str | None = None) -> list[str]:
    """Registered names, optionally only those of ``modality`` ("audio" or "visual")."""
    if modality not in (None, "audio", "visual"):
        raise ValueError(f"modality: expected None, 'audio' or 'visual', got {modality!r}")
    return sorted(n for n, c in _REGISTRY.items() if modality is None or c.modality == modality)


def representation_class(name: str) -> type[Representation]:
    """The registered class of ``name`` (its ``defaults`` list the options it takes)."""
    if name not in _REGISTRY:
        raise ValueError(f"representation: unknown name {name!r}; registered: {list_representations()}")
    return _REGISTRY[name]


def create_representation(spec: str | dict[str, Any] | Representation, modality: str | None = None) -> Representation:
    """Build a representation from a name, a config dict ``{"name": ..., **options}`` or an instance."""
    if isinstance(spec, Representation):
        rep = spec
    else:
        if isinstance(spec, str):
            name, options = spec, {}
        elif isinstance(spec, dict) and isinstance(spec.get("name"), str):
            options = dict(spec)
            name = options.pop("name")
        else:
            raise ValueError(f"representation: expected a name or a dict with a 'name' key, got {spec!r}")
        rep = representation_class(name)(**options)
    if modality is not None and rep.modality != modality:
        raise ValueError(
            f"representation {rep.name!r} is {rep.modality}, but a {modality} representation was expected; "
            f"{modality} representations: {list_representations(modality)}"
        )
    return rep
