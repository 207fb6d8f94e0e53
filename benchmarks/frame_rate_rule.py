"""Our 25 fps frame selection against the ffmpeg command's `-vf fps=25` and `-r 25` on real 30 fps clips.

    python benchmarks/frame_rate_rule.py [--out frame_rate_rule.json]

Needs ``ffmpeg`` on PATH and ../shared/data/real_corpus. For each clip: frame counts, and how many output frames show
a different source frame than ours (frames identified by their decoded yuv420p bytes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from unisync_loss.video import iter_frames  # noqa: E402

CLIPS = ("StyleTalk__feifeili_clip3_muxed.mp4", "StyleTalk__feifeili_clip1_muxed.mp4",
         "V-Express__short_case_AOC_gt.mp4")


def ffmpeg_frames(path: Path, option: list[str], shape: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v", *option,
                          "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, *shape)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real_corpus")
    parser.add_argument("--out", type=Path, default=Path("frame_rate_rule.json"))
    args = parser.parse_args()
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    rows = []
    print(version)
    print(f"{'clip':<40} {'source':>6} {'ours':>5} {'fps=25':>7} {'differ':>6} {'-r 25':>6} {'differ':>6}")
    for name in CLIPS:
        path = args.data / name
        with av.open(str(path)) as container:
            source = {f.to_ndarray(format="yuv420p").tobytes(): i for i, f in enumerate(container.decode(video=0))}
        ours = np.stack(list(iter_frames(path, pixel_format="yuv420p")))
        index = [source.get(f.tobytes(), -1) for f in ours]
        row = {"clip": name, "source_frames": len(source), "ours": len(ours)}
        for key, option in (("fps_filter", ["-vf", "fps=25"]), ("r_25", ["-r", "25"])):
            theirs = [source.get(f.tobytes(), -1) for f in ffmpeg_frames(path, option, ours.shape[1:])]
            row[key] = len(theirs)
            row[f"{key}_differ"] = sum(a != b for a, b in zip(index, theirs))
        rows.append(row)
        print(f"{name:<40} {row['source_frames']:>6} {row['ours']:>5} {row['fps_filter']:>7} "
              f"{row['fps_filter_differ']:>6} {row['r_25']:>6} {row['r_25_differ']:>6}")
    args.out.write_text(json.dumps({"ffmpeg": version, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
