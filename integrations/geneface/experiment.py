"""The GeneFace experiment, self-contained: does a sync loss make predicted motion more in sync with the audio, and
at what cost in mouth motion?

1. Corpus: the project's synthetic speech corpus (``--corpus synth``, default: eSpeak speech, head motion, 64
   expression coefficients of which 58 are speech-unrelated), the small vowel corpus of this package
   (``--corpus vowel``) or any clip store of one of them (``--store``); split by speaker into train / val / test.
2. The motion model predicts the 64 expression coefficients (as GeneFace++). Landmark experts see them through the
   corpus' linear face model (:mod:`.face_projection`): the 20 mouth points x 3, what GeneFace's SyncNet sees.
3. Per seed, on the train speakers, with the project's one sampler and trainer (:mod:`.experts`): GeneFace's SyncNet
   (BCE), a UniSync audio + mouth-landmarks expert and a UniSync audio + 3DMM expert (recipe ``--recipe``).
4. Judge, trained once, which no run trains against: a UniSync expert on all 68 expression landmarks (another
   representation than any arm's), of another width and seed, trained only on the val speakers; and a second judge
   of the other family (GeneFace's SyncNet on the mouth, also on the val speakers, another seed).
5. Per seed, four audio-to-motion runs with the same budget: no sync loss and one per expert. By default the motion
   model is person-specific, as GeneFace's post-net and renderer are: it learns from the clips of one train speaker
   (``--motion-speakers``; the speaker drawn by the seed), and the sync term sees the audio of every train speaker
   (``--sync-audio train``), as GeneFace's post-net applies its sync loss to LRS3 audio of other people.
6. On the test speakers, per clip: the judge's sync loss, p(sync), distance / confidence / offset (as LSE-D / LSE-C
   for videos), the second judge's sync loss, mouth-landmark error (also centred per clip: the mouth's motion only)
   and reconstruction MSE; rows for the ground truth and for the ground truth shifted by ``--shift`` frames (a
   control). Printed as a table of means with 95 % bootstrap intervals over test clips and the spread over seeds,
   with checks that both judges separate the ground truth from the no-sync-loss output, that the first separates it
   from the shifted control, and comparisons of each UniSync arm with GeneFace's SyncNet by both judges; saved as
   JSON, Markdown and a plot of the judge's score against offset.

    python -m integrations.geneface.experiment --out runs/geneface [--seeds 0 1 2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from unisync_loss.data.clip_store import ClipStore
from unisync_loss.representations.base import VIDEO_FPS

from .evaluation import clip_sync_metrics, mouth_error, offset_profile, shifted_pair
from .experts import expert_config, pair_accuracy, train_geneface_syncnet, train_unisync_expert, write_expert_store
from .face_projection import FaceProjection, expression_basis
from .features import AudioFeatureSpec
from .motion_data import MotionClip, load_motion_clips, motion_statistics
from .report import format_checks, format_experts, format_table, plot_offsets, separation, summarise
from .sync_criteria import GeneFaceSyncLoss, ProjectedSyncLoss, unisync_criterion
from .trainer import MotionTrainConfig, predict, standardised_losses, train_motion_model
from .vowel_corpus import build_vowel_corpus

#: Motion-model arms: key -> what the row is called (``{audio}`` = mel or HuBERT).
ARMS = {"none": "Motion model, no sync loss", "geneface": "+ GeneFace SyncNet loss (mouth landmarks)",
        "unisync_landmarks": "+ UniSync loss, {audio} + mouth landmarks", "unisync_3dmm": "+ UniSync loss, {audio} + 3DMM"}
#: Landmark layouts: the mouth-landmark expert's (GeneFace's SyncNet sees the same points, flattened) and the judge's.
MOUTH_POINTS = {"num_points": 20, "dims": 3}
JUDGE_POINTS = {"num_points": 68, "dims": 3}
#: Quick (smoke) run: corpus, steps.
QUICK = dict(speakers=10, clips=4, expert_steps=8, judge_steps=60, motion_steps=6, motion_val_every=6, val_pairs=128,
             test_pairs=256)


def row_names(spec: AudioFeatureSpec, shift: int) -> dict[str, str]:
    audio = "HuBERT" if spec.kind == "hubert" else "mel"
    return {"ground_truth": "Ground-truth motion", "shifted": f"Ground truth, shifted {shift} frames (control)",
            **{key: name.format(audio=audio) for key, name in ARMS.items()}}


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/geneface"), help="output folder")
    parser.add_argument("--store", type=Path, help="clip store of a built-in corpus (default: generate one in OUT)")
    parser.add_argument("--corpus", choices=("synth", "vowel"), default="synth", help="built-in corpus to generate")
    parser.add_argument("--speakers", type=int, default=40, help="synth corpus: speakers (split 8/1/1 by index)")
    parser.add_argument("--clips", type=int, default=8, help="synth corpus: clips per speaker")
    parser.add_argument("--corpus-seed", type=int, default=0, help="seed of the generated corpus")
    parser.add_argument("--hubert-model", help="local HubertModel folder (default: 50/s log-mel features)")
    parser.add_argument("--hubert-dim", type=int, default=1024)
    parser.add_argument("--recipe", choices=("unisync", "paper", "wav2lip"), default="unisync",
                        help="train_expert recipe of the UniSync experts and the judge (see docs/training.md)")
    parser.add_argument("--expert-steps", type=int, default=400, help="steps of each arm's expert")
    parser.add_argument("--judge-steps", type=int, default=400)
    parser.add_argument("--expert-batch", type=int, default=32, help="pairs (or windows) per expert training step")
    parser.add_argument("--expert-channels", type=int, default=16,
                        help="UniSync expert width (see the README for the cost and accuracy per width)")
    parser.add_argument("--expert-embed", type=int, default=64, help="UniSync expert embedding size")
    parser.add_argument("--val-pairs", type=int, default=512, help="validation pairs of each expert's training")
    parser.add_argument("--test-pairs", type=int, default=1024, help="test pairs of each expert's pair accuracy")
    parser.add_argument("--motion-steps", type=int, default=300)
    parser.add_argument("--motion-val-every", type=int, default=0,
                        help="validate the motion model every N steps (0: a quarter of the steps)")
    parser.add_argument("--motion-speakers", type=int, default=1,
                        help="train speakers whose motion the motion model learns from (drawn per seed; 0: all)")
    parser.add_argument("--sync-audio", choices=("train", "motion"), default="train",
                        help="audio of the sync term: every train speaker's (no motion needed) or only the motion "
                             "model's own training crops")
    parser.add_argument("--sync-weight", type=float, default=0.1)
    parser.add_argument("--sync-schedule", choices=("geneface", "always"), default="always")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds of the arms' experts and motion runs (the corpus and judge stay fixed)")
    parser.add_argument("--judge-seed", type=int, default=1000)
    parser.add_argument("--shift", type=int, default=4, help="frames of the shifted ground-truth control row")
    parser.add_argument("--max-offset", type=int, default=6, help="judge offsets -N..N video frames")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest on a shared, loaded CPU)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: " + ", ".join(f"{k} {v}" for k, v in QUICK.items()))
    return parser


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    if args.motion_speakers < 0:
        raise ValueError(f"motion_speakers: expected >= 0 (0: all train speakers), got {args.motion_speakers}")
    start = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    if not 0 < args.shift <= args.max_offset:
        raise ValueError(f"shift: expected 1..max_offset ({args.max_offset}) frames, got {args.shift}")
    spec = AudioFeatureSpec("hubert", args.hubert_model, args.hubert_dim) if args.hubert_model else AudioFeatureSpec()
    store = open_corpus(args)
    basis = expression_basis(store)
    if basis is None:
        raise ValueError(f"store {store.root}: expected a corpus whose face model is known (the synthetic or vowel "
                         f"corpus), got generator {store.header.get('info', {}).get('generator')!r}")
    clips = {split: load_motion_clips(store, split, spec, "3dmm") for split in ("train", "val", "test")}
    expert_store = write_expert_store(args.out / "expert-store", store, clips, spec, basis)
    face, mouth = FaceProjection(basis), FaceProjection(basis, mouth_only=True)
    std = motion_statistics(clips["train"])[1]
    names = row_names(spec, args.shift)
    timings = {"data": time.time() - start}

    tick = time.time()
    common = dict(spec=spec, motion_shape=(64,), recipe=args.recipe, batch_size=args.expert_batch,
                  data=expert_store.root, val_pairs=args.val_pairs)
    judge_cfg = expert_config(out=args.out / "experts" / "judge", steps=args.judge_steps, seed=args.judge_seed,
                              channels=24, embed_dim=48, train_split="val", val_split="train",
                              visual="landmarks", visual_options=JUDGE_POINTS,
                              **common)
    judge = train_unisync_expert(judge_cfg)
    judge_score = ProjectedSyncLoss(unisync_criterion(judge, reduction="none"), face).sync_probability
    # a second judge of the other family (GeneFace's SyncNet on the mouth), same speakers, another seed: an arm's
    # expert may please a judge of its own architecture; two judges that agree make the comparison of arms fairer
    syncnet_judge_cfg = expert_config(out=args.out / "experts" / "judge-syncnet", steps=args.judge_steps,
                                      seed=args.judge_seed + 1, train_split="val", val_split="train",
                                      visual="landmarks", visual_options=MOUTH_POINTS, **common)
    syncnet_judge = train_geneface_syncnet(syncnet_judge_cfg, (68, 3))
    syncnet_judge_loss = ProjectedSyncLoss(GeneFaceSyncLoss(syncnet_judge, "landmarks"), face)
    experts = {"judge": [pair_accuracy(judge, judge_cfg, (68, 3), pairs=args.test_pairs)],
               "judge_syncnet": [pair_accuracy(syncnet_judge, syncnet_judge_cfg, (68, 3), pairs=args.test_pairs)]}
    timings["judge"] = time.time() - tick

    def judged(features: torch.Tensor, motion: torch.Tensor, target: torch.Tensor) -> tuple[dict, dict]:
        profile = offset_profile(judge_score, features, motion, args.max_offset)
        shown, real = face(motion), face(target)
        metrics = {**{k: float(v) for k, v in clip_sync_metrics(profile).items()},
                   "mouth_error": mouth_error(shown, real),
                   "mouth_motion_error": mouth_error(shown, real, centred=True),
                   "syncnet_judge_loss": float(syncnet_judge_loss(features[None], motion[None])),
                   "mse": float(standardised_losses(motion[None], target[None], std)[0])}
        return metrics, profile

    per_clip = {key: [] for key in names}  # key -> per seed -> per clip metrics
    profiles = {key: [] for key in names}
    reference = {"ground_truth": [], "shifted": []}
    for clip in clips["test"]:
        features, motion = torch.from_numpy(clip.features), torch.from_numpy(clip.motion)
        for key, (feats, shown, target) in (("ground_truth", (features, motion, motion)),
                                            ("shifted", (*shifted_pair(features, motion, args.shift),
                                                         motion[:len(motion) - args.shift]))):
            metrics, profile = judged(feats, shown, target)
            reference[key].append(metrics)
            profiles[key].append(profile)
    for key, values in reference.items():
        per_clip[key].append(values)

    motion_speakers = {}
    for seed in args.seeds:
        tick = time.time()
        motion_clips = person_clips(clips["train"], args.motion_speakers, seed)
        motion_speakers[seed] = sorted({clip.speaker for clip in motion_clips})
        sync_clips = clips["train"] if args.sync_audio == "train" else None
        criteria, accuracy = arm_experts(args, common, seed, face, mouth)
        for name, result in accuracy.items():
            experts.setdefault(name, []).append(result)
        timings[f"experts_seed{seed}"] = time.time() - tick
        for arm in ARMS:
            tick = time.time()
            config = MotionTrainConfig(steps=args.motion_steps, seed=seed, sync_weight=args.sync_weight,
                                       sync_schedule="off" if arm == "none" else args.sync_schedule,
                                       val_every=args.motion_val_every or max(1, args.motion_steps // 4))
            result = train_motion_model(motion_clips, clips["val"], config, criteria.get(arm),
                                        desc=f"motion ({arm}, seed {seed})", sync_clips=sync_clips)
            seed_clips = []
            for clip in clips["test"]:
                metrics, profile = judged(torch.from_numpy(clip.features), predict(result.model, clip),
                                          torch.from_numpy(clip.motion))
                seed_clips.append(metrics)
                profiles[arm].append(profile)
            per_clip[arm].append(seed_clips)
            timings[f"motion_{arm}_seed{seed}"] = time.time() - tick

    metrics = list(per_clip["ground_truth"][0][0])
    rows = {key: {m: summarise(per_clip[key], m) for m in metrics} for key in names}
    checks = {"ground_truth_vs_none": separation(per_clip["ground_truth"], per_clip["none"]),
              "ground_truth_vs_none@syncnet_judge_loss": separation(per_clip["ground_truth"], per_clip["none"],
                                                                    "syncnet_judge_loss"),
              "ground_truth_vs_shifted": separation(per_clip["ground_truth"], per_clip["shifted"])}
    for arm in ("unisync_landmarks", "unisync_3dmm"):  # UniSync against GeneFace's SyncNet, by both judges
        for metric in ("sync_loss", "syncnet_judge_loss"):
            checks[f"{arm}_vs_geneface@{metric}"] = separation(per_clip[arm], per_clip["geneface"], metric)
    runtime = round(time.time() - start, 1)
    summary = {
        "rows": rows, "names": names, "checks": checks, "experts": experts, "per_clip": per_clip,
        "runtime_s": runtime, "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "func"},
        "features": asdict(spec), "corpus": str(store.root), "test_speakers": store.speakers("test"),
        "test_clips": [clip.id for clip in clips["test"]], "seeds": list(args.seeds),
        "motion_speakers": {str(seed): speakers for seed, speakers in motion_speakers.items()},
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))
    report = "\n\n".join([
        format_table(rows, names),
        f"Mean over {len(clips['test'])} test clips ({len(store.speakers('test'))} test speakers) and "
        f"{len(args.seeds)} seed(s) {list(args.seeds)}; [95% bootstrap interval over test clips] ±sd over seeds.",
        "Motion models learnt from " + "; ".join(
            f"seed {seed}: {describe_speakers(speakers, clips['train'])}" for seed, speakers in motion_speakers.items())
        + "; sync term on the audio of "
        + ("every train speaker." if args.sync_audio == "train" else "the motion model's own training crops."),
        format_checks(checks, names), format_experts(experts), f"Runtime {runtime:.0f} s."])
    (args.out / "table.md").write_text(report + "\n")
    plot_offsets(profiles, names, args.out / "offsets.png")
    print(report)
    return summary


def arm_experts(args: argparse.Namespace, common: dict, seed: int, face: FaceProjection,
                mouth: FaceProjection) -> tuple[dict, dict]:
    """One seed's experts on the train speakers, as sync losses on predicted coefficients, and their pair accuracy on
    the test speakers."""
    experts_dir = args.out / "experts" / f"seed{seed}"
    widths = dict(channels=args.expert_channels, embed_dim=args.expert_embed)
    landmarks_cfg = expert_config(out=experts_dir / "unisync-landmarks", steps=args.expert_steps, seed=seed,
                                  visual="landmarks", visual_options=MOUTH_POINTS,
                                  **widths, **common)
    coeffs_cfg = expert_config(out=experts_dir / "unisync-3dmm", steps=args.expert_steps, seed=seed, **widths,
                               **common)
    on_landmarks = train_unisync_expert(landmarks_cfg)
    on_coeffs = train_unisync_expert(coeffs_cfg)
    syncnet = train_geneface_syncnet(landmarks_cfg, (68, 3))
    criteria = {"geneface": ProjectedSyncLoss(GeneFaceSyncLoss(syncnet, "landmarks"), face),
                "unisync_landmarks": ProjectedSyncLoss(unisync_criterion(on_landmarks), mouth),
                "unisync_3dmm": unisync_criterion(on_coeffs)}
    pairs = args.test_pairs
    accuracy = {"geneface": pair_accuracy(syncnet, landmarks_cfg, (68, 3), pairs=pairs),
                "unisync_landmarks": pair_accuracy(on_landmarks, landmarks_cfg, (68, 3), pairs=pairs),
                "unisync_3dmm": pair_accuracy(on_coeffs, coeffs_cfg, (64,), pairs=pairs)}
    return criteria, accuracy


def person_clips(train_clips: list[MotionClip], speakers: int, seed: int) -> list[MotionClip]:
    """The clips of ``speakers`` train speakers drawn with ``seed`` (all clips when ``speakers`` is 0 or is at least
    the number of train speakers)."""
    names = sorted({clip.speaker for clip in train_clips})
    if speakers == 0 or speakers >= len(names):
        return list(train_clips)
    chosen = set(np.random.default_rng(seed).choice(names, size=speakers, replace=False).tolist())
    return [clip for clip in train_clips if clip.speaker in chosen]


def describe_speakers(speakers: list[str], train_clips: list[MotionClip]) -> str:
    """"all N train speakers", or the speakers' names with their seconds of speech, for the report."""
    total = len({clip.speaker for clip in train_clips})
    if len(speakers) == total:
        return f"all {total} train speakers"
    seconds = sum(clip.num_frames for clip in train_clips if clip.speaker in speakers) / VIDEO_FPS
    return f"{', '.join(speakers)} ({seconds:.0f} s)"


def open_corpus(args: argparse.Namespace) -> ClipStore:
    """``--store``, else the built-in corpus (``args.speakers`` x ``args.clips`` for synth; with ``--quick`` clips of
    3-4 s), generated in OUT on the first run."""
    if args.store is not None:
        return ClipStore(args.store)
    if args.corpus == "vowel":
        if args.quick:
            return build_vowel_corpus(args.out / "vowel-quick", {"train": 4, "val": 2, "test": 2}, 3, 2.4,
                                      args.corpus_seed)
        return build_vowel_corpus(args.out / "vowel", seed=args.corpus_seed)
    from unisync_loss.synth.corpus import generate_corpus
    from unisync_loss.synth.settings import SynthSettings

    settings = SynthSettings(min_seconds=3.0, max_seconds=4.0) if args.quick else SynthSettings()
    name = f"synth-{args.speakers}x{args.clips}" + ("-short" if args.quick else "")
    return generate_corpus(args.out / name, speakers=args.speakers, clips=args.clips, seed=args.corpus_seed,
                           settings=settings, mp4=False)


def main(argv: list[str] | None = None) -> int:
    run(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
