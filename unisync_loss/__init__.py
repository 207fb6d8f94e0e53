"""UniSync: a frozen audio-visual sync expert as a differentiable lip-sync loss, for any representation pair.

    from unisync_loss import UniSyncLoss
    loss = UniSyncLoss("hubert", "3dmm")(audio, coeffs)
"""

from .version import __version__
from .representations import create_representation, list_representations, register_representation
from .expert import UniSyncExpert, pairwise_sync_probability, sync_probability
from .margin_loss import MarginBCELoss, SampleKind, l2_penalty
from .checkpoints import default_expert_dir, export_expert, install_expert, list_experts, load_expert, unisync_home
from .sync_loss import UniSyncLoss

__all__ = [
    "__version__", "UniSyncLoss", "UniSyncExpert", "MarginBCELoss", "SampleKind", "l2_penalty", "sync_probability",
    "pairwise_sync_probability",
    "create_representation", "list_representations", "register_representation", "load_expert", "install_expert",
    "default_expert_dir", "unisync_home", "list_experts", "export_expert",
]
