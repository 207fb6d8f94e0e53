"""Benchmark of the real-video path: preprocessing throughput and training data-loader throughput.

1. Preprocessing (decode at 25 fps + MediaPipe face mesh + tracking + crop + write) of the real clips, one worker:
   source seconds processed per second of one core, per clip and in total.
2. Data loading for SyncNet-style training (5 frames of 96x96 lower-half crops + a 16-frame mel window per sample,
   as Wav2Lip's SyncNet dataset returns), from the clip store (memory-mapped frames, cached mel) against a loader that
   reads Wav2Lip's JPEG layout the way Wav2Lip does (list the clip's JPEGs, decode 5 of them, reload the clip's wav and
   recompute its whole mel spectrogram for every sample). Both read the same clips, in one run, with a torch
   DataLoader of 2 worker processes.

Usage (from the repository root): python -m benchmarks.bench_preprocess [--quick] [--clips DIR] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from unisync_loss.audio.features import cached_features, compute_features
from unisync_loss.data import ClipStore
from unisync_loss.video.pipeline import PreprocessConfig
from unisync_loss.video.run import LOG_NAME, preprocess

DEFAULT_CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real_clips"
MEL_STEP, MEL_WINDOW, WINDOW = 80 / 25, 16, 5


def sample_window(num_frames: int, num_mel: int, rng: random.Random) -> int:
    last = min(num_frames - WINDOW, int((num_mel - MEL_WINDOW) / MEL_STEP))
    return rng.randint(0, last)


def to_tensors(frames: np.ndarray, mel: np.ndarray, start: int):
    """5 frames (5, 96, 96, 3) uint8 -> (15, 48, 96) float lower halves; mel window -> (1, 80, 16)."""
    x = torch.from_numpy(np.ascontiguousarray(frames[:, 48:])).float().div_(255).permute(0, 3, 1, 2).reshape(-1, 48, 96)
    m0 = int(start * MEL_STEP)
    return x, torch.from_numpy(np.ascontiguousarray(mel[m0:m0 + MEL_WINDOW].T))[None]


class StoreWindows(Dataset):
    """Samples from the clip store: memory-mapped frames and the store's cached mel features."""

    def __init__(self, root: Path, length: int):
        self.root, self.length = root, length
        self.store = ClipStore(root)
        self.ids = self.store.clip_ids()
        for clip_id in self.ids:  # fill the cache once, as a training run does on its first epoch
            cached_features(self.store, clip_id, "mel")

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        rng = random.Random(index)
        clip_id = rng.choice(self.ids)
        frames = self.store.load_array(clip_id, "frames")
        mel = cached_features(self.store, clip_id, "mel")
        start = sample_window(len(frames), len(mel), rng)
        return to_tensors(frames[start:start + WINDOW], mel, start)


class Wav2LipJpegWindows(Dataset):
    """Samples the way Wav2Lip's SyncNet dataset reads its layout: glob, imread + resize, reload wav, full mel."""

    def __init__(self, root: Path, clip_dirs: list[str], length: int):
        self.root, self.clip_dirs, self.length = root, clip_dirs, length

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        import cv2

        rng = random.Random(index)
        folder = self.root / rng.choice(self.clip_dirs)
        names = list(folder.glob("*.jpg"))
        with wave.open(str(folder / "audio.wav")) as handle:
            pcm = np.frombuffer(handle.readframes(handle.getnframes()), "<i2").astype(np.float32) / 32768
        mel = compute_features("mel", torch.from_numpy(pcm)).numpy()  # the same Wav2Lip mel, recomputed
        start = sample_window(len(names), len(mel), rng)
        frames = np.stack([cv2.cvtColor(cv2.resize(cv2.imread(str(folder / f"{start + i}.jpg")), (96, 96)),
                                        cv2.COLOR_BGR2RGB) for i in range(WINDOW)])
        return to_tensors(frames, mel, start)


def export_wav2lip_layout(store: ClipStore, root: Path) -> list[str]:
    """Write the store's clips as Wav2Lip's preprocessed layout (JPEG per frame + audio.wav)."""
    import cv2

    dirs = []
    for clip_id in store.clip_ids():
        clip = store.load_clip(clip_id)
        folder = root / "vid" / clip_id
        folder.mkdir(parents=True)
        for i, frame in enumerate(clip.frames):
            cv2.imwrite(str(folder / f"{i}.jpg"), cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2BGR))
        with wave.open(str(folder / "audio.wav"), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(16000)
            handle.writeframes((np.clip(clip.audio, -1, 1) * 32767).astype("<i2").tobytes())
        dirs.append(f"vid/{clip_id}")
    return dirs


def loader_rate(dataset: Dataset, batches: int, batch_size: int, workers: int) -> float:
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, shuffle=False,
                        worker_init_fn=lambda _: torch.set_num_threads(1), persistent_workers=False)
    iterator = iter(loader)
    next(iterator)  # worker start-up is not throughput
    started = time.perf_counter()
    count = 0
    for _ in range(batches):
        x, mel = next(iterator)
        count += len(x)
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one clip, fewer batches")
    parser.add_argument("--clips", type=Path, default=DEFAULT_CLIPS, help="folder of real talking-face videos")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench_preprocess.json"))
    parser.add_argument("--workers", type=int, default=2, help="data-loader worker processes (default 2)")
    args = parser.parse_args()
    if not args.clips.is_dir():
        raise SystemExit(f"--clips: no such folder {args.clips}")
    torch.set_num_threads(1)
    results: dict = {"preprocess": [], "loader": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        videos = sorted(args.clips.glob("*.mp4"))[: 1 if args.quick else None]
        listing = tmp / "videos.txt"
        listing.write_text("".join(f"{v}\n" for v in videos))
        store_root = tmp / "store"
        summary = preprocess(listing, store_root, PreprocessConfig(), workers=1, progress=False)
        print(f"\n{'clip':12} {'source s':>9} {'busy s':>8} {'src s / s / core':>17}")
        for line in (store_root / LOG_NAME).read_text().splitlines():
            record = json.loads(line)
            rate = record["source_seconds"] / record["seconds"]
            results["preprocess"].append({k: record[k] for k in ("name", "status", "source_seconds", "seconds")} |
                                         {"source_seconds_per_second": round(rate, 3)})
            print(f"{record['name']:12} {record['source_seconds']:9.2f} {record['seconds']:8.2f} {rate:17.2f}")
        total = summary["source_seconds_per_busy_second"]
        print(f"{'all':12} {summary['source_seconds']:9.2f} {'':8} {total:17.2f}")
        results["preprocess_total_source_seconds_per_second"] = total

        store = ClipStore(store_root)
        dirs = export_wav2lip_layout(store, tmp / "wav2lip")
        batches, batch_size = (5, 32) if args.quick else (20, 64)
        length = (batches + 2) * batch_size
        fast = loader_rate(StoreWindows(store_root, length), batches, batch_size, args.workers)
        slow = loader_rate(Wav2LipJpegWindows(tmp / "wav2lip", dirs, length), batches, batch_size, args.workers)
        results["loader"] = {"workers": args.workers, "batch_size": batch_size, "batches": batches,
                             "store_samples_per_s": round(fast, 1), "wav2lip_jpeg_samples_per_s": round(slow, 1),
                             "speedup": round(fast / slow, 2)}
        print(f"\n{'loader (' + str(args.workers) + ' workers)':28} {'samples/s':>10}")
        print(f"{'clip store (mmap + cached mel)':28} {fast:10.1f}")
        print(f"{'Wav2Lip JPEG layout':28} {slow:10.1f}")
        print(f"{'speed-up':28} {fast / slow:10.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
