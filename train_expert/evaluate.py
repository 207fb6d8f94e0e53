"""How good a sync expert is, in the field's two protocols.

* Protocol A, binary accuracy (as LatentSync and Wav2Lip-style experts report it): balanced synced / unsynced pairs,
  synced when ``p > 0.5``; the negatives' distribution (minimum shift, same vs cross speaker) is stated with the
  result. ROC-AUC and EER are added: they need no threshold.
* Protocol B, offset accuracy (the protocol behind SyncNet 75.8 / PM 88.1 / AVST 92.0 / VocaLiST 92.8 on LRS2): for
  each 5-frame window the audio is scored at offsets ``-15 .. +15`` video frames; the argmax is the predicted offset,
  correct within +/-1 frame of 0 (the clips are synchronised). Context ``K`` frames averages the score vectors of the
  ``K - 4`` consecutive windows it spans. Accuracy is the mean over windows of a clip, then the mean over clips.

Command: ``python -m train_expert.evaluate --expert DIR --data STORE [--split test]`` (also ``unisync evaluate``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader
from unisync_loss.progress import progress_bar

from unisync_loss import SampleKind, UniSyncExpert, pairwise_sync_probability, sync_probability
from unisync_loss.audio.features import precompute_features
from unisync_loss.data import ClipStore
from unisync_loss.metrics.offsets import best_offset
from unisync_loss.validation import check_positive_int, is_integer

from .metrics import bootstrap_interval, equal_error_rate, roc_auc
from .sampling import SyncPairDataset
from .windows import WindowSource

CONTEXTS = (5, 7, 9, 11, 13, 15)
HELP = "Evaluate a sync expert on a clip store: binary accuracy / AUC / EER and offset accuracy at K5..K15."


@torch.no_grad()
def _embed(fn, windows: Sequence[np.ndarray], device, batch_size: int) -> torch.Tensor:
    out = []
    for i in range(0, len(windows), batch_size):
        x = torch.from_numpy(np.stack(windows[i:i + batch_size])).to(device)
        out.append(fn(x).float())
    return torch.cat(out)


@torch.no_grad()
def protocol_a(expert, dataset: SyncPairDataset, batch_size: int = 256, device: str | torch.device = "cpu",
               num_workers: int = 0, progress: bool = False) -> dict[str, Any]:
    """Binary accuracy at threshold 0.5 over ``dataset``'s pairs, plus ROC-AUC, EER and per-kind accuracy.

    ``expert``: anything with ``embed_audio`` / ``embed_visual`` (a :class:`UniSyncExpert`). The returned dict also
    holds ``scores`` and ``kinds`` (numpy) for plots.
    """
    check_positive_int(batch_size, "batch_size")
    was_training = getattr(expert, "training", False)
    if hasattr(expert, "eval"):
        expert.eval()
    scores, kinds = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    for batch in progress_bar(loader, desc="protocol A", disable=not progress, leave=False):
        a = expert.embed_audio(batch["audio"].to(device))
        v = expert.embed_visual(batch["visual"].to(device))
        scores.append(sync_probability(a, v).cpu())
        kinds.append(batch["kind"])
    if was_training:
        expert.train()
    p, kind = torch.cat(scores).numpy(), torch.cat(kinds).numpy()
    labels = kind == SampleKind.POSITIVE
    correct = (p > 0.5) == labels
    result = {
        "accuracy": float(correct.mean()),
        "auc": roc_auc(p, labels),
        "eer": equal_error_rate(p, labels),
        "pairs": int(len(p)),
        "negatives": dataset.describe(),
        "scores": p,
        "kinds": kind,
        "auc_interval95": bootstrap_interval((p, labels), roc_auc, resamples=200),
    }
    for k in SampleKind:
        mask = kind == k
        result[f"accuracy_{k.name.lower()}"] = float(correct[mask].mean()) if mask.any() else float("nan")
    return result


@torch.no_grad()
def offset_scores(expert, source: WindowSource, clip: int, max_offset: int = 15, device="cpu",
                  batch_size: int = 256) -> np.ndarray:
    """``(N, 2 * max_offset + 1)`` sync probabilities of each scorable window of ``clip`` at audio offsets
    ``-max_offset .. +max_offset`` (column ``j`` is offset ``j - max_offset``); ``N`` may be 0 for short clips."""
    n = source.clips[clip].num_starts
    starts = list(range(max_offset, n - max_offset))
    if not starts:
        return np.zeros((0, 2 * max_offset + 1), dtype=np.float32)
    audio = _embed(expert.embed_audio, [source.audio_window(clip, s) for s in range(n)], device, batch_size)
    visual = _embed(expert.embed_visual, [source.visual_window(clip, s) for s in starts], device, batch_size)
    all_pairs = pairwise_sync_probability(audio, visual)  # (len(starts), n)
    rows = torch.arange(len(starts))[:, None]
    cols = torch.tensor(starts)[:, None] + torch.arange(-max_offset, max_offset + 1)[None, :]
    return all_pairs[rows, cols].cpu().numpy()


def offset_accuracy(scores: np.ndarray, context: int, max_offset: int, tolerance: int = 1) -> float | None:
    """Share of context-``K`` predictions within ``tolerance`` of offset 0; ``None`` if the clip is too short."""
    width = context - 4
    if scores.shape[0] < width:
        return None
    cumulative = np.cumsum(np.vstack([np.zeros((1, scores.shape[1])), scores]), axis=0)
    averaged = (cumulative[width:] - cumulative[:-width]) / width
    predicted, _ = best_offset(averaged, np.arange(-max_offset, max_offset + 1))
    return float((np.abs(predicted) <= tolerance).mean())


def protocol_b(expert, source: WindowSource, max_offset: int = 15, tolerance: int = 1,
               contexts: Sequence[int] = CONTEXTS, device="cpu", batch_size: int = 256,
               progress: bool = False) -> dict[str, Any]:
    """Offset accuracy per context ``K`` (keys ``"K5"`` ...): per-clip mean, then mean over clips."""
    check_positive_int(max_offset, "max_offset")
    for k in contexts:
        if not is_integer(k) or k < 5:
            raise ValueError(f"contexts: expected integers >= 5 (frames), got {list(contexts)}")
    was_training = getattr(expert, "training", False)
    if hasattr(expert, "eval"):
        expert.eval()
    per_context: dict[int, list[float]] = {k: [] for k in contexts}
    for clip in progress_bar(range(len(source.clips)), desc="protocol B", disable=not progress, leave=False):
        scores = offset_scores(expert, source, clip, max_offset, device, batch_size)
        for k in contexts:
            acc = offset_accuracy(scores, k, max_offset, tolerance)
            if acc is not None:
                per_context[k].append(acc)
    if was_training:
        expert.train()
    if not per_context[min(contexts)]:
        raise ValueError(
            f"{source.split} split: no clip is long enough for protocol B "
            f"(needs {2 * max_offset + 1} window starts, i.e. {2 * max_offset + 5} frames)"
        )
    result: dict[str, Any] = {f"K{k}": float(np.mean(v)) if v else float("nan") for k, v in per_context.items()}
    result.update(clips=len(per_context[min(contexts)]), max_offset=max_offset, tolerance=tolerance)
    result["per_clip"] = {f"K{k}": v for k, v in per_context.items()}
    result["interval95"] = {f"K{k}": bootstrap_interval(v) if len(v) > 1 else [float("nan")] * 2
                            for k, v in per_context.items()}
    return result


def evaluate_expert(expert: UniSyncExpert, store: ClipStore, split: str = "test", pairs: int = 2048, seed: int = 0,
                    min_shift: int = 2, max_shift: int = 15, cross_share: float = 0.2, other_clip_share: float = 0.5,
                    max_offset: int = 15, device="cpu", progress: bool = True) -> dict[str, Any]:
    """Both protocols on ``split`` of ``store`` (audio features are cached first)."""
    precompute_features(store, expert.audio_rep, store.clip_ids(split), progress=progress)
    source = WindowSource(store, expert.audio_rep, expert.visual_rep, split, min_starts=min_shift + 1)
    if len(source.clips_of_speaker) < 2:
        cross_share = 0.0
    dataset = SyncPairDataset(source, pairs, seed=seed, cross_share=cross_share, other_clip_share=other_clip_share,
                              min_shift=min_shift, max_shift=max_shift)
    a = protocol_a(expert, dataset, device=device, progress=progress)
    b = protocol_b(expert, source, max_offset=max_offset, device=device, progress=progress)
    return {"pair": expert.pair, "split": split, "protocol_a": a, "protocol_b": b}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready copy of :func:`evaluate_expert`'s result (drops the score arrays)."""
    a = {k: v for k, v in result["protocol_a"].items() if k not in ("scores", "kinds")}
    return {**result, "protocol_a": a}


