"""The preprocessing report: per video, where its frames went; per clip, what was kept; per split, its speakers.

Built from the run log records and the store's clips; written as ``STORE/preprocess_report.json`` and printed as
a table by ``unisync preprocess``.
"""

from __future__ import annotations

from pathlib import Path

from ..data.clip_store import SPLITS, ClipStore
from ..validation import describe

REPORT_NAME = "preprocess_report.json"


def build_report(store: ClipStore, results: list[dict], rule: str = "") -> dict:
    """``{"split_rule", "splits", "videos", "clips", "totals"}`` from the log ``results`` (one dict per video) and
    the clips now in ``store``. Frames are counted at 25 fps."""
    if not isinstance(store, ClipStore):
        raise ValueError(f"store: expected a ClipStore, got {describe(store)}")
    clip_rows, split_of_clip = [], {}
    for entry in store.index():
        meta = store.meta(entry["id"])
        extra = meta.get("extra", {})
        split_of_clip[entry["id"]] = entry["split"]
        clip_rows.append({
            "id": entry["id"], "source": extra.get("source"), "speaker": entry["speaker"], "split": entry["split"],
            "frames": entry["num_frames"], "seconds": round(entry["num_frames"] / 25.0, 2),
            "start_frame": extra.get("start_frame"), "detected_fraction": extra.get("detected_fraction"),
            "interpolated_frames": extra.get("interpolated_frames"), "face_size_px": extra.get("face_size_px"),
            "arrays": sorted(meta.get("arrays", {})),
        })
    videos = []
    for record in sorted(results, key=lambda r: r["name"]):
        frames = record.get("frames") or {}
        clips = [c for c in record.get("clips", []) if c in split_of_clip]
        splits = sorted({split_of_clip[c] for c in clips})
        videos.append({
            "name": record["name"], "source": Path(record["path"]).name, "speaker": record.get("speaker", ""),
            "split": splits[0] if len(splits) == 1 else (record.get("split") or ",".join(splits) or None),
            "status": record["status"], "kind": record.get("kind", ""), "reason": record.get("reason", ""),
            "source_seconds": record.get("source_seconds", 0.0), "frames": frames.get("frames"),
            "face_frames": frames.get("face_frames"), "several_face_frames": frames.get("several_face_frames"),
            "kept_frames": frames.get("kept_frames"), "interpolated_frames": frames.get("interpolated_frames"),
            "dropped": frames.get("dropped", {}), "clips": clips,
        })
    splits = {}
    for split in SPLITS:
        rows = [c for c in clip_rows if c["split"] == split]
        splits[split] = {"speakers": sorted({c["speaker"] for c in rows}), "clips": len(rows),
                         "seconds": round(sum(c["seconds"] for c in rows), 2)}
    dropped: dict[str, int] = {}
    for video in videos:
        for reason, count in video["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + count
    totals = {"videos": len(videos), "skipped_videos": sum(v["status"] == "skipped" for v in videos),
              "clips": len(clip_rows), "frames": sum(v["frames"] or 0 for v in videos),
              "kept_frames": sum(c["frames"] for c in clip_rows), "dropped_frames": dropped}
    return {"split_rule": rule, "splits": splits, "videos": videos, "clips": clip_rows, "totals": totals}


def format_report(report: dict, width: int = 44) -> str:
    """The report as plain-text tables: one row per video, then one per split."""
    if not isinstance(report, dict) or "videos" not in report:
        raise ValueError(f"report: expected the dict of build_report, got {describe(report)}")

    def cut(text: str, n: int) -> str:
        return text if len(text) <= n else text[:n - 1] + "~"

    def count(value) -> str:
        return "-" if value is None else str(value)

    lines = [f"{'video':<{width}} {'speaker':<18} {'split':<5} {'frames':>6} {'face':>6} {'kept':>6} {'interp':>6} "
             f"{'clips':>5}  dropped / skipped"]
    for v in report["videos"]:
        why = "; ".join(f"{n} {reason}" for reason, n in v["dropped"].items() if n)
        if v["status"] == "skipped":
            why = f"SKIPPED ({v['kind']}): {v['reason']}"
        lines.append(f"{cut(v['name'], width):<{width}} {cut(v['speaker'] or '', 18):<18} {v['split'] or '-':<5} "
                     f"{count(v['frames']):>6} {count(v['face_frames']):>6} {count(v['kept_frames']):>6} "
                     f"{count(v['interpolated_frames']):>6} {len(v['clips']):>5}  {why}")
    totals = report["totals"]
    lines.append(f"{totals['videos']} videos ({totals['skipped_videos']} skipped), {totals['clips']} clips, "
                 f"{totals['kept_frames']} of {totals['frames']} frames kept "
                 f"({totals['kept_frames'] / 25:.1f} s)")
    for reason, n in totals["dropped_frames"].items():
        lines.append(f"  dropped, {reason}: {n} frames")
    if report.get("split_rule"):
        lines.append(f"splits ({report['split_rule']}):")
    for split, entry in report["splits"].items():
        lines.append(f"  {split:<5} {len(entry['speakers']):>3} speakers {entry['clips']:>4} clips "
                     f"{entry['seconds']:>8.1f} s: {', '.join(entry['speakers'])}")
    return "\n".join(lines)
