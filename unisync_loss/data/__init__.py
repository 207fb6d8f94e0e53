"""Data on disk: the clip store format shared by the synthetic corpus, real-video preprocessing and training."""

from .clip_store import FRAME_ARRAYS, SPLITS, Clip, ClipStore, feature_key, visual_array_name

__all__ = ["Clip", "ClipStore", "feature_key", "FRAME_ARRAYS", "SPLITS", "visual_array_name"]
