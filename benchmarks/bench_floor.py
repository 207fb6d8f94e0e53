"""The floor a learnt expert must beat, and how many pixels the sync signal moves.

A hand-made score needs no training (:mod:`unisync_loss.metrics.mouth_energy`): the correlation, over a 0.2 s window,
between the mouth opening (inner-lip mid points 62 and 66 of the 68 iBUG landmarks) and the audio energy (mean log-mel
per video frame). It is scored on the same protocol-A pairs the experts are evaluated on (the store's test split), and the mouth opening is
reported in pixels of the 96-pixel face crop and of the two RGB crop sizes in use (48 x 96 and 24 x 48 lower half).

    python benchmarks/bench_floor.py --data STORE [--split test] [--pairs 2048] [--json floor.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from train_expert.metrics import equal_error_rate, roc_auc  # noqa: E402
from train_expert.sampling import SyncPairDataset  # noqa: E402
from train_expert.windows import WindowSource  # noqa: E402
from unisync_loss import SampleKind, create_representation  # noqa: E402
from unisync_loss.audio.features import precompute_features  # noqa: E402
from unisync_loss.data import ClipStore  # noqa: E402
from unisync_loss.metrics.mouth_energy import mouth_opening, window_score  # noqa: E402

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="clip store with 68-point landmarks")
    parser.add_argument("--split", default="test")
    parser.add_argument("--pairs", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crop", type=int, default=96, help="side of the face crop the landmarks are in (pixels)")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)
    store = ClipStore(args.data)
    mel = create_representation("mel")
    landmarks = create_representation({"name": "landmarks", "num_points": 68, "dims": 2}, "visual")
    precompute_features(store, mel, store.clip_ids(args.split), progress=False)
    source = WindowSource(store, mel, landmarks, args.split, min_starts=3)
    pairs = SyncPairDataset(source, args.pairs, seed=args.seed, cross_share=0.2 if len(source.speakers) > 1 else 0.0)
    openings = np.concatenate([mouth_opening(np.asarray(store.load_array(c.clip_id, "landmarks"), dtype=np.float32))
                               for c in source.clips])
    scores, labels = [], []
    for index in range(len(pairs)):
        item = pairs[index]
        scores.append(window_score(item["visual"].numpy(), item["audio"].numpy()))
        labels.append(int(item["kind"]) == SampleKind.POSITIVE)
    scores, labels = np.array(scores), np.array(labels)
    p10, p50, p90 = np.percentile(openings, [10, 50, 90])
    result = {
        "store": str(args.data), "split": args.split, "pairs": len(pairs), "negatives": pairs.describe(),
        "handmade_auc": roc_auc(scores, labels), "handmade_eer": equal_error_rate(scores, labels),
        "handmade_accuracy": float(((scores > 0.5) == labels).mean()),
        "mouth_opening_px": {f"crop {args.crop}": [float(p10), float(p50), float(p90)],
                             "rgb 48x96": [float(v * 96 / args.crop) for v in (p10, p50, p90)],
                             "rgb 24x48": [float(v * 48 / args.crop) for v in (p10, p50, p90)]},
        "frame_to_frame_change_px_96": float(np.abs(np.diff(openings)).mean() * 96 / args.crop),
    }
    print(f"hand-made score (mouth opening vs energy) on {len(pairs)} {args.split} pairs: AUC "
          f"{result['handmade_auc']:.3f}, EER {result['handmade_eer']:.3f}, accuracy@0.5 {result['handmade_accuracy']:.3f}")
    print("| crop | mouth opening p10 / p50 / p90 (px) |\n|---|---|")
    for name, values in result["mouth_opening_px"].items():
        print(f"| {name} | {' / '.join(f'{v:.2f}' for v in values)} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
