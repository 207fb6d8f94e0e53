"""Input representations and their stems. Importing this package registers the built-in ones."""

from . import hubert, landmarks, mel, morphable, parsing, rgb  # noqa: F401  (registration side effects)
from .base import SAMPLE_RATE, VIDEO_FPS, WINDOW_SECONDS, AudioRepresentation, Representation, VisualRepresentation
from .registry import create_representation, list_representations, register_representation, representation_class

__all__ = [
    "Representation", "AudioRepresentation", "VisualRepresentation", "create_representation",
    "list_representations", "register_representation", "representation_class", "SAMPLE_RATE", "VIDEO_FPS", "WINDOW_SECONDS",
]
