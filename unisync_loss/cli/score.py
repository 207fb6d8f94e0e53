"""``unisync score``: LSE-D / LSE-C (SyncNet) and UniSync scores for one video or thousands.

    unisync score videos/*.mp4 --syncnet syncnet_v2.model --json scores.jsonl --plot plots/
    unisync score generated.mp4 --audio driving.wav --expert experts/mel-rgb
    unisync score talk.mp4              # no --expert/--syncnet: an expert found by name (user's, else shipped)
    torchrun --nproc-per-node 8 -m unisync_loss score list.txt --syncnet syncnet_v2.model --json scores.jsonl

Inputs are files, glob patterns or ``.txt`` lists (one path per line). One JSON line per video; videos already in
the output are skipped (resumable). A file that fails is recorded with its error instead of stopping the run. Under
``torchrun`` (``RANK``/``WORLD_SIZE`` set) every rank scores its share of the list into ``<json>.rank<R>.jsonl``.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sys
from pathlib import Path

HELP = "Score lip sync of videos: LSE-D/LSE-C as syncnet_python, UniSync offset/confidence/drift, JSON and plots."

LIST_SUFFIXES = (".txt", ".lst", ".list")
#: Expert pairs tried in order when neither --expert nor --syncnet is given (the first found by name is used).
DEFAULT_PAIRS = (("mel", "landmarks"), ("mel", "rgb"))


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="VIDEO_OR_GLOB_OR_LIST")
    parser.add_argument("--audio", help="score every video against this audio file instead of its own track")
    parser.add_argument("--json", help="JSON lines output (one line per video; resumable)")
    parser.add_argument("--plot", help="folder for one PNG per video")
    add_scoring_arguments(parser)


def add_scoring_arguments(parser) -> None:
    """The options of how videos are scored, shared by ``score`` and ``compare``."""
    parser.add_argument("--syncnet", help="SyncNet weights (syncnet_python's syncnet_v2.model) for LSE-D/LSE-C")
    parser.add_argument("--expert", help="UniSync expert checkpoint folder (an rgb or landmarks expert); default "
                                         "without --syncnet: mel-landmarks, else mel-rgb, from $UNISYNC_HOME or the "
                                         "package")
    parser.add_argument("--mode", choices=("default", "reference"), default="default",
                        help="reference: syncnet_python's JPEG round trip before SyncNet (default: decoded frames)")
    crops = parser.add_mutually_exclusive_group()
    crops.add_argument("--lrs2-crop", action="store_true",
                       help="whole frame resized to 224x224, no face detection (Wav2Lip's LRS2 evaluation)")
    crops.add_argument("--precropped", action="store_true",
                       help="the videos already are 224x224 face crops (syncnet_python's evaluation input): no "
                            "detection; with --mode reference the scores equal syncnet_python's")
    parser.add_argument("--jpeg-encoder", choices=("auto", "ffmpeg", "pyav"), default="auto",
                        help="reference mode, --precropped: the ffmpeg executable (byte-identical to the reference "
                             "on this machine) or PyAV's libraries; auto: ffmpeg when on PATH")
    parser.add_argument("--min-track", type=int, default=25, help="shortest face track scored, in frames (25)")
    parser.add_argument("--max-frames", type=int, help="score only the first frames of each video")
    parser.add_argument("--device", help="torch device (default: cuda:<LOCAL_RANK> if available, else cpu)")


def load_scorers(args):
    """``(syncnet or None, expert or None)`` from the scoring options, on the requested device (with neither option,
    the first expert of ``DEFAULT_PAIRS`` found by name: see :func:`scoring_expert`)."""
    import torch

    from ..metrics.syncnet import load_syncnet

    device = args.device or (f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if torch.cuda.is_available() else "cpu")
    syncnet = load_syncnet(args.syncnet, device) if args.syncnet else None
    return syncnet, scoring_expert(args.expert, args.syncnet, device)


def scoring_options(args) -> dict:
    """Keyword arguments of ``score_video`` from the scoring options."""
    return {"mode": args.mode, "crop": crop_choice(args), "min_track_frames": args.min_track,
            "max_frames": args.max_frames, "encoder": args.jpeg_encoder}


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files, glob patterns and list files -> video paths in order, duplicates removed (missing files kept, so
    that they are reported as failures)."""
    paths: list[str] = []
    for item in inputs:
        if Path(item).suffix.lower() in LIST_SUFFIXES and Path(item).is_file():
            lines = [line.strip() for line in Path(item).read_text().splitlines()]
            paths += [line for line in lines if line and not line.startswith("#")]
        elif glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise ValueError(f"inputs: the pattern {item!r} matches no file")
            paths += matches
        else:
            paths.append(item)
    return list(dict.fromkeys(paths))


def shard(paths: list[str]) -> tuple[list[str], int, int]:
    """This rank's share of ``paths`` under torchrun (``RANK``/``WORLD_SIZE``), with the rank and world size."""
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if not 0 <= rank < world:
        raise ValueError(f"RANK/WORLD_SIZE: expected 0 <= RANK < WORLD_SIZE, got {rank} and {world}")
    return paths[rank::world], rank, world


