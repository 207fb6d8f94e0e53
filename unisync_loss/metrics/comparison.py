"""Comparing talking-face methods on the same audio: which files to score, and the per-method table.

Inputs are matched by name: one folder per method (the file stem is the name, e.g. ``wav2lip/id01_00002.mp4`` and
``ours/id01_00002.mp4`` are the same item), or a CSV with columns ``method,video`` and optionally ``audio``.
A name present for some methods and missing for another is reported as a failure of that method, never dropped
silently. Per method, each metric gets its mean, a 95% interval of the mean (percentile bootstrap, 2000 resamples,
fixed seed) and the count of files it is based on, plus the failures with their reasons.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg")
#: (record key, column label, better): the per-video values of a ``score_video`` record that the table reports.
METRICS = (("lse_d", "LSE-D", "lower"), ("lse_c", "LSE-C", "higher"), ("abs_offset", "abs. offset", "lower"),
           ("unisync_mean_probability", "UniSync p", "higher"), ("unisync_in_sync_share", "in sync", "higher"),
           ("abs_unisync_offset", "abs. UniSync offset", "lower"))


@dataclass(frozen=True)
class Item:
    """One video of one method; ``video`` None: the method has no file of that name. ``audio``: the driving audio
    (None: the video's own track)."""

    method: str
    name: str
    video: str | None
    audio: str | None = None


def _files(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in suffixes:
            if path.stem in found:
                raise ValueError(f"{folder}: two files named {path.stem!r} ({found[path.stem].name}, {path.name})")
            found[path.stem] = path
    return found


def items_from_folders(methods: dict[str, str | os.PathLike], audio_dir: str | os.PathLike | None = None
                       ) -> list[Item]:
    """``{method: folder}`` -> items for every name found in any folder (sorted by name, then method order).

    ``audio_dir``: driving audio matched by name (``<audio_dir>/<name>.wav`` or another audio suffix); a name
    without an audio file there is scored against its own track.
    """
    if not isinstance(methods, dict) or len(methods) < 1:
        raise ValueError(f"methods: expected a dict {{method: folder}} with at least one entry, got {methods!r}")
    files = {}
    for method, folder in methods.items():
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"method {method!r}: no folder at {folder}")
        files[method] = _files(folder, VIDEO_SUFFIXES)
    audio = {}
    if audio_dir is not None:
        if not Path(audio_dir).is_dir():
            raise FileNotFoundError(f"audio_dir: no folder at {audio_dir}")
        audio = _files(Path(audio_dir), AUDIO_SUFFIXES + VIDEO_SUFFIXES)
    names = sorted(set().union(*(set(f) for f in files.values())))
    if not names:
        raise ValueError(f"methods: no video files ({', '.join(VIDEO_SUFFIXES)}) in {list(map(str, methods.values()))}")
    return [Item(method, name, str(files[method][name]) if name in files[method] else None,
                 str(audio[name]) if name in audio else None)
            for name in names for method in methods]


def items_from_csv(path: str | os.PathLike) -> list[Item]:
    """A CSV with a header ``method,video[,audio]`` (paths relative to the CSV's folder) -> items; names are the
    video stems, and a name listed for one method but not another is a missing item of the other."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"csv: no file at {path}")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"method", "video"} <= set(rows[0]):
        raise ValueError(f"{path.name}: expected a header with the columns method,video[,audio], got "
                         f"{list(rows[0]) if rows else 'no rows'}")
    listed: dict[tuple[str, str], Item] = {}
    methods: list[str] = []
    for number, row in enumerate(rows, start=2):
        method, video = (row.get("method") or "").strip(), (row.get("video") or "").strip()
        if not method or not video:
            raise ValueError(f"{path.name} line {number}: method and video must not be empty, got {row}")
        audio = (row.get("audio") or "").strip() or None
        resolve = lambda p: str(p if Path(p).is_absolute() else path.parent / p)  # noqa: E731
        item = Item(method, Path(video).stem, resolve(video), resolve(audio) if audio else None)
        if (method, item.name) in listed:
            raise ValueError(f"{path.name} line {number}: {method!r} lists the name {item.name!r} twice")
        listed[(method, item.name)] = item
        if method not in methods:
            methods.append(method)
    names = sorted({name for _, name in listed})
    return [listed.get((m, n), Item(m, n, None)) for n in names for m in methods]


def mean_interval(values, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
                  ) -> tuple[float, float, float]:
    """Mean of ``values`` and its ``confidence`` interval by percentile bootstrap -> ``(mean, low, high)``.

    One value: the interval is that value. Deterministic for a given ``seed``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0 or not np.isfinite(values).all():
        raise ValueError(f"values: expected a non-empty 1-D array of finite numbers, got {values!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    mean = float(values.mean())
    if len(values) == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return mean, float(low), float(high)


def metric_values(record: dict) -> dict[str, float]:
    """The :data:`METRICS` of one successful ``score_video`` record (absent metrics left out)."""
    values = {key: record[key] for key, _, _ in METRICS if key in record}
    if "offset" in record:
        values["abs_offset"] = abs(record["offset"])
    if "unisync_offset" in record:
        values["abs_unisync_offset"] = abs(record["unisync_offset"])
    return values


def summarise_methods(records: list[dict], methods: list[str]) -> list[dict]:
    """Per method (in ``methods`` order): files, scored, failed, failures (name and error) and per metric
    ``{"mean", "low", "high", "n"}``. ``records``: per-file dicts with ``method``, ``name``, ``status`` and, when
    ok, the ``score_video`` values."""
    rows = []
    for method in methods:
        mine = [r for r in records if r.get("method") == method]
        ok = [r for r in mine if r.get("status") == "ok"]
        row = {"method": method, "files": len(mine), "scored": len(ok), "failed": len(mine) - len(ok),
               "failures": [{"name": r.get("name"), "error": r.get("error")} for r in mine if r.get("status") != "ok"],
               "metrics": {}}
        for key, _, _ in METRICS:
            values = [metric_values(r)[key] for r in ok if key in metric_values(r)]
            if values:
                mean, low, high = mean_interval(values)
                row["metrics"][key] = {"mean": mean, "low": low, "high": high, "n": len(values)}
        rows.append(row)
    return rows


def markdown_table(summary: list[dict]) -> str:
    """The per-method summary as a markdown table: ``mean [low, high]`` per metric, then the failures."""
    keys = [(key, label, better) for key, label, better in METRICS if any(key in r["metrics"] for r in summary)]
    header = ["method", "scored", "failed"] + [f"{label} ({better} is better)" for _, label, better in keys]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for row in summary:
        cells = [row["method"], str(row["scored"]), str(row["failed"])]
        for key, _, _ in keys:
            m = row["metrics"].get(key)
            cells.append(f"{m['mean']:.3f} [{m['low']:.3f}, {m['high']:.3f}]" if m else "-")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Means with 95% bootstrap intervals of the mean over the files each method scored.")
    failures = [(row["method"], f) for row in summary for f in row["failures"]]
    if failures:
        lines += ["", "Failures:", ""]
        lines += [f"- {method} / {f['name']}: {f['error']}" for method, f in failures]
    return "\n".join(lines) + "\n"
