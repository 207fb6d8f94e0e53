"""``unisync synth``: generate the synthetic talking-face corpus (or its README figure)."""

from __future__ import annotations

#: The default corpus (also what the main job and tests can afford): generates in well under a minute on one core.
DEFAULT_SPEAKERS, DEFAULT_CLIPS = 200, 2

HELP = "Generate the synthetic talking-face corpus (eSpeak NG speech, 4 visual representations) into a clip store."


def add_arguments(parser) -> None:
    from ..synth.settings import SynthSettings

    d = SynthSettings()
    parser.add_argument("--out", help="output folder (a new or an unfinished corpus with the same settings)")
    parser.add_argument("--speakers", type=int, default=DEFAULT_SPEAKERS,
                        help=f"number of speakers (default {DEFAULT_SPEAKERS})")
    parser.add_argument("--clips", type=int, default=DEFAULT_CLIPS,
                        help=f"clips per speaker (default {DEFAULT_CLIPS})")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--language", default=d.language, choices=["en", "zh"], help="spoken language (default en)")
    parser.add_argument("--size", type=int, default=d.size, help=f"crop size in pixels (default {d.size})")
    parser.add_argument("--min-seconds", type=float, default=d.min_seconds,
                        help=f"shortest clip in seconds (default {d.min_seconds})")
    parser.add_argument("--max-seconds", type=float, default=d.max_seconds,
                        help=f"longest clip in seconds (default {d.max_seconds})")
    parser.add_argument("--snr-db", type=float, default=d.snr_db,
                        help=f"background noise level in dB SNR (default {d.snr_db}; see --clean)")
    parser.add_argument("--clean", action="store_true", help="no background noise")
    knobs = {"head_motion": "head rotation/translation and speech-unrelated face motion",
             "articulation_variability": "spread of articulation between speakers and phonemes",
             "lighting": "directional light, tint, flicker and sensor noise"}
    for knob, what in knobs.items():
        parser.add_argument(f"--{knob.replace('_', '-')}", type=float, default=getattr(d, knob),
                            help=f"{what}: 0 = off, 1 = default, up to 5 (default {getattr(d, knob)})")
    parser.add_argument("--no-mp4", action="store_true", help="skip writing videos/<id>.mp4")
    parser.add_argument("--workers", type=int, default=1, help="processes generating clips in parallel (default 1)")
    parser.add_argument("--figure", help="instead of a corpus, write the README figure (PNG) to this path "
                        "(three speakers of --seed at the default settings)")


def run(args) -> int:
    from ..synth.settings import SynthSettings

    settings = SynthSettings(language=args.language, size=args.size, min_seconds=args.min_seconds,
                             max_seconds=args.max_seconds, snr_db=None if args.clean else args.snr_db,
                             head_motion=args.head_motion, articulation_variability=args.articulation_variability,
                             lighting=args.lighting)
    if args.figure:
        from ..synth.figure import save_figure

        print(f"wrote {save_figure(args.figure, seed=args.seed)}")
        return 0
    if not args.out:
        raise ValueError("--out: expected an output folder (or --figure PATH)")
    from ..synth.corpus import generate_corpus

    store = generate_corpus(args.out, args.speakers, args.clips, args.seed, settings, mp4=not args.no_mp4,
                            workers=args.workers)
    counts = {split: len(store.clip_ids(split)) for split in ("train", "val", "test")}
    speakers = {split: len(store.speakers(split)) for split in ("train", "val", "test")}
    print(f"{store.root}: {len(store)} clips; clips per split {counts}; speakers per split {speakers}")
    return 0
