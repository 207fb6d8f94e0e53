"""Run an unmodified Wav2Lip training script (official repository or a fork) with the UniSync expert.

    python -m integrations.wav2lip.launcher --wav2lip-dir PATH [--hq] [--expert DIR] [--set batch_size=8] \\
        -- --data_root lrs2_preprocessed --checkpoint_dir ckpt --syncnet_checkpoint_path DIR

Upstream scripts parse their arguments and build ``syncnet = SyncNet()`` at import time, so the launcher imports the
user's own ``models`` package, replaces its ``SyncNet_color`` with :class:`~.expert_adapter.UniSyncSyncNet` bound to
the checkpoint, then runs the script as ``__main__`` in the Wav2Lip folder (its filelists are read relative to it:
relative paths in the script's arguments are relative to the Wav2Lip folder, as when running it there).

``--syncnet_checkpoint_path`` may name the UniSync checkpoint folder; upstream then ``torch.load``\\ s that path, so the
launcher hands it a temporary ``{"state_dict": ...}`` file holding the same expert weights. Upstream ``audio.py`` calls
``librosa.filters.mel(sr, n_fft, ...)`` positionally, which librosa >= 0.10 rejects (Wav2Lip issues #471, #613): for
the run only, ``librosa.filters.mel`` accepts those positional arguments again. No user file is edited.

Upstream's scripts import ``librosa``, ``cv2`` and ``scipy``, which the project itself does not need: the ``wav2lip``
extra installs them (``pip install 'unisync-loss[wav2lip]'``; in this repository ``bash run.sh setup wav2lip``). The
launcher checks for them first and says so, instead of a ``ModuleNotFoundError`` from inside upstream's ``audio.py``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import inspect
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from ..checkout import checkout_environment, require_modules, run_script
from .expert_adapter import UniSyncSyncNet, load_unisync_expert

SCRIPTS = {False: "wav2lip_train.py", True: "hq_wav2lip_train.py"}
REQUIRED = ("models/__init__.py", "audio.py", "hparams.py")
#: Top-level modules of a Wav2Lip checkout that must be imported from the user's folder, not from elsewhere.
UPSTREAM_MODULES = ("models", "audio", "hparams")
#: librosa < 0.10 order of ``librosa.filters.mel``'s arguments.
MEL_POSITIONAL = ("sr", "n_fft", "n_mels", "fmin", "fmax", "htk", "norm", "dtype")
#: Modules upstream's training scripts import that the project does not need (module -> what provides it).
UPSTREAM_DEPENDENCIES = {"librosa": "librosa", "cv2": "opencv-python-headless", "scipy": "scipy"}
INSTALL_HINT = ("pip install 'unisync-loss[wav2lip]' (from this repository: bash run.sh setup wav2lip, "
                "or pip install -e '.[wav2lip]')")
EXPERT_FLAG = "--syncnet_checkpoint_path"
TAG = "[unisync-wav2lip]"


def check_wav2lip_dir(path: str | os.PathLike, hq: bool = False) -> Path:
    """The Wav2Lip folder, or ``ValueError`` naming what is missing from it."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"wav2lip_dir: {root} is not a folder")
    missing = [name for name in (*REQUIRED, SCRIPTS[hq]) if not (root / name).is_file()]
    if missing:
        raise ValueError(f"wav2lip_dir: {root} is not a Wav2Lip repository: missing {', '.join(missing)}")
    return root


@contextlib.contextmanager
def librosa_positional_mel() -> Iterator[str | None]:
    """While active, ``librosa.filters.mel(sr, n_fft, ...)`` works on librosa >= 0.10. Yields a note, or None."""
    try:
        import librosa.filters as filters
    except ImportError:
        yield None
        return
    original = filters.mel
    params = inspect.signature(original).parameters
    if "sr" not in params or params["sr"].kind is not inspect.Parameter.KEYWORD_ONLY:
        yield None
        return

    @functools.wraps(original)
    def mel(*args, **kwargs):
        if len(args) > len(MEL_POSITIONAL):
            raise TypeError(f"mel() takes at most {len(MEL_POSITIONAL)} positional arguments, got {len(args)}")
        for name, value in zip(MEL_POSITIONAL, args):
            if name in kwargs:
                raise TypeError(f"mel() got multiple values for argument {name!r}")
            kwargs[name] = value
        return original(**kwargs)

    filters.mel = mel
    try:
        yield (f"{TAG} librosa {getattr(sys.modules.get('librosa'), '__version__', '?')}: librosa.filters.mel accepts "
               "the positional (sr, n_fft) call of Wav2Lip's audio.py for this run (Wav2Lip issues #471, #613); "
               "your files are unchanged")
    finally:
        filters.mel = original


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``["batch_size=4", "syncnet_wt=0.01"]`` -> ``{"batch_size": 4, "syncnet_wt": 0.01}`` (Python literals)."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set: expected KEY=VALUE, got {item!r}")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text
    return out


