"""GeneFace + UniSync: GeneFace's data conventions, its landmark SyncNet, a drop-in task for its trainer, and a
self-contained audio-to-motion experiment measuring what the UniSync loss changes.

Modules: :mod:`.conventions` (landmarks, 3DMM splits, HuBERT timing), :mod:`.readers` (GeneFace binarized data ->
clip store), :mod:`.syncnet` (GeneFace's landmark SyncNet), :mod:`.upstream` (task subclasses for GeneFace's
trainer), :mod:`.motion_model`, :mod:`.trainer`, :mod:`.experiment`.
"""