def output_path(json_path: str | None, rank: int, world: int) -> Path | None:
    if json_path is None:
        return None
    path = Path(json_path)
    return path if world == 1 else path.with_name(f"{path.stem}.rank{rank}{path.suffix or '.jsonl'}")


def read_records(json_path: str | None) -> list[dict]:
    """Records already written for ``json_path`` (the file itself and any per-rank files beside it)."""
    if json_path is None:
        return []
    path = Path(json_path)
    files = [path, *sorted(path.parent.glob(f"{path.stem}.rank*{path.suffix or '.jsonl'}"))]
    records = []
    for file in files:
        if file.is_file():
            for line in file.read_text().splitlines():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut by a killed run: that video is scored again
    return records


def _key(video: str, audio: str | None) -> tuple[str, str | None]:
    return str(Path(video)), None if audio is None else str(Path(audio))


def crop_choice(args) -> str:
    """The crop of ``score_video`` the flags ask for."""
    return "whole" if args.lrs2_crop else "none" if getattr(args, "precropped", False) else "syncnet"


def plot_name(video: str) -> str:
    return f"{Path(video).stem}-{hashlib.sha1(str(Path(video).resolve()).encode()).hexdigest()[:8]}.png"


def summary_table(records: list[dict]) -> str:
    """Mean scores over successful records, as papers report them, plus the failure count."""
    import numpy as np

    ok = [r for r in records if r.get("status") == "ok"]
    rows = [f"videos scored: {len(ok)}, failed: {len(records) - len(ok)}"]
    columns = [("lse_d", "LSE-D", "{:.3f}"), ("lse_c", "LSE-C", "{:.3f}"), ("offset", "offset", "{:+.2f}"),
               ("unisync_mean_probability", "UniSync p", "{:.3f}"), ("unisync_in_sync_share", "in sync", "{:.1%}"),
               ("unisync_offset", "UniSync offset", "{:+.2f}")]
    for key, label, fmt in columns:
        values = [r[key] for r in ok if key in r]
        if values:
            extra = f"   |offset| {np.mean(np.abs(values)):.2f}" if "offset" in key else ""
            rows.append(f"  {label:<15} mean {fmt.format(float(np.mean(values)))}   (n={len(values)}){extra}")
    for r in records:
        if r.get("status") != "ok":
            rows.append(f"  FAILED {r['video']}: {r.get('error')}")
    return "\n".join(rows)


def scoring_expert(expert_dir: str | None, syncnet: str | None, device: str):
    """The UniSync expert of a run: ``--expert`` if given; with neither ``--expert`` nor ``--syncnet`` the first of
    ``DEFAULT_PAIRS`` found by name (user home, then shipped; the error names where it looked); else None."""
    from ..checkpoints import find_expert, load_expert
    from ..expert import UniSyncExpert

    if expert_dir is not None:
        return UniSyncExpert.from_pretrained(expert_dir).to(device).eval()
    if syncnet is not None:
        return None
    missing = []
    for pair in DEFAULT_PAIRS:
        try:
            source, path = find_expert(*pair)
        except FileNotFoundError as err:
            missing.append(str(err))
            continue
        print(f"expert: {'-'.join(pair)} ({source}: {path})", file=sys.stderr)
        return load_expert(*pair, checkpoint=path).to(device).eval()
    raise FileNotFoundError("no --expert or --syncnet given, and no expert to find by name:\n" + "\n".join(missing))


def warning_lines(records: list[dict]) -> list[str]:
    """One line per warning of the scored records (no speech, face lost, short audio)."""
    return [f"  WARNING {r['video']}: {w}" for r in records for w in r.get("warnings", [])]


def run(args) -> int:
    from ..progress import progress_bar

    from ..metrics.plots import plot_record
    from ..metrics.video_scoring import score_video

    paths, rank, world = shard(expand_inputs(args.inputs))
    syncnet, expert = load_scorers(args)
    previous = read_records(args.json)
    done = {_key(r["video"], r.get("audio")) for r in previous if r.get("status") == "ok"}
    todo = [p for p in paths if _key(p, args.audio) not in done]
    out_path = output_path(args.json, rank, world)
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    records = []
    for video in progress_bar(todo, desc=f"score (rank {rank}/{world})" if world > 1 else "score", unit="video"):
        try:
            record = score_video(video, audio=args.audio, syncnet=syncnet, expert=expert, **scoring_options(args))
            if args.plot:
                record["plot"] = str(plot_record(record, Path(args.plot) / plot_name(video)))
        except Exception as err:  # noqa: BLE001 - one bad file must never end a batch run
            record = {"video": str(video), "audio": args.audio, "status": "failed",
                      "error": f"{type(err).__name__}: {err}"}
        records.append(record)
        if out_path is not None:
            with open(out_path, "a") as f:
                f.write(json.dumps(record) + "\n")
    skipped = len(paths) - len(todo)
    if skipped:
        print(f"skipped {skipped} video(s) already in {args.json}", file=sys.stderr)
    mine = {_key(p, args.audio) for p in paths}
    print(summary_table([r for r in previous if _key(r["video"], r.get("audio")) in mine
                         and r.get("status") == "ok"] + records))
    for line in warning_lines(records):
        print(line)
    return 1 if records and all(r["status"] != "ok" for r in records) else 0