def expert_argument(script_args: list[str]) -> tuple[int, str] | None:
    """Position and value of ``--syncnet_checkpoint_path`` in the script's arguments (both spellings)."""
    for i, arg in enumerate(script_args):
        if arg == EXPERT_FLAG and i + 1 < len(script_args):
            return i + 1, script_args[i + 1]
        if arg.startswith(EXPERT_FLAG + "="):
            return i, arg.split("=", 1)[1]
    return None


def resolve_expert(script_args: list[str], expert: str | None, workdir: Path) -> tuple[list[str], Path]:
    """Choose the UniSync checkpoint folder and point ``--syncnet_checkpoint_path`` at an upstream-loadable file."""
    found = expert_argument(script_args)
    given = Path(found[1]).expanduser() if found else None
    if given is not None and not given.is_dir() and expert is None:
        raise ValueError(f"{EXPERT_FLAG} {given}: the UniSync launcher needs a UniSync expert folder there "
                         "(config.json + model.safetensors) or --expert DIR; a SyncNet .pth trains plain Wav2Lip")
    if given is not None and given.is_dir() and expert is not None and given.resolve() != Path(expert).resolve():
        raise ValueError(f"--expert {expert} and {EXPERT_FLAG} {given} name different experts; give one")
    folder = Path(expert) if expert is not None else given
    adapter = UniSyncSyncNet(expert=load_unisync_expert(folder))
    bridge = adapter.save_upstream_checkpoint(workdir / "unisync_expert_for_upstream.pth")
    args = list(script_args)
    if found is None:
        args += [EXPERT_FLAG, str(bridge)]
    elif args[found[0]].startswith(EXPERT_FLAG + "="):
        args[found[0]] = f"{EXPERT_FLAG}={bridge}"
    else:
        args[found[0]] = str(bridge)
    return args, folder.resolve()


def install_adapter(expert_dir: Path, overrides: dict[str, object]) -> None:
    """Replace ``SyncNet_color`` in the user's ``models`` package; apply hparams overrides."""
    import importlib

    models = importlib.import_module("models")
    if not hasattr(models, "SyncNet_color"):
        raise ValueError(f"{models.__file__}: defines no SyncNet_color; is this a Wav2Lip repository?")
    adapter = UniSyncSyncNet.bound_to(expert_dir)
    models.SyncNet_color = adapter
    if hasattr(models, "syncnet") and hasattr(models.syncnet, "SyncNet_color"):
        models.syncnet.SyncNet_color = adapter
    if overrides:
        hp = importlib.import_module("hparams").hparams
        unknown = sorted(set(overrides) - set(hp.data))
        if unknown:
            raise ValueError(f"--set: unknown hparams {unknown}; known: {sorted(hp.data)}")
        for key, value in overrides.items():
            hp.set_hparam(key, value)


def launch(wav2lip_dir: str | os.PathLike, script_args: list[str], hq: bool = False, expert: str | None = None,
           overrides: dict[str, object] | None = None) -> int:
    """Run the user's ``wav2lip_train.py`` (or ``hq_wav2lip_train.py``) with the UniSync expert. Returns 0."""
    root = check_wav2lip_dir(wav2lip_dir, hq)
    script = root / SCRIPTS[hq]
    with tempfile.TemporaryDirectory(prefix="unisync-wav2lip-") as tmp:
        args, expert_dir = resolve_expert(list(script_args), expert, Path(tmp))
        with checkout_environment(root, [str(script), *args], UPSTREAM_MODULES):
            require_modules(UPSTREAM_DEPENDENCIES, "Wav2Lip's training scripts", INSTALL_HINT)
            return _run_script(script, expert_dir, overrides)


def _run_script(script: Path, expert_dir: Path, overrides: dict[str, object] | None) -> int:
    """Run ``script`` as ``__main__`` (inside :func:`checkout_environment`) with the adapter installed."""
    with librosa_positional_mel() as note:
        if note:
            print(note, flush=True)
        install_adapter(expert_dir, overrides or {})
        print(f"{TAG} models.SyncNet_color -> UniSync mel-rgb expert from {expert_dir} (eval mode, frozen)",
              flush=True)
        return run_script(script)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m integrations.wav2lip.launcher",
        description="Run an unmodified Wav2Lip training script with the UniSync expert as SyncNet_color.",
    )
    parser.add_argument("--wav2lip-dir", required=True, help="folder of the Wav2Lip repository (or fork)")
    parser.add_argument("--hq", action="store_true", help="run hq_wav2lip_train.py (with the quality discriminator)")
    parser.add_argument("--expert", help="UniSync mel-rgb checkpoint folder (else --syncnet_checkpoint_path's folder)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one of the script's hparams for this run, e.g. --set batch_size=8")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="-- then the script's own arguments")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    script_args = args.script_args[1:] if args.script_args[:1] == ["--"] else args.script_args
    try:
        return launch(args.wav2lip_dir, script_args, args.hq, args.expert, parse_overrides(args.set))
    except (ValueError, FileNotFoundError) as err:
        print(f"{TAG} error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
