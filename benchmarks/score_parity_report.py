"""How close each scoring path comes to syncnet_python on the real parity clips: prints a table, writes JSON.

    python benchmarks/score_parity_report.py [--out parity_report.json]

Paths: reference mode with the ffmpeg executable's JPEG encoder, reference mode with PyAV's libraries, and default
mode (decoded frames, no JPEG round trip). Numbers: the largest relative difference to the fixture of LSE-D, LSE-C
and the 31-value curve (tests/fixtures/score/real_reference.json, made by the unmodified reference).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from unisync_loss.metrics import lse, random_syncnet_state  # noqa: E402
from unisync_loss.metrics.reference_input import reference_input  # noqa: E402
from unisync_loss.metrics.syncnet import SyncNet  # noqa: E402
from unisync_loss.video import iter_frames, read_audio  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "score"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path("parity_report.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("real_parity_clips", FIXTURES / "real_parity_clips.py")
    clips = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clips)
    reference = json.loads((FIXTURES / "real_reference.json").read_text())
    paths = ["ffmpeg", "pyav", "default"] if shutil.which("ffmpeg") else ["pyav", "default"]
    rows = []
    print(f"{'clip':<14} {'path':<8} {'offset':>6} {'LSE-D rel':>10} {'LSE-C rel':>10} {'curve rel':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, expected in reference["clips"].items():
            clip = clips.build(name, args.data, Path(tmp))
            net = SyncNet()
            net.load_state_dict(random_syncnet_state(expected["weights_seed"], expected["shared_bias"]), strict=False)
            net.eval()
            for path in paths:
                if path == "default":
                    result = lse(np.stack(list(iter_frames(clip))), read_audio(clip), net)
                else:
                    inputs = reference_input(clip, path)
                    result = lse(inputs.frames, inputs.audio, net, mode="reference", round_tripped=True)
                curve = np.array(expected["curve_reference_order"][::-1])
                row = {"clip": name, "path": path, "offset": result.offset, "reference_offset": expected["offset"],
                       "lse_d_rel": abs(result.lse_d / expected["lse_d"] - 1),
                       "lse_c_rel": abs(result.lse_c / expected["lse_c"] - 1),
                       "curve_rel": float(np.max(np.abs(np.array(result.distances) / curve - 1)))}
                rows.append(row)
                print(f"{name:<14} {path:<8} {result.offset:>+3}/{expected['offset']:>+3} {row['lse_d_rel']:>10.2e} "
                      f"{row['lse_c_rel']:>10.2e} {row['curve_rel']:>10.2e}", flush=True)
    args.out.write_text(json.dumps({"ffmpeg_of_fixtures": reference["ffmpeg"], "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
