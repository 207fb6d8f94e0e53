#!/usr/bin/env bash
# Wav2Lip + UniSync.
#   bash integrations/wav2lip/train.sh                 the whole Table VI experiment on the built-in synthetic corpus (CPU)
#   bash integrations/wav2lip/train.sh --data STORE --unisync-expert DIR --wav2lip-expert lipsync_expert.pth \
#        --judge DIR --syncnet syncnet_v2.model --preset full --device cuda        the same on real data (GPU)
#   bash integrations/wav2lip/train.sh --wav2lip-dir PATH [--hq] [--expert DIR] -- <upstream script arguments>
#        runs the official (or a fork's) unmodified wav2lip_train.py / hq_wav2lip_train.py with the UniSync expert;
#        those scripts need librosa, OpenCV and SciPy: `bash run.sh setup wav2lip` (the launcher says so if missing)
# Python: $PYTHON, else the repository's .venv (made by `bash run.sh setup`), else python3.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"; else PY=python3; fi
fi
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
for arg in "$@"; do
    [ "$arg" = "--" ] && break
    if [ "$arg" = "--wav2lip-dir" ] || [[ "$arg" == --wav2lip-dir=* ]]; then
        exec "$PY" -m integrations.wav2lip.launcher "$@"
    fi
done
exec "$PY" -m integrations.wav2lip.experiment "$@"
