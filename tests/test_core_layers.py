"""The library (``unisync_loss``) never depends on the tools built on it; their commands reach ``unisync`` by entry
points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import declared_commands, write_entry_points
from unisync_loss.cli import build_parser, is_command

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("train_expert", "integrations")

_IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import unisync_loss
failed = []
for info in pkgutil.walk_packages(unisync_loss.__path__, "unisync_loss."):
    if info.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(info.name)
    except ImportError as err:  # an optional extra that is not installed: the module is still checked by name
        failed.append(f"{info.name}: {err}")
tools = sorted(name for name in sys.modules if name.split(".")[0] in {tools!r})
print("IMPORTED", len([n for n in sys.modules if n.startswith("unisync_loss.")]))
print("TOOLS", tools)
print("FAILED", failed)
"""


def test_importing_every_library_module_imports_no_tool():
    code = _IMPORT_EVERY_MODULE.replace("{tools!r}", repr(set(TOOLS)))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}, check=True).stdout
    lines = dict(line.split(" ", 1) for line in out.splitlines() if line.split(" ", 1)[0] in
                 ("IMPORTED", "TOOLS", "FAILED"))
    assert int(lines["IMPORTED"]) > 50, out
    assert lines["TOOLS"] == "[]", f"importing unisync_loss modules imported tool modules: {lines['TOOLS']}"


def test_library_sources_do_not_import_tools():
    offenders = []
    for path in sorted((ROOT / "unisync_loss").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            words = line.strip().split()
            if len(words) >= 2 and words[0] in ("import", "from") and words[1].split(".")[0] in TOOLS:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_declared_commands_are_tool_modules_with_the_command_interface():
    import importlib

    declared = declared_commands()
    assert {"demo", "evaluate"} <= set(declared)
    for name, target in declared.items():
        assert ":" not in target and target.split(".")[0] in TOOLS, (name, target)
        assert is_command(importlib.import_module(target)), f"{target} lacks HELP / add_arguments / run"


def test_unisync_lists_declared_commands(unisync_commands):
    out = subprocess.run([sys.executable, "-m", "unisync_loss", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                                           "PYTHONPATH": str(unisync_commands)}, check=True).stdout
    for name in ("demo", "evaluate", "score", "synth"):
        assert f"    {name}" in out, out


def test_a_declared_command_must_be_a_command_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(write_entry_points(tmp_path, {"broken": "json"})))
    with pytest.raises(TypeError, match="broken = json"):
        build_parser()
