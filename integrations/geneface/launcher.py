"""Run GeneFace's own ``tasks/run.py`` in a current environment, adapting what can be adapted for the run only.

    python -m integrations.geneface.launcher --geneface-dir PATH -- --config CFG --exp_name NAME [GeneFace options]

(``train.sh --geneface-dir`` calls it.) GeneFace targets Python 3.9, NumPy 1.23 and a CUDA machine; the project needs
NumPy >= 1.24. For this process only, and without editing a file of the checkout:

* NumPy aliases GeneFace's code uses that NumPy has removed are defined again: ``np.Inf`` / ``np.NaN`` (its
  ``utils/commons/trainer.py``; gone in NumPy 2), ``np.long``, ``np.int``, ``np.float``, ``np.bool`` ...
  (its ``data_util/face3d_helper.py``; gone since NumPy 1.24);
* ``Face3DHelper(use_gpu=True)`` (what its audio-to-motion task builds) builds on the CPU when CUDA is unavailable;
* without ``rsync`` on ``PATH``, its trainer's code snapshot (``save_codes``) copies the ``*.py`` / ``*.yaml`` files in
  Python, to the same place, instead of stopping at ``/bin/sh: 1: rsync: not found``.

What cannot be adapted is checked first and named with the error GeneFace would give otherwise: the Basel Face Model
file ``deep_3drecon/BFM/BFM_model_front.mat``, which its tasks and datasets load (licensed; GeneFace's
``docs/prepare_env/install_guide.md`` says where to get it), and the modules its training code imports that the
project does not need (``numba``: the ``geneface-upstream`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from ..checkout import checkout_environment, patched, require_modules, run_script

TAG = "[unisync-geneface]"
ENTRY = "tasks/run.py"
BFM_FILE = "deep_3drecon/BFM/BFM_model_front.mat"
#: Modules of a checkout that load ``BFM_FILE`` when a task or dataset starts.
BFM_USERS = "data_util/face3d_helper.py"
#: Top-level packages of a GeneFace checkout, imported fresh from it and removed again after the run.
UPSTREAM_PACKAGES = ("utils", "tasks", "modules", "data_util", "data_gen", "deep_3drecon", "inference")
#: NumPy names removed in 1.24 / 2.0 that GeneFace uses, and what they meant.
NUMPY_ALIASES = {
    "Inf": float("inf"), "Infinity": float("inf"), "PINF": float("inf"), "NINF": float("-inf"), "NaN": float("nan"),
    "long": int, "int": int, "float": float, "bool": bool, "object": object, "complex": complex, "str": str,
    "unicode": str, "float_": np.float64, "complex_": np.complex128, "string_": np.bytes_, "unicode_": np.str_,
}
SNAPSHOT_PATTERNS = ("*.py", "*.yaml")
#: Modules GeneFace's training imports beyond the project's core: module -> (package, the checkout file importing it).
UPSTREAM_DEPENDENCIES = {"numba": ("numba", "tasks/audio2motion/dataset_utils/euler2quaterion.py"),
                         "scipy": ("scipy", BFM_USERS), "tensorboard": ("tensorboard", "utils/commons/base_task.py")}
INSTALL_HINT = ("pip install 'unisync-loss[geneface-upstream]' (from this repository: bash run.sh setup "
                "geneface-upstream, or pip install -e '.[geneface-upstream]')")


class MissingPrerequisite(RuntimeError):
    """Something GeneFace needs that the launcher cannot provide; the message says what and how to get it."""


def check_geneface_dir(path: str | os.PathLike) -> Path:
    """The checkout's folder, or an error naming what is wrong with it."""
    root = Path(path).expanduser().resolve()
    if not (root / ENTRY).is_file():
        raise FileNotFoundError(f"geneface_dir: {root} is not a GeneFace checkout (no {ENTRY})")
    return root


def check_bfm(root: Path) -> None:
    """Require the Basel Face Model file where GeneFace's tasks load it (only in checkouts that load it)."""
    if (root / BFM_USERS).is_file() and not (root / BFM_FILE).is_file():
        raise MissingPrerequisite(
            f"{root / BFM_FILE} is missing. GeneFace's tasks load it when they start (Face3DHelper) and stop with "
            f"\"FileNotFoundError: [Errno 2] No such file or directory: '{BFM_FILE}'\". It is derived from the "
            "licensed Basel Face Model 2009: see 'Download BFM Model Front' in GeneFace's "
            "docs/prepare_env/install_guide.md, and put BFM_model_front.mat in deep_3drecon/BFM/ of the checkout")


