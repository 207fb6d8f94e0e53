"""How well whole-clip offset estimates recover known audio shifts, and what the model-free estimator reads on a store.

* ``--expert DIR``: every clip of ``--split`` is scored with its audio shifted by each of ``--shifts`` frames (positive:
  the sound comes early) by the estimator ``unisync sync-correct --expert`` uses; counts how often the estimate is
  within one frame of the shift, absolutely and relative to the clip's own unshifted estimate.
* ``--mouth-energy``: the histogram of the model-free estimator's offsets (``unisync sync-correct --mouth-energy``)
  over the first ``--clips`` clips of the store (all splits).

    python benchmarks/bench_offsets.py --data STORE --split test --expert DIR [--json out.json]
    python benchmarks/bench_offsets.py --data STORE --mouth-energy --clips 60
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from unisync_loss import UniSyncExpert  # noqa: E402
from unisync_loss.data import ClipStore  # noqa: E402
from unisync_loss.metrics.sync_correction import mouth_energy_estimator, unisync_estimator  # noqa: E402

SAMPLES_PER_FRAME = 640  # 16 kHz / 25 fps


def shifted(clip, frames: int):
    """The clip with its audio moved by ``frames`` video frames (positive: earlier), zero-padded."""
    audio = np.asarray(clip.audio, dtype=np.float32)
    k = abs(frames) * SAMPLES_PER_FRAME
    pad = np.zeros(k, dtype=np.float32)
    moved = audio if frames == 0 else (np.concatenate([audio[k:], pad]) if frames > 0
                                       else np.concatenate([pad, audio[:len(audio) - k]]))
    return replace(clip, audio=moved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="clip store")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--expert", help="UniSync expert folder")
    which.add_argument("--mouth-energy", action="store_true", help="histogram of the model-free estimator")
    parser.add_argument("--split", help="with --expert: only this split (default: every clip)")
    parser.add_argument("--shifts", type=int, nargs="+", default=[-10, -5, -3, 0, 3, 5, 10])
    parser.add_argument("--clips", type=int, default=60, help="with --mouth-energy: clips read (default 60)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    store = ClipStore(args.data)
    if args.mouth_energy:
        estimate = mouth_energy_estimator()
        ids = store.clip_ids()[:args.clips]
        offsets = [estimate(store.load_clip(c, mmap=False))[0] for c in ids]
        result = {"clips": len(ids), "histogram": dict(sorted(Counter(offsets).items()))}
        print(f"mouth-energy offsets over {len(ids)} clips (frames: count): {result['histogram']}")
    else:
        estimate = unisync_estimator(UniSyncExpert.from_pretrained(args.expert).eval())
        rows, absolute, relative = [], 0, 0
        for clip_id in store.clip_ids(args.split):
            clip = store.load_clip(clip_id, mmap=False)
            zero = estimate(clip)[0]
            found = {s: estimate(shifted(clip, s))[0] for s in args.shifts}
            absolute += sum(abs(found[s] - s) <= 1 for s in args.shifts)
            relative += sum(abs(found[s] - zero - s) <= 1 for s in args.shifts)
            rows.append({"clip": clip_id, "unshifted": zero, "found": found})
            print(f"  {clip_id:<44} own zero {zero:+d}  " + " ".join(f"{s:+d}->{found[s]:+d}" for s in args.shifts))
        n = len(rows) * len(args.shifts)
        result = {"cases": n, "within_1_absolute": absolute, "within_1_relative": relative, "clips": rows}
        print(f"within 1 frame of the shift: {absolute}/{n} absolutely, {relative}/{n} relative to each clip's own zero")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
