"""Lip-sync metrics: SyncNet LSE-D / LSE-C identical to syncnet_python, UniSync-expert scores, sync correction.

    from unisync_loss.metrics import load_syncnet, lse, unisync_scores, score_video
    result = lse(face_crops_224, audio_16k, load_syncnet("syncnet_v2.model"))   # LSEResult(offset, lse_d, lse_c...)
"""

from .lse import LSEResult, lse
from .syncnet import SyncNet, load_syncnet, random_syncnet_state
from .unisync_scores import UniSyncScores, unisync_scores
from .video_scoring import score_video
from .sync_correction import correct_store, syncnet_estimator, unisync_estimator

__all__ = [
    "LSEResult", "lse", "SyncNet", "load_syncnet", "random_syncnet_state", "UniSyncScores", "unisync_scores",
    "score_video", "correct_store", "syncnet_estimator", "unisync_estimator",
]
