#!/usr/bin/env bash
# Wav2Lip + UniSync.
#   bash integrations/wav2lip/train.sh                 the Table VI experiment on the built-in synthetic corpus (2 CPU cores)
#   bash integrations/wav2lip/train.sh --seeds 0 1 2   the same over three seeds (stages of seed 0 are reused)
#   bash integrations/wav2lip/train.sh --data STORE --judge-data OTHER_STORE --preset full --device cuda \
#        --syncnet syncnet_v2.model                    the same on real data (GPU); see the README
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