def format_result(result: dict[str, Any]) -> str:
    a, b = result["protocol_a"], result["protocol_b"]
    lines = [
        f"{result['pair']} on the {result['split']} split",
        f"protocol A ({a['pairs']} pairs; {a['negatives']}):",
        f"  accuracy@0.5 {a['accuracy']:.4f}  AUC {a['auc']:.4f}  EER {a['eer']:.4f}  "
        f"(positives {a['accuracy_positive']:.3f}, same {a['accuracy_same_speaker']:.3f}, "
        f"cross {a['accuracy_cross_speaker']:.3f})",
        f"  AUC 95% interval (bootstrap over pairs) {a['auc_interval95'][0]:.3f}..{a['auc_interval95'][1]:.3f}",
        f"protocol B (offsets +/-{b['max_offset']}, tolerance +/-{b['tolerance']}, {b['clips']} clips):",
        "  " + "  ".join(f"{k} {v:.4f}" for k, v in b.items() if k.startswith("K")),
        "  95% intervals (bootstrap over clips): " + "  ".join(
            f"{k} {lo:.2f}..{hi:.2f}" for k, (lo, hi) in b["interval95"].items()),
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expert", required=True, help="expert checkpoint folder (config.json + model.safetensors)")
    parser.add_argument("--data", required=True, help="clip store folder")
    parser.add_argument("--split", default="test", help="split to evaluate (default test)")
    parser.add_argument("--pairs", type=int, default=2048, help="protocol A pairs (default 2048)")
    parser.add_argument("--min-shift", type=int, default=2, help="smallest shift of shifted negatives (frames)")
    parser.add_argument("--cross-share", type=float, default=0.2, help="share of cross-speaker negatives")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    parser.add_argument("--json", help="write the result as JSON here")


def run(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    expert = UniSyncExpert.from_pretrained(args.expert, map_location=args.device)
    result = evaluate_expert(expert, ClipStore(args.data), args.split, pairs=args.pairs, seed=args.seed,
                             min_shift=args.min_shift, cross_share=args.cross_share, device=args.device)
    print(format_result(result))
    if args.json:
        Path(args.json).write_text(json.dumps(summary(result), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train_expert.evaluate", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"evaluate: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
