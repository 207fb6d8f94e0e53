#!/usr/bin/env bash
# GeneFace + UniSync.
#
#   bash integrations/geneface/train.sh [--quick] [--out DIR] [experiment options]
#       The self-contained experiment on the project's synthetic speech corpus: audio-to-motion training without a
#       sync loss, with GeneFace's SyncNet and with UniSync (mel + mouth landmarks, mel + 3DMM), 3 seeds, judged on
#       held-out speakers by an expert no run trains against (python -m integrations.geneface.experiment --help).
#       Runs with $PYTHON, else the project's environment ($UNISYNC_VENV or .venv, as run.sh makes it).
#
#   bash integrations/geneface/train.sh --geneface-dir PATH --expert DIR [--stage audio2motion|postnet]
#                                       [--config CFG] [--exp-name NAME] [-- GeneFace's tasks/run.py options]
#       GeneFace's own trainer with the UniSync expert DIR as its sync loss. CFG is the GeneFace config to start from
#       (default for audio2motion: egs/datasets/lrs3/lm3d_vae_sync.yaml; postnet needs e.g.
#       egs/datasets/videos/May/lm3d_postnet_sync.yaml). Runs with $PYTHON (default: python) in GeneFace's folder,
#       through integrations/geneface/launcher.py (adapts NumPy 2, CPU-only machines and a missing rsync for the run).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

die() { echo "train.sh: $*" >&2; exit 2; }

GENEFACE_DIR="" EXPERT="" STAGE="audio2motion" CONFIG="" EXP_NAME="" PASS=()
if [[ " $* " != *" --geneface-dir "* ]]; then
    if [[ -z "${PYTHON:-}" ]]; then  # the project's environment, as run.sh makes it
        venv="${UNISYNC_VENV:-.venv}"
        [[ "$venv" = /* ]] || venv="$ROOT/$venv"
        PYTHON="python3"
        [[ -x "$venv/bin/python" ]] && PYTHON="$venv/bin/python"
    fi
    cd "$ROOT"
    "$PYTHON" -c "import torch, unisync_loss" 2>/dev/null \
        || die "$PYTHON cannot import torch and unisync_loss: run 'bash run.sh setup' first or set PYTHON"
    start=$(date +%s)
    "$PYTHON" -m integrations.geneface.experiment "$@"
    echo "train.sh: experiment finished in $(( $(date +%s) - start )) s"
    exit 0
fi

while [[ $# -gt 0 ]]; do
    case "$1" in
        --geneface-dir) GENEFACE_DIR="${2:?--geneface-dir needs a path}"; shift 2 ;;
        --expert) EXPERT="${2:?--expert needs a folder}"; shift 2 ;;
        --stage) STAGE="${2:?--stage needs audio2motion or postnet}"; shift 2 ;;
        --config) CONFIG="${2:?--config needs a GeneFace yaml}"; shift 2 ;;
        --exp-name) EXP_NAME="${2:?--exp-name needs a name}"; shift 2 ;;
        --) shift; PASS=("$@"); break ;;
        *) die "unknown option '$1' (GeneFace's own options go after --)" ;;
    esac
done

[[ -f "$GENEFACE_DIR/tasks/run.py" ]] || die "--geneface-dir '$GENEFACE_DIR' is not a GeneFace checkout (no tasks/run.py)"
GENEFACE_DIR="$(cd "$GENEFACE_DIR" && pwd)"
[[ -f "$EXPERT/config.json" && -f "$EXPERT/model.safetensors" ]] \
    || die "--expert '$EXPERT' is not a UniSync expert folder (config.json + model.safetensors)"
EXPERT="$(cd "$EXPERT" && pwd)"
case "$STAGE" in
    audio2motion) CONFIG="${CONFIG:-egs/datasets/lrs3/lm3d_vae_sync.yaml}" ;;
    postnet) [[ -n "$CONFIG" ]] || die "--stage postnet needs --config (e.g. egs/datasets/videos/May/lm3d_postnet_sync.yaml)" ;;
    *) die "--stage must be audio2motion or postnet, got '$STAGE'" ;;
esac
[[ "$CONFIG" = /* ]] || CONFIG="$GENEFACE_DIR/$CONFIG"
[[ -f "$CONFIG" ]] || die "--config '$CONFIG' does not exist"
EXP_NAME="${EXP_NAME:-unisync_${STAGE}_$(basename "$CONFIG" .yaml)}"

GENERATED="$GENEFACE_DIR/egs/unisync/${STAGE}_$(basename "$CONFIG")"
mkdir -p "$(dirname "$GENERATED")"
sed -e "s|@BASE_CONFIG@|$CONFIG|" -e "s|@EXPERT_DIR@|$EXPERT|" "$HERE/configs/${STAGE}_unisync.yaml" > "$GENERATED"
echo "train.sh: config $GENERATED (base $CONFIG, expert $EXPERT), exp_name $EXP_NAME"

cd "$GENEFACE_DIR"
export PYTHONPATH="$GENEFACE_DIR:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# GeneFace's tasks/run.py, through the launcher: NumPy aliases, CPU Face3DHelper and an rsync-free code snapshot
# for this run only (integrations/geneface/launcher.py); a missing BFM_model_front.mat is named before anything runs.
exec "${PYTHON:-python}" -m integrations.geneface.launcher --geneface-dir "$GENEFACE_DIR" -- \
    --config "$GENERATED" --exp_name "$EXP_NAME" ${PASS[@]+"${PASS[@]}"}
