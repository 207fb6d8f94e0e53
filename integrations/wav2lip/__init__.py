"""Wav2Lip + UniSync: the rebuilt Wav2Lip networks, a UniSync expert behind upstream's SyncNet_color interface, a
launcher for unmodified upstream training scripts, a generator trainer with a pluggable expert, inference and the
paper's Table VI experiment (``bash integrations/wav2lip/train.sh``)."""
