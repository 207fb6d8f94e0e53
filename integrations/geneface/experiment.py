"""The GeneFace experiment, self-contained: does a UniSync loss make predicted motion more in sync with the audio?

1. Corpus: any clip store (``--store``) with a train/val/test split by speaker, else the small vowel corpus of this
   package (``--corpus vowel``, default; target: 68 3D landmarks as in GeneFace) or the project's synthetic corpus
   (``--corpus synth``: eSpeak speech, head motion, 64 expression coefficients of which 58 are speech-unrelated; target:
   the coefficients, as in GeneFace++).
2. Experts, on the train speakers, with the project's sampler (:mod:`.experts`): a UniSync expert trained by
   ``train_expert``'s Trainer (recipe ``--recipe``, default ``unisync``) and GeneFace's SyncNet (BCE) on pairs drawn
   with the same shares; same store, steps and batch size.
3. Judge, one neither run trains against: a UniSync expert of another width and seed, trained by the same Trainer
   only on the val speakers (its checkpoint chosen on the train speakers' pairs, never on the test speakers).
4. Three audio-to-motion runs with the same budget and seed: no sync loss, GeneFace's SyncNet loss, UniSync loss.
5. On the held-out test speakers: the judge's distance / confidence / offset / sync loss (as LSE-D / LSE-C are for
   videos) and the mouth-landmark error; printed as a table shaped like the paper's GeneFace rows, saved as JSON,
   Markdown and a plot of the judge's score against audio offset.

    python -m integrations.geneface.experiment --out runs/geneface [--quick]
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

from .evaluation import mouth_error, offset_profile, sync_metrics
from .experts import (expert_config, pair_accuracy, train_geneface_syncnet, train_unisync_expert,
                      write_expert_store)
from .features import AudioFeatureSpec
from .motion_data import load_motion_clips
from .sync_criteria import GeneFaceSyncLoss, unisync_criterion
from .trainer import MotionTrainConfig, predict, standardised_losses, train_motion_model
from .conventions import MOUTH
from .vowel_corpus import build_vowel_corpus
from .vowel_corpus import face_model as vowel_face_model

ARMS = (("none", "Motion model, no sync loss"), ("geneface", "+ GeneFace SyncNet loss"), ("unisync", "+ UniSync loss"))
COLUMNS = (("distance", "judge D ↓"), ("confidence", "judge C ↑"), ("sync_loss", "judge sync loss ↓"),
           ("abs_offset", "abs. offset ↓"), ("mouth_error", "mouth err ↓"), ("mse", "recon MSE ↓"))


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/geneface"), help="output folder")
    parser.add_argument("--store", type=Path, help="clip store to use (default: build the vowel corpus in OUT)")
    parser.add_argument("--corpus", choices=("vowel", "synth"), default="vowel", help="built-in corpus to use")
    parser.add_argument("--speakers", type=int, default=30, help="synth corpus: speakers (split 8/1/1 by index)")
    parser.add_argument("--clips", type=int, default=6, help="synth corpus: clips per speaker")
    parser.add_argument("--target", choices=("landmarks", "3dmm"),
                        help="3dmm: 64 expression coefficients (GeneFace++); landmarks: the store's 68 points "
                             "(GeneFace); default: landmarks for the vowel corpus, 3dmm otherwise")
    parser.add_argument("--hubert-model", help="local HubertModel folder (default: 50/s log-mel features)")
    parser.add_argument("--hubert-dim", type=int, default=1024)
    parser.add_argument("--recipe", choices=("unisync", "paper", "wav2lip"), default="unisync",
                        help="train_expert recipe of the UniSync expert and the judge (see docs/training.md)")
    parser.add_argument("--expert-steps", type=int, default=400, help="steps of the UniSync expert and the SyncNet")
    parser.add_argument("--judge-steps", type=int, default=400)
    parser.add_argument("--expert-batch", type=int, default=32, help="pairs (or windows) per expert training step")
    parser.add_argument("--expert-channels", type=int, default=16,
                        help="UniSync expert width (see the README for the cost and accuracy per width)")
    parser.add_argument("--expert-embed", type=int, default=64, help="UniSync expert embedding size")
    parser.add_argument("--motion-steps", type=int, default=300)
    parser.add_argument("--sync-weight", type=float, default=0.1)
    parser.add_argument("--sync-schedule", choices=("geneface", "always"), default="always")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest on a shared, loaded CPU)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny corpus and budgets")
    return parser


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    start = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.expert_steps, args.judge_steps, args.motion_steps = 30, 30, 20
    spec = AudioFeatureSpec("hubert", args.hubert_model, args.hubert_dim) if args.hubert_model else AudioFeatureSpec()
    store = open_corpus(args)
    if args.target is None:
        args.target = "landmarks" if args.corpus == "vowel" and args.store is None else "3dmm"
    basis = mouth_basis(store) if args.target == "3dmm" else None
    clips = {split: load_motion_clips(store, split, spec, args.target) for split in ("train", "val", "test")}

    shape = clips["train"][0].motion.shape[1:]
    expert_store = write_expert_store(args.out / "expert-store", store, clips, spec)
    timings = {"data": time.time() - start}
    tick = time.time()
    common = dict(spec=spec, motion_shape=shape, recipe=args.recipe, batch_size=args.expert_batch,
                  data=expert_store.root)
    expert_cfg = expert_config(out=args.out / "experts" / "unisync", steps=args.expert_steps, seed=args.seed,
                               channels=args.expert_channels, embed_dim=args.expert_embed, **common)
    judge_cfg = expert_config(out=args.out / "experts" / "judge", steps=args.judge_steps, seed=args.seed + 1000,
                              channels=24, embed_dim=48, train_split="val", val_split="train", **common)
    expert = train_unisync_expert(expert_cfg)
    syncnet = train_geneface_syncnet(expert_cfg, shape)
    judge = train_unisync_expert(judge_cfg)
    timings["experts"] = time.time() - tick
    judge_loss = unisync_criterion(judge, reduction="none")
    criteria = {"none": None, "geneface": GeneFaceSyncLoss(syncnet, args.target), "unisync": unisync_criterion(expert)}
    experts_info = {name: pair_accuracy(model, expert_cfg, shape)
                    for name, model in (("unisync", expert), ("geneface", syncnet), ("judge", judge))}

    rows, histories, profiles = {}, {}, {}
    gt_profiles = [offset_profile(judge_loss.sync_probability, torch.from_numpy(c.features), torch.from_numpy(c.motion))
                   for c in clips["test"]]
    rows["ground_truth"] = {**sync_metrics(gt_profiles), "mouth_error": 0.0, "mse": 0.0}
    profiles["ground_truth"] = gt_profiles
    for arm, _ in ARMS:
        tick = time.time()
        config = MotionTrainConfig(steps=args.motion_steps, seed=args.seed, sync_weight=args.sync_weight,
                                   sync_schedule="off" if arm == "none" else args.sync_schedule,
                                   val_every=max(1, args.motion_steps // 8))
        result = train_motion_model(clips["train"], clips["val"], config, criteria[arm], desc=f"motion ({arm})")
        histories[arm] = result.summary()
        arm_profiles, errors, mses = [], [], []
        for clip in clips["test"]:
            pred, target = predict(result.model, clip), torch.from_numpy(clip.motion)
            arm_profiles.append(offset_profile(judge_loss.sync_probability, torch.from_numpy(clip.features), pred))
            mses.append(float(standardised_losses(pred[None], target[None], result.model.std)[0]))
            if basis is not None:
                pred, target = coeffs_to_mouth(pred, basis), coeffs_to_mouth(target, basis)
            errors.append(mouth_error(pred, target) if basis is not None or args.target == "landmarks"
                          else float("nan"))
        rows[arm] = {**sync_metrics(arm_profiles), "mouth_error": float(np.mean(errors)), "mse": float(np.mean(mses))}
        profiles[arm] = arm_profiles
        timings[f"motion_{arm}"] = time.time() - tick

    summary = {
        "rows": rows, "experts": experts_info, "runtime_s": round(time.time() - start, 1),
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "func"},
        "features": asdict(spec), "corpus": str(store.root), "histories": histories,
        "test_speakers": store.speakers("test"), "num_test_clips": len(clips["test"]),
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))
    table = format_table(rows, experts_info, summary["runtime_s"])
    (args.out / "table.md").write_text(table + "\n")
    plot_offsets(profiles, args.out / "offsets.png")
    print(table)
    return summary


def open_corpus(args: argparse.Namespace) -> ClipStore:
    """``--store``, else the built-in corpus (small with ``--quick``), generated in OUT on the first run."""
    if args.store is not None:
        return ClipStore(args.store)
    if args.corpus == "vowel":
        if args.quick:
            return build_vowel_corpus(args.out / "vowel-quick", {"train": 4, "val": 2, "test": 2}, 3, 2.4, args.seed)
        return build_vowel_corpus(args.out / "vowel", seed=args.seed)
    from unisync_loss.synth.corpus import generate_corpus

    speakers, clips = (20, 2) if args.quick else (args.speakers, args.clips)
    return generate_corpus(args.out / f"synth-{speakers}x{clips}", speakers=speakers, clips=clips, seed=args.seed,
                           mp4=False)


def mouth_basis(store: ClipStore) -> torch.Tensor | None:
    """``(64, 20, 3)`` mouth-landmark displacement per expression coefficient, when the corpus' face model is known."""
    generator = store.header.get("info", {}).get("generator")
    if generator == "unisync-synth":
        from unisync_loss.synth.face_model import expression_basis

        return torch.from_numpy(expression_basis()[:, MOUTH]).float()
    if generator == "geneface-vowel-corpus":
        return torch.from_numpy(vowel_face_model()[1][MOUTH].transpose(2, 0, 1)).float()
    return None


