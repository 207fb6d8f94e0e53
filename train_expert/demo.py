"""``unisync demo``: the main job on the built-in data, end to end on a CPU in a few minutes.

1. synthesise a corpus (real eSpeak NG speech, phoneme-driven faces, speaker-disjoint splits);
2. pretrain a mel + RGB expert (the pair Wav2Lip needs; ``--visual`` picks another) on its training speakers with the
   UniSync recipe (``--recipe paper`` for the paper's alone) for ``--minutes`` of training;
3. evaluate it on the held-out test speakers (protocol A: binary accuracy / AUC / EER; protocol B: offset accuracy);
4. use it: find the audio offset of every test clip, in sync and with the audio delayed, and compare
   ``UniSyncLoss`` on synced and shifted pairs; a PNG shows the offset curves.
"""

from __future__ import annotations

import json
from pathlib import Path

HELP = "Run the main job on the built-in data: synthesise, train an expert, evaluate it, find audio offsets."

DELAY = 3  # frames by which the demo delays the audio of each test clip
EXPECTED_DELAYED_OFFSET = -DELAY  # offsets are positive when the sound comes before the picture


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default outputs/demo)")
    parser.add_argument("--speakers", type=int, default=120, help="speakers in the synthetic corpus (default 120)")
    parser.add_argument("--clips", type=int, default=1, help="clips per speaker (default 1)")
    parser.add_argument("--visual", default="rgb", choices=("3dmm", "landmarks", "parsing", "rgb"),
                        help="visual representation of the expert (default rgb, 24 x 48 crops)")
    parser.add_argument("--recipe", default="unisync", choices=("unisync", "paper", "wav2lip"),
                        help="training recipe (default unisync; see docs/training.md)")
    parser.add_argument("--minutes", type=float, default=3.0, help="expert training time in minutes (default 3)")
    parser.add_argument("--steps", type=int, default=2000, help="at most this many training steps (default 2000)")
    parser.add_argument("--batch-size", type=int, default=32, help="windows (or pairs) per step (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="processes synthesising the corpus (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: fastest on a busy CPU)")
    parser.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    import numpy as np

    from unisync_loss.expert import UniSyncExpert
    from unisync_loss.synth import generate_corpus

    from .config import make_config
    from .evaluate import evaluate_expert, format_result, summary
    from .trainer import Trainer

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"[1/4] synthetic corpus: {args.speakers} speakers x {args.clips} clips -> {args.out / 'corpus'}")
    store = generate_corpus(args.out / "corpus", speakers=args.speakers, clips=args.clips, seed=args.seed,
                            mp4=False, workers=args.workers)

    print(f"[2/4] training a mel+{args.visual} expert ({args.recipe} recipe) for {args.minutes:g} minutes "
          f"(at most {args.steps} steps) -> {args.out / 'expert'}")
    crop = {"height": 24, "width": 48} if args.visual in ("rgb", "parsing") else {}
    evaluations = max(1, min(args.steps // 2, 6))
    config = make_config(overrides=dict(
        recipe=args.recipe, audio="mel", visual=args.visual, visual_options=crop, channels=32, embed_dim=128,
        num_threads=args.threads, data=str(store.root), out=str(args.out / "expert"), max_steps=args.steps,
        max_minutes=args.minutes, batch_size=args.batch_size, warmup_steps=min(50, args.steps // 10),
        eval_every=max(1, args.steps // evaluations), checkpoint_every=max(1, args.steps // evaluations),
        samples_per_epoch=max(args.batch_size, 64 * args.batch_size), val_pairs=512, num_workers=1, seed=args.seed,
        chance_check_steps=max(1, min(300, args.steps // 2)),
    ))
    trained = Trainer(config, tensorboard=False).train()
    print(f"  trained {trained['steps']} steps in {trained['elapsed_minutes']:.1f} min; validation AUC by evaluation: "
          + " / ".join(f"{h['auc']:.2f}" for h in trained["history"]))
    expert = UniSyncExpert.from_pretrained(args.out / "expert" / "best").eval()

    print("[3/4] evaluation on the held-out test speakers")
    result = evaluate_expert(expert, store, "test", pairs=1024, seed=args.seed)
    print(format_result(result))

    print(f"[4/4] offsets of every test clip, in sync and with the audio delayed by {DELAY} frames")
    rows = _offset_rows(expert, store, args.visual)
    synced_ok = np.mean([abs(r["offset_synced"]) <= 1 for r in rows])
    delayed_ok = np.mean([abs(r["offset_delayed"] - EXPECTED_DELAYED_OFFSET) <= 1 for r in rows])
    loss_synced = float(np.mean([r["loss_synced"] for r in rows]))
    loss_delayed = float(np.mean([r["loss_delayed"] for r in rows]))
    plot = _plot_curves(rows, args.out / "offset_curves.png")
    report = {
        "evaluation": summary(result),
        "offsets": {"clips": len(rows), "delay_frames": DELAY, "synced_within_1": float(synced_ok),
                    "delayed_found_within_1": float(delayed_ok), "loss_synced": loss_synced,
                    "loss_delayed": loss_delayed, "per_clip": rows},
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=1, default=float))
    print(f"  clips: {len(rows)}; offset found within +/-1 frame: synced {100 * synced_ok:.0f}%, "
          f"delayed {100 * delayed_ok:.0f}%")
    print(f"  UniSyncLoss (mean -log p): synced {loss_synced:.3f}, delayed {loss_delayed:.3f}")
    print(f"wrote {args.out / 'report.json'} and {plot}")
    return 0


def _offset_rows(expert, store, visual: str) -> list[dict]:
    """Per test clip: best offset and loss with the original audio and with the audio delayed by DELAY frames."""
    import numpy as np
    import torch

    from unisync_loss.metrics.unisync_scores import unisync_scores
    from unisync_loss.sync_loss import UniSyncLoss

    loss_fn = UniSyncLoss("mel", visual, expert=expert)
    rows = []
    for clip_id in store.clip_ids("test"):
        clip = store.load_clip(clip_id, mmap=False)
        faces = _visual_sequence(clip, expert.visual_rep)
        audio = torch.from_numpy(clip.audio)
        shift = DELAY * 640  # samples per video frame at 16 kHz and 25 fps
        delayed = torch.cat([torch.zeros(shift), audio[:-shift]])
        synced_scores = unisync_scores(expert, audio, faces)
        delayed_scores = unisync_scores(expert, delayed, faces)
        with torch.no_grad():
            loss_synced = float(loss_fn(audio[None], faces[None]))
            loss_delayed = float(loss_fn(delayed[None], faces[None]))
        rows.append({
            "clip": clip_id, "offset_synced": synced_scores.offset, "offset_delayed": delayed_scores.offset,
            "confidence_synced": synced_scores.confidence, "loss_synced": loss_synced, "loss_delayed": loss_delayed,
            "curve_synced": synced_scores.probabilities, "curve_delayed": delayed_scores.probabilities,
            "offsets": synced_scores.offsets,
        })
    return rows


def _visual_sequence(clip, rep):
    """The clip's frames in the expert's visual representation, ``(T, *frame_shape)``."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    if rep.name == "rgb":
        lower = torch.from_numpy(np.ascontiguousarray(clip.frames[:, clip.frames.shape[1] // 2:]))
        lower = lower.permute(0, 3, 1, 2).float() / 255
        return F.interpolate(lower, size=rep.frame_shape[1:], mode="bilinear", align_corners=False).clamp(0, 1)
    if rep.name == "parsing":
        lower = np.ascontiguousarray(clip.parsing[:, clip.parsing.shape[1] // 2:])
        return rep.prepare(torch.from_numpy(lower).long()[None], "parsing")[0]
    array = clip.coeffs3dmm if rep.name == "3dmm" else clip.landmarks
    return torch.from_numpy(np.asarray(array, dtype=np.float32))


def _plot_curves(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for key, colour, label in (("curve_synced", "tab:green", "original audio"),
                               ("curve_delayed", "tab:red", f"audio delayed {DELAY} frames")):
        curves = np.array([[np.nan if v is None else v for v in r[key]] for r in rows], dtype=float)
        offsets = rows[0]["offsets"]
        for curve in curves:
            ax.plot(offsets, curve, color=colour, alpha=0.15, lw=0.8)
        ax.plot(offsets, np.nanmean(curves, axis=0), color=colour, lw=2, label=f"{label} (mean of {len(rows)})")
    ax.axvline(0, color="grey", lw=0.6)
    ax.axvline(EXPECTED_DELAYED_OFFSET, color="tab:red", lw=0.6, ls=":")
    ax.set_xlabel("offset tried (video frames)")
    ax.set_ylabel("mean sync probability")
    ax.set_title("UniSync expert on held-out synthetic speakers", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
