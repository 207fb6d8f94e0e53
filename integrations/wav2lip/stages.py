"""The Table VI experiment's stages, each a module-level function that :mod:`.jobs` can run in its own process.

Every stage skips its work when its output already exists, so an interrupted experiment resumes where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from unisync_loss.data.clip_store import ClipStore
from unisync_loss.expert import UniSyncExpert

from .data import clip_mel
from .judge import judge_lse, syncnet_lse
from .mouth_motion import mouth_agreement, mouth_boxes
from .regenerate import regenerate
from .trainer import GeneratorTrainer, TrainConfig, checkpoint_path
from .weights import load_model


def make_corpus(path: str, speakers: int, clips: int, seed: int, max_seconds: float = 8.0) -> str:
    """The project's synthetic corpus (``unisync synth`` settings, speakers split train/val/test)."""
    from unisync_loss.synth.corpus import generate_corpus
    from unisync_loss.synth.settings import SynthSettings

    settings = SynthSettings(max_seconds=max_seconds)
    generate_corpus(path, speakers=speakers, clips=clips, seed=seed, settings=settings, mp4=False)
    return path


def train_unisync(store: str, out: str, minutes: float, max_steps: int, seed: int, channels: int, embed_dim: int,
                  height: int, batch_size: int, train_split: str = "train", val_split: str = "val",
                  device: str = "cpu") -> str:
    """A mel+rgb UniSync expert (``train_expert``, recipe ``unisync``) within ``minutes``; returns its best folder."""
    best = Path(out) / "best"
    if not (best / "config.json").is_file():
        from train_expert import make_config
        from train_expert.trainer import Trainer

        evaluations = 4
        config = make_config(None, {
            "audio": "mel", "visual": "rgb", "visual_options": {"height": height, "width": 2 * height},
            "data": store, "out": out, "channels": channels, "embed_dim": embed_dim, "batch_size": batch_size,
            "max_steps": max_steps, "max_minutes": minutes, "seed": seed, "lr": 1e-3,
            "warmup_steps": min(50, max(1, max_steps // 10)), "eval_every": max(1, max_steps // evaluations),
            "checkpoint_every": max(1, max_steps // evaluations), "samples_per_epoch": 64 * batch_size,
            "val_pairs": 256, "num_workers": 0, "num_threads": 1, "device": device,
            "train_split": train_split, "val_split": val_split,
        })
        summary = Trainer(config, tensorboard=False).train()
        (Path(out) / "summary.json").write_text(json.dumps(
            {k: summary[k] for k in ("steps", "elapsed_minutes", "best_accuracy", "history") if k in summary},
            default=float))
    return str(best)


def training_steps(kind: str, path: str) -> int | None:
    """Steps an expert trained (from its summary), or None when unknown (e.g. an expert given by the user)."""
    if kind == "unisync":
        summary = Path(path).parent / "summary.json"
        return json.loads(summary.read_text())["steps"] if summary.is_file() else None
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True).get("global_step"))
    except (OSError, RuntimeError, TypeError, ValueError, AttributeError):
        return None


def train_wav2lip(store: str, out: str, minutes: float, max_steps: int, seed: int, width: float, batch_size: int,
                  lr: float) -> str:
    """Wav2Lip's expert (``SyncNet_color``, Wav2Lip's sampling and BCE of the cosine) within ``minutes``."""
    if not Path(out).is_file():
        from .expert_training import train_syncnet

        train_syncnet(store, out, max_steps, width, batch_size, lr, seed=seed, max_minutes=minutes or None)
    return out


def train_generator(store: str, out: str, kind: str, expert: str | None, steps: int, weight: float, width: float,
                    batch_size: int, seed: int, init: str | None, schedule: str = "fixed", device: str = "cpu") -> str:
    """One generator run (``schedule`` "fixed": sync weight ``weight`` throughout, 0 = no sync loss; "original":
    Wav2Lip's switch from 0 to ``weight`` once the validation sync loss is below 0.75); returns its final
    checkpoint."""
    final = checkpoint_path(Path(out), steps)
    if not final.is_file():
        config = TrainConfig(data=store, out=out, sync_expert=kind, expert=expert, steps=steps, batch_size=batch_size,
                             width=width, schedule=schedule if weight > 0 else "fixed", sync_weight=weight,
                             eval_interval=max(1, steps // 4), eval_batches=4, checkpoint_interval=steps, seed=seed,
                             device=device, init_generator=init, resume="auto")
        GeneratorTrainer(config).fit()
    return str(final)


def score_row(store: str, clip_ids: list[str], judge: str, out: str, generator: str | None = None,
              syncnet: str | None = None, strip_frames: int = 8, device: str = "cpu") -> list[dict]:
    """Judge every clip of one row (``generator`` None = the real videos); writes and returns per-clip scores.

    Each item: ``clip``, ``lse_d``, ``lse_c``, ``offset``, ``curve`` (mean distance per offset), ``mouth_corr``,
    ``mouth_motion``, and with ``syncnet`` (syncnet_python's ``syncnet_v2.model``) ``syncnet_lse_d`` /
    ``syncnet_lse_c``. The mouth crops of ``strip_frames`` evenly spaced frames of the first clip go to
    ``out`` with suffix ``.strip.npy``.
    """
    path = Path(out)
    if path.is_file():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    clips = ClipStore(store)
    expert = UniSyncExpert.from_pretrained(judge).to(device).eval()
    model = None if generator is None else load_model("generator", generator, map_location=device)
    reference = None
    if syncnet is not None:
        from unisync_loss.metrics.syncnet import load_syncnet

        reference = load_syncnet(syncnet, device)
    items = []
    for n, clip_id in enumerate(clip_ids):
        real = np.array(clips.load_array(clip_id, "frames"))  # copies: memory-mapped arrays are read-only
        audio = np.array(clips.load_array(clip_id, "audio"), dtype=np.float32)
        landmarks = _landmarks(clips, clip_id, len(real))
        video = real if model is None else regenerate(model, real, clip_mel(clips, clip_id), device=device)
        lse = judge_lse(expert, video, audio)
        items.append({"clip": clip_id, "lse_d": lse.lse_d, "lse_c": lse.lse_c, "offset": lse.offset,
                      "offsets": lse.offsets, "curve": lse.distances})
        if landmarks is not None:
            items[-1].update(mouth_agreement(video, real, landmarks))
        if reference is not None:
            real_lse = syncnet_lse(reference, video, audio)
            items[-1].update(syncnet_lse_d=real_lse.lse_d, syncnet_lse_c=real_lse.lse_c)
        if n == 0:
            np.save(path.with_suffix(".strip.npy"), mouth_strip(video, landmarks, strip_frames))
    path.write_text(json.dumps(items))
    return items


def _landmarks(clips: ClipStore, clip_id: str, num_frames: int) -> np.ndarray | None:
    """The clip's ``(T, 68, 2)`` pixel landmarks, or None when the store has none (e.g. imported LRS2 crops)."""
    if "landmarks" not in clips.meta(clip_id).get("arrays", {}):
        return None
    landmarks = np.asarray(clips.load_array(clip_id, "landmarks"))
    return landmarks if landmarks.shape[1:] == (68, 2) and len(landmarks) >= num_frames else None


def mouth_strip(video: np.ndarray, landmarks: np.ndarray | None, count: int) -> np.ndarray:
    """``(count, h, w, 3)`` uint8 crops of one fixed mouth-centred box at ``count`` evenly spaced frames (the
    middle of the lower half without landmarks)."""
    picks = np.linspace(0, len(video) - 1, count).round().astype(int)
    if landmarks is None:
        size = video.shape[1]
        return np.ascontiguousarray(video[picks, size // 2 + size // 12:size - size // 12, size // 6:-(size // 6)])
    boxes = mouth_boxes(landmarks[picks], video.shape[1], margin=0.6)
    x0, y0 = boxes[:, :2].min(axis=0)
    x1, y1 = boxes[:, 2:].max(axis=0)
    return np.ascontiguousarray(video[picks, y0:y1, x0:x1])


def judge_check(store: str, clip_ids: list[str], judge: str, delay: int = 8, device: str = "cpu") -> dict:
    """Can the judge find sync at all? On the real test clips: the share whose judge offset is within one frame of
    0, and with the audio delayed by ``delay`` frames the share found within one frame of ``-delay`` (offsets are
    positive when the sound comes first) and the share whose offset moved by ``-delay`` within one frame (relative
    to the clip's own offset: real clips need not be exactly in sync)."""
    if delay < 2:
        raise ValueError(f"delay: expected at least 2 frames, got {delay}")
    clips = ClipStore(store)
    expert = UniSyncExpert.from_pretrained(judge).to(device).eval()
    synced, delayed = [], []
    for clip_id in clip_ids:
        frames = np.array(clips.load_array(clip_id, "frames"))
        audio = np.array(clips.load_array(clip_id, "audio"), dtype=np.float32)
        late = np.concatenate([np.zeros(delay * clips.meta(clip_id)["sample_rate"] // 25, np.float32), audio])
        synced.append(judge_lse(expert, frames, audio).offset)
        delayed.append(judge_lse(expert, frames, late[:len(audio)]).offset)
    return {"delay": delay, "clips": len(clip_ids), "offsets_synced": synced, "offsets_delayed": delayed,
            "synced_within_1": float(np.mean([abs(o) <= 1 for o in synced])),
            "delayed_found_within_1": float(np.mean([abs(o + delay) <= 1 for o in delayed])),
            "delay_moves_offset": float(np.mean([abs(d - s + delay) <= 1 for s, d in zip(synced, delayed)]))}


@torch.no_grad()
def expert_accuracy(store: str, kind: str, path: str, pairs: int = 512, seed: int = 0) -> dict[str, float]:
    """Accuracy at 0.5 and AUC of an expert on Wav2Lip-style pairs of the test speakers (synced vs another window
    of the same clip, balanced): one protocol for the UniSync experts, the judge and Wav2Lip's expert."""
    from train_expert.metrics import roc_auc

    from .expert_adapter import UniSyncSyncNet
    from .expert_training import SyncPairs

    model = UniSyncSyncNet(path) if kind == "unisync" else load_model("syncnet", path)
    model.eval()
    data = SyncPairs(store, "test", seed=seed + 3_000_017)
    scores, labels = [], []
    for begin in range(0, pairs, 64):
        batch = [data[i] for i in range(begin, min(pairs, begin + 64))]
        mel, faces, label = (torch.stack(t) for t in zip(*batch))
        a, v = model(mel, faces)
        scores.append(torch.cosine_similarity(a.float(), v.float()))
        labels.append(label)
    s, y = torch.cat(scores).numpy(), torch.cat(labels).numpy()
    return {"accuracy": float(((s > 0.5) == (y > 0.5)).mean()), "auc": float(roc_auc(s, y)), "pairs": int(len(s)),
            "steps": training_steps(kind, path)}