def coeffs_to_mouth(coeffs: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """``(T, 64)`` coefficients -> ``(T, 68, 3)`` landmark offsets with only the mouth (48:68) filled."""
    out = coeffs.new_zeros(coeffs.shape[0], 68, 3)
    out[:, MOUTH] = torch.einsum("tc,ckd->tkd", coeffs, basis)
    return out


def format_table(rows: dict, experts_info: dict, runtime_s: float) -> str:
    """Markdown table: one row per arm (plus ground truth), judge metrics and mouth error."""
    names = {"ground_truth": "Ground-truth motion", **dict(ARMS)}
    lines = ["| Method | " + " | ".join(title for _, title in COLUMNS) + " |",
             "| --- | " + " | ".join("---:" for _ in COLUMNS) + " |"]
    for key, row in rows.items():
        lines.append(f"| {names[key]} | " + " | ".join(f"{row[c]:.4f}" for c, _ in COLUMNS) + " |")
    accuracy = ", ".join(f"{name} {v['accuracy']:.3f} (AUC {v['auc']:.3f})" for name, v in experts_info.items())
    lines.append(f"\nPair accuracy on test speakers (protocol A): {accuracy}. Runtime {runtime_s:.0f} s.")
    return "\n".join(lines)


def plot_offsets(profiles: dict, path: Path) -> None:
    """The judge's mean sync probability against audio offset, one curve per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, clip_profiles in profiles.items():
        offsets = sorted(clip_profiles[0])
        ax.plot(offsets, [np.mean([p[k].mean() for p in clip_profiles]) for k in offsets], marker="o", label=name)
    ax.set_xlabel("audio offset (video frames)")
    ax.set_ylabel("judge p(sync)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    run(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
