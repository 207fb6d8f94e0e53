"""``unisync preprocess``: real videos (a folder, a list file, or a folder with a manifest) -> a clip store ready for
training, with a report of where every video's frames went."""

from __future__ import annotations

HELP = "Preprocess real videos into a clip store: 25 fps, 16 kHz audio, face tracks, crops, landmarks."


def add_arguments(parser) -> None:
    parser.add_argument("input", metavar="INPUT_DIR_OR_LIST",
                        help="folder searched recursively for videos, or a text file with one 'path [split]' a line")
    parser.add_argument("--manifest", metavar="CSV",
                        help="CSV with columns file (relative to INPUT_DIR) and speaker (optional: duration_s, "
                             "split): only its videos, its speakers, and a speaker-disjoint split balanced by seconds")
    parser.add_argument("--out", required=True, metavar="STORE", help="clip store folder (created, or resumed)")
    parser.add_argument("--crop", default="wav2lip", choices=("wav2lip", "syncnet", "aligned"),
                        help="crop style (default wav2lip: 96x96 with bottom padding)")
    parser.add_argument("--size", type=int, default=None, help="crop side in pixels (default 96, 224, 96 per style)")
    parser.add_argument("--detector", default="mesh", choices=("mesh", "blazeface"),
                        help="MediaPipe face mesh (with landmarks, default) or BlazeFace boxes only")
    parser.add_argument("--landmarks", default="ibug68", choices=("ibug68", "mesh468", "all", "none"),
                        help="landmarks stored per frame in crop pixels (default ibug68: 68 x 2; all: also the "
                             "468 x 3 mesh and the 20 x 2 mouth points)")
    parser.add_argument("--min-frames", type=int, default=25, help="shortest clip in frames at 25 fps (default 25)")
    parser.add_argument("--max-clip-frames", type=int, default=750,
                        help="split longer tracks (default 750 = 30 s; at least twice --min-frames)")
    parser.add_argument("--max-missing", type=int, default=5, help="lost-face frames bridged by interpolation (5)")
    parser.add_argument("--min-detected", type=float, default=0.95,
                        help="minimum fraction of a track's frames with a real detection (0.95)")
    parser.add_argument("--several-faces", default="skip", choices=("skip", "largest"),
                        help="videos with overlapping face tracks: skip them (default) or keep the largest face")
    parser.add_argument("--val-fraction", type=float, default=0.05,
                        help="share of speakers put in 'val' (0.05; with --manifest: share of the seconds)")
    parser.add_argument("--test-fraction", type=float, default=0.0,
                        help="share of speakers put in 'test' (0; with --manifest: share of the seconds)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the --manifest split (0)")
    parser.add_argument("--split", default=None, choices=("train", "val", "test"), help="put every clip in this split")
    parser.add_argument("--parsing-weights", default=None, metavar="PTH",
                        help="BiSeNet face-parsing weights (facexlib parsing_bisenet.pth or face-parsing.PyTorch "
                             "79999_iter.pth): also store parsing maps of the crops")
    parser.add_argument("--parsing-size", type=int, default=512, help="BiSeNet input side (default 512)")
    parser.add_argument("--device", default="cpu", help="torch device of the parsing network (default cpu)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    parser.add_argument("--preview", action="store_true",
                        help="also write STORE/preview.png: crops of a few clips with their landmarks")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no per-video table")


def run(args) -> int:
    import json
    import logging
    from pathlib import Path

    from ..video.pipeline import PreprocessConfig
    from ..video.run import preprocess

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    config = PreprocessConfig(
        crop=args.crop, size=args.size, detector=args.detector, landmarks=args.landmarks, min_frames=args.min_frames,
        max_clip_frames=args.max_clip_frames, max_missing=args.max_missing, min_detected=args.min_detected,
        several_faces=args.several_faces, val_fraction=args.val_fraction, test_fraction=args.test_fraction,
        split_seed=args.split_seed, split=args.split,
        parsing_weights=args.parsing_weights, parsing_size=args.parsing_size, device=args.device,
    )
    summary = preprocess(args.input, args.out, config, workers=args.workers, progress=not args.quiet,
                         manifest=args.manifest)
    if not args.quiet:
        from ..video.report import REPORT_NAME, format_report

        print(format_report(json.loads((Path(args.out) / REPORT_NAME).read_text())))
    print(f"videos {summary['videos']}  done {summary['done']}  skipped {summary['skipped']}  "
          f"clips {summary['clips']}  (resumed from log: {summary['resumed_from_log']})")
    for kind, count in summary["skip_reasons"].items():
        print(f"  skipped, {kind}: {count}")
    if args.preview and summary["clips"]:
        from ..video.preview import save_preview

        print(f"preview: {save_preview(args.out, Path(args.out) / 'preview.png')}")
    if summary["source_seconds_per_busy_second"]:
        print(f"throughput: {summary['source_seconds_per_busy_second']:.2f} source s per busy s "
              f"({summary['workers']} worker(s)); log and summary in {args.out}")
    return 0