@contextlib.contextmanager
def numpy_aliases() -> Iterator[list[str]]:
    """Define the removed NumPy aliases that are missing; yields their names; removes them again afterwards."""
    added = []
    for name, value in NUMPY_ALIASES.items():
        with warnings.catch_warnings():  # NumPy 2 warns when a removed alias is looked up
            warnings.simplefilter("ignore")
            present = hasattr(np, name)
        if not present:
            setattr(np, name, value)
            added.append(name)
    try:
        yield added
    finally:
        for name in added:
            delattr(np, name)


def face3d_on_cpu(stack: contextlib.ExitStack, root: Path) -> str | None:
    """Make ``Face3DHelper(use_gpu=True)`` build on the CPU when CUDA is unavailable. Returns a note, or None."""
    import torch

    if torch.cuda.is_available() or not (root / BFM_USERS).is_file():
        return None
    helper = importlib.import_module(BFM_USERS[:-3].replace("/", ".")).Face3DHelper
    original = helper.__init__

    @functools.wraps(original)
    def init(self, *args, **kwargs):
        if len(args) >= 2:
            args = (args[0], False, *args[2:])
        else:
            kwargs["use_gpu"] = False
        original(self, *args, **kwargs)

    stack.enter_context(patched(helper, "__init__", init))
    return "no CUDA: Face3DHelper builds on the CPU"


def copy_sources(folders: list[str], code_dir: str | os.PathLike) -> int:
    """Copy the ``*.py`` and ``*.yaml`` files under each of ``folders`` (relative to the current folder) into
    ``code_dir``, keeping their relative paths (what the trainer's ``rsync -aR`` call does). Returns the file count."""
    count = 0
    for folder in folders:
        base = Path(folder)
        if not base.exists():
            continue
        files = [base] if base.is_file() else [p for pattern in SNAPSHOT_PATTERNS for p in base.rglob(pattern)]
        for source in files:
            if "__pycache__" in source.parts:
                continue
            target = Path(code_dir) / source
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            count += 1
    return count


def snapshot_without_rsync(stack: contextlib.ExitStack, root: Path) -> str | None:
    """Without ``rsync``, the trainer's ``save_codes`` copies the sources in Python. Returns a note, or None."""
    if shutil.which("rsync") is not None or not (root / "utils/commons/trainer.py").is_file():
        return None
    trainer_module = importlib.import_module("utils.commons.trainer")
    hparams = importlib.import_module("utils.commons.hparams").hparams

    def save_codes(self):
        folders = list(hparams.get("save_codes") or [])
        if folders:
            stamp = trainer_module.datetime.now().strftime("%Y%m%d%H%M%S")
            code_dir = f"{self.work_dir}/codes/{stamp}"
            print(f"| Copied {copy_sources(folders, code_dir)} source files to {code_dir}.")

    stack.enter_context(patched(trainer_module.Trainer, "save_codes", save_codes))
    return "no rsync on PATH: the trainer's code snapshot is copied in Python"


def launch(geneface_dir: str | os.PathLike, run_args: list[str]) -> int:
    """Run the checkout's ``tasks/run.py`` with ``run_args`` (``--config``, ``--exp_name`` ...). Returns its status."""
    root = check_geneface_dir(geneface_dir)
    check_bfm(root)
    imported = {module: package for module, (package, user) in UPSTREAM_DEPENDENCIES.items() if (root / user).is_file()}
    require_modules(imported, "GeneFace's training code", INSTALL_HINT)
    argv = [str(root / ENTRY), *run_args]
    with checkout_environment(root, argv, UPSTREAM_PACKAGES), numpy_aliases() as added, contextlib.ExitStack() as stack:
        notes = [f"NumPy {np.__version__}: np.{', np.'.join(added)} defined again" if added else None,
                 face3d_on_cpu(stack, root), snapshot_without_rsync(stack, root)]
        for note in filter(None, notes):
            print(f"{TAG} {note} (for this run; your files are unchanged)", flush=True)
        return run_script(root / ENTRY)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m integrations.geneface.launcher",
                                     description="Run GeneFace's tasks/run.py, adapted to this environment.")
    parser.add_argument("--geneface-dir", required=True, help="folder of the GeneFace checkout")
    parser.add_argument("run_args", nargs=argparse.REMAINDER, help="-- then tasks/run.py's own options")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_args = args.run_args[1:] if args.run_args[:1] == ["--"] else args.run_args
    try:
        return launch(args.geneface_dir, run_args)
    except (MissingPrerequisite, FileNotFoundError, ValueError) as err:
        print(f"{TAG} error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
