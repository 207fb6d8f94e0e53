"""``unisync sync-correct``: estimate each clip's audio-visual offset in a clip store, then keep, shift or drop it.

    unisync sync-correct STORE --syncnet syncnet_v2.model
    unisync sync-correct STORE --expert experts/mel-rgb --min-confidence 0.05 --max-offset 1
    unisync sync-correct STORE --expert experts/mel-landmarks --dry-run   # offsets only, the store is not changed
    unisync sync-correct STORE --mouth-energy --min-confidence 0.3          # no model needed (landmarks + audio)
"""

from __future__ import annotations

HELP = "Sync-correct a clip store: shift clips off by more than --max-offset frames, drop unconfident ones."


def add_arguments(parser) -> None:
    parser.add_argument("store", metavar="STORE", help="clip store folder")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--syncnet", help="SyncNet weights (syncnet_v2.model); the clips' frames are its face crops")
    which.add_argument("--expert", help="UniSync expert checkpoint folder")
    which.add_argument("--mouth-energy", action="store_true",
                       help="no model: lag of best correlation of mouth opening (68-point landmarks) and audio energy")
    parser.add_argument("--min-confidence", type=float,
                        help="drop clips below this confidence (default: 3.0 LSE-C for SyncNet, 0.05 for UniSync, 0.3 peak correlation for --mouth-energy)")
    parser.add_argument("--max-offset", type=int, default=1, help="keep clips within +/- this many frames (1)")
    parser.add_argument("--min-frames", type=int, default=25, help="drop clips that a shift leaves shorter (25)")
    parser.add_argument("--mode", choices=("default", "reference"), default="default", help="SyncNet mode")
    parser.add_argument("--keep-unconfident", action="store_true",
                        help="keep clips below --min-confidence as they are instead of dropping them")
    parser.add_argument("--force", action="store_true", help="re-estimate clips that already carry a decision")
    parser.add_argument("--dry-run", action="store_true",
                        help="estimate and report only: no clip is shifted or moved (STORE/sync_estimate.json)")
    parser.add_argument("--device", default="cpu")


def run(args) -> int:
    from pathlib import Path

    from ..data.clip_store import ClipStore
    from ..expert import UniSyncExpert
    from ..metrics.sync_correction import (DEFAULT_MIN_CONFIDENCE, ESTIMATE_NAME, REPORT_NAME, correct_store,
                                           mouth_energy_estimator, syncnet_estimator, unisync_estimator)
    from ..metrics.syncnet import load_syncnet

    store = ClipStore(args.store)
    if args.syncnet:
        estimator, kind = syncnet_estimator(load_syncnet(args.syncnet, args.device), args.mode), "syncnet"
        scorer = f"syncnet:{Path(args.syncnet).name}"
    elif args.mouth_energy:
        estimator, kind, scorer = mouth_energy_estimator(), "mouth_energy", "mouth-energy"
    else:
        expert = UniSyncExpert.from_pretrained(args.expert).to(args.device).eval()
        estimator, kind = unisync_estimator(expert), "unisync"
        scorer = f"unisync:{expert.pair}:{Path(args.expert).name}"
    threshold = DEFAULT_MIN_CONFIDENCE[kind] if args.min_confidence is None else args.min_confidence
    decisions = correct_store(store, estimator, scorer, threshold, args.max_offset, args.min_frames, args.force,
                              apply=not args.dry_run, keep_unconfident=args.keep_unconfident)
    print(decision_table(decisions))
    counts = {a: sum(d.action == a for d in decisions) for a in ("kept", "shifted", "dropped")}
    verb = "would be" if args.dry_run else "were"
    print(f"{len(decisions)} clip(s) examined: " + ", ".join(f"{n} {verb} {a}" for a, n in counts.items()))
    if args.dry_run:
        print(f"dry run: nothing changed; decisions in {store.root / ESTIMATE_NAME}")
    else:
        print(f"decisions recorded in {store.root / REPORT_NAME} and each clip's meta.json")
    return 0


def decision_table(decisions) -> str:
    """One line per clip: offset (frames, + = sound early), confidence, action and reason."""
    lines = [f"  {'clip':<44} {'offset':>6} {'confidence':>10}  action    reason"]
    for d in decisions:
        offset = "-" if d.offset is None else f"{d.offset:+d}"
        confidence = "-" if d.confidence is None else f"{d.confidence:.4f}"
        lines.append(f"  {d.clip_id:<44} {offset:>6} {confidence:>10}  {d.action:<8}  {d.reason}")
    return "\n".join(lines)
