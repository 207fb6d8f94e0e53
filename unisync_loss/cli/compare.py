"""``unisync compare``: LSE-D / LSE-C and UniSync scores of several methods on the same inputs, in one table.

    unisync compare wav2lip=results/wav2lip ours=results/ours --audio-dir driving_audio \\
        --syncnet syncnet_v2.model --expert experts/mel-rgb --out comparison/
    unisync compare --csv pairs.csv --syncnet syncnet_v2.model --precropped --mode reference --out comparison/

Each method is a folder (``NAME=FOLDER``, or a bare folder named after itself) whose files are matched by name, or
rows ``method,video[,audio]`` of a CSV. Writes ``per_file.jsonl`` (one line per method and file, with the error of
each bad one), ``comparison.json`` and ``comparison.md`` (per method: mean and 95% interval of each score, failures)
and ``comparison.png`` (the distribution per method). Missing files, files without audio or face, and videos whose
length differs from their audio by more than ``--max-length-diff`` seconds are reported per file; the batch goes on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .score import add_scoring_arguments, load_scorers, scoring_options

HELP = "Compare methods: LSE-D/LSE-C and UniSync scores per method folder, markdown+JSON table and one plot."


def add_arguments(parser) -> None:
    parser.add_argument("methods", nargs="*", metavar="NAME=FOLDER",
                        help="one folder of videos per method (files matched by name); NAME= is optional")
    parser.add_argument("--csv", help="instead of folders: a CSV with the columns method,video[,audio]")
    parser.add_argument("--audio-dir", help="driving audio per name (<name>.wav, ...); default: each video's track")
    parser.add_argument("--out", required=True, help="output folder for the tables, the plot and per-file records")
    parser.add_argument("--max-length-diff", type=float, default=0.5,
                        help="largest difference between video and audio length, in seconds, still scored (0.5)")
    add_scoring_arguments(parser)


def parse_methods(specs: list[str]) -> dict[str, str]:
    """``["a=dir1", "dir2"]`` -> ``{"a": "dir1", "dir2": "dir2"}`` (a bare folder is named after itself)."""
    methods: dict[str, str] = {}
    for spec in specs:
        name, _, folder = spec.partition("=") if "=" in spec else (Path(spec).name, "", spec)
        if not name or not folder:
            raise ValueError(f"methods: expected NAME=FOLDER or FOLDER, got {spec!r}")
        if name in methods:
            raise ValueError(f"methods: the method name {name!r} is given twice")
        methods[name] = folder
    return methods


def _audio_duration(path: str) -> float | None:
    """Seconds of the first audio stream of ``path`` (None: it has none)."""
    import av

    with av.open(path, metadata_errors="ignore") as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        return (container.duration or 0) / av.time_base


def check_item(item, max_length_diff: float) -> list[str]:
    """Problems that stop an item before scoring (raises ValueError with the reason); returns warnings."""
    from ..video import probe_video

    if item.video is None:
        raise ValueError(f"missing: method {item.method!r} has no file named {item.name!r}")
    if not Path(item.video).is_file():
        raise ValueError(f"missing: no file at {item.video}")
    if item.audio is not None and not Path(item.audio).is_file():
        raise ValueError(f"missing audio: no file at {item.audio}")
    video_seconds = probe_video(item.video).duration
    audio_seconds = _audio_duration(item.audio or item.video)
    if audio_seconds is None:
        raise ValueError(f"no audio: {Path(item.video).name} has no audio track and no driving audio was given")
    difference = abs(video_seconds - audio_seconds)
    if difference > max_length_diff:
        raise ValueError(f"different lengths: video {video_seconds:.2f} s, audio {audio_seconds:.2f} s "
                         f"(more than --max-length-diff {max_length_diff} s apart)")
    return [f"video {video_seconds:.2f} s and audio {audio_seconds:.2f} s differ"] if difference > 0.04 else []


def _progress(items):
    """tqdm on a terminal, otherwise a plain line per item."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        yield from tqdm(items, desc="compare", unit="video")
        return
    for index, item in enumerate(items, start=1):
        print(f"compare: {index}/{len(items)} {item.method}/{item.name}", file=sys.stderr, flush=True)
        yield item


def run(args) -> int:
    from ..metrics.comparison import items_from_csv, items_from_folders, markdown_table, summarise_methods
    from ..metrics.plots import plot_comparison
    from ..metrics.video_scoring import score_video

    if bool(args.csv) == bool(args.methods):
        raise ValueError("methods: give method folders (NAME=FOLDER ...) or --csv, not both and not neither")
    if not args.max_length_diff >= 0:
        raise ValueError(f"--max-length-diff: expected a non-negative number of seconds, got {args.max_length_diff}")
    if args.csv:
        items = items_from_csv(args.csv)
    else:
        items = items_from_folders(parse_methods(args.methods), args.audio_dir)
    methods = list(dict.fromkeys(item.method for item in items))
    syncnet, expert = load_scorers(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    with open(out / "per_file.jsonl", "w") as lines:
        for item in _progress(items):
            base = {"method": item.method, "name": item.name, "video": item.video, "audio": item.audio}
            try:
                warnings = check_item(item, args.max_length_diff)
                record = score_video(item.video, audio=item.audio, syncnet=syncnet, expert=expert,
                                     **scoring_options(args))
                record = {**base, **record, "warnings": warnings + record.get("warnings", [])}
            except Exception as err:  # noqa: BLE001 - one bad file must never end the comparison
                record = {**base, "status": "failed", "error": f"{type(err).__name__}: {err}"}
            records.append(record)
            lines.write(json.dumps(record) + "\n")
            lines.flush()
    summary = summarise_methods(records, methods)
    table = markdown_table(summary)
    settings = {k: getattr(args, k) for k in ("syncnet", "expert", "mode", "precropped", "lrs2_crop",
                                              "jpeg_encoder", "max_frames", "audio_dir", "csv", "max_length_diff")}
    (out / "comparison.json").write_text(json.dumps({"settings": settings, "methods": summary}, indent=1))
    (out / "comparison.md").write_text(table)
    if any(r["status"] == "ok" for r in records):
        plot_comparison(records, methods, out / "comparison.png")
    print(table)
    return 0 if any(r["status"] == "ok" for r in records) else 1
