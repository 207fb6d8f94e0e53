"""Pretraining UniSync sync experts: sampling, margin-BCE training (AMP, DDP, resumable), evaluation protocols.

    python -m train_expert --audio mel --visual rgb --data STORE --out runs/mel-rgb --install
    python -m train_expert.evaluate --expert runs/mel-rgb/best --data STORE
"""

from .config import TrainConfig, make_config

__all__ = ["TrainConfig", "make_config"]
