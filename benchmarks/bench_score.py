"""Benchmark of SyncNet scoring: FLOPs per window, achieved GFLOP/s against the reference implementation's style on
the same input, and end-to-end scoring of real videos.

    python benchmarks/bench_score.py [--quick] [--device cuda] [--json out.json]
        [--syncnet-python DIR]   # a syncnet_python checkout: also time its own evaluation on the same crops

Rows:
* ``network``: FLOPs of one window through both branches, counted by ``torch.utils.flop_counter``.
* ``ours`` vs ``reference style`` on the same random crops: ours embeds the whole sequence at once (no window
  copies), in inference mode, with vectorised distances and one host transfer; the reference style does what
  syncnet_python's evaluation does: float64 copy of the video, five-frame window copies per batch of 20, autograd
  left on, a host transfer per batch and a Python loop for the distances.
* ``end to end``: decode + face tracking + crop + LSE of the real clips (first 5 s, random weights), our pipeline.
* with ``--modes``: default vs reference mode (JPEG round trip) on the whole real clips.
* with ``--syncnet-python ... --with-pipeline``: its ``run_pipeline.py`` on the same first seconds of clip_b, on CPU with
  random S3FD weights (same detector compute; see :func:`bench_reference_run_pipeline`).
* with ``--side-by-side --syncnet-python DIR``: wall time, start-up included, of three commands on the same
  pre-cropped 224x224 real clips (5 s and, unless ``--quick``, 60 s): ``unisync score --precropped`` in reference
  and in default mode, and the reference's evaluation (a fresh ``python`` that imports syncnet_python and runs
  ``SyncNetInstance.evaluate``), one after the other in one run; plus how long each spends before its first
  window (start-up and input preparation, measured inside each process).
* with ``--syncnet-python``: its ``SyncNetInstance.evaluate`` (ffmpeg JPEG dump + OpenCV + its model) run in a
  subprocess on a lossless AVI of our crops of one real clip, against our ``lse(..., mode="reference")`` on the same
  crops: time and numbers. Needs ``ffmpeg`` on PATH and the reference's dependencies.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from unisync_loss.metrics import SyncNet, lse, random_syncnet_state  # noqa: E402
from unisync_loss.metrics.lse import num_windows  # noqa: E402
from unisync_loss.metrics.mfcc import syncnet_mfcc  # noqa: E402

REAL_CLIPS = ROOT.parent / "shared" / "data" / "real_clips"


def make_syncnet(device: str) -> SyncNet:
    net = SyncNet()
    net.load_state_dict(random_syncnet_state(0), strict=False)
    return net.to(device).eval()


def flops_per_window(net: SyncNet, device: str) -> float:
    video = torch.zeros(1, 3, 5, 224, 224, device=device)
    audio = torch.zeros(1, 1, 13, 20, device=device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net.embed_video(video)
        net.embed_audio(audio)
    return counter.get_total_flops() / 1e9


def reference_style(net: SyncNet, frames: np.ndarray, audio: np.ndarray, device: str, batch: int = 20) -> np.ndarray:
    """Our re-enactment of the reference evaluation's data handling (not its code), returning the curve."""
    video = torch.from_numpy(frames[..., ::-1].transpose(3, 0, 1, 2)[None].astype(float)).float()  # (1, 3, T, H, W)
    mfcc = torch.from_numpy(syncnet_mfcc(audio)[None, None].astype(float)).float()  # (1, 1, 13, M)
    last = num_windows(len(frames), len(audio))
    video_out, audio_out = [], []
    for start in range(0, last, batch):
        stop = min(last, start + batch)
        windows = torch.cat([video[:, :, v:v + 5] for v in range(start, stop)], 0)
        video_out.append(net.embed_video(windows.to(device)).data.cpu())
        mfccs = torch.cat([mfcc[:, :, :, 4 * v:4 * v + 20] for v in range(start, stop)], 0)
        audio_out.append(net.embed_audio(mfccs.to(device)).data.cpu())
    v, a = torch.cat(video_out), torch.cat(audio_out)
    padded = torch.nn.functional.pad(a, (0, 0, 15, 15))
    rows = [torch.nn.functional.pairwise_distance(v[[i]].repeat(31, 1), padded[i:i + 31]) for i in range(len(v))]
    return torch.stack(rows, 1).mean(1).numpy()


def timed(fn, device: str, repeats: int) -> tuple[float, object]:
    fn()  # warm-up
    best, out = float("inf"), None
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, out


def bench_network(device: str, frames_count: int, repeats: int) -> list[dict]:
    net = make_syncnet(device)
    gflop = flops_per_window(net, device)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (frames_count, 224, 224, 3), dtype=np.uint8)
    audio = (rng.standard_normal(frames_count * 640) * 0.1).astype(np.float32)
    n = num_windows(frames_count, len(audio))
    t_ours, ours = timed(lambda: lse(frames, audio, net), device, repeats)
    t_ref, curve = timed(lambda: reference_style(net, frames, audio, device), device, repeats)
    same = np.allclose(np.array(ours.distances)[::-1], curve, rtol=1e-4)
    rows = [{"row": "network", "device": device, "gflop_per_window": round(gflop, 3)}]
    for name, seconds in (("ours", t_ours), ("reference style", t_ref)):
        rows.append({"row": name, "device": device, "windows": n, "seconds": round(seconds, 3),
                     "windows_per_s": round(n / seconds, 1), "gflop_per_s": round(gflop * n / seconds, 1),
                     "same_curve": bool(same)})
    return rows


def bench_end_to_end(clips: list[Path], device: str, max_frames: int | None) -> list[dict]:
    from unisync_loss.metrics.video_scoring import score_video

    net = make_syncnet(device)
    rows = []
    for clip in clips:
        start = time.perf_counter()
        record = score_video(clip, syncnet=net, max_frames=max_frames)
        seconds = time.perf_counter() - start
        rows.append({"row": "end to end (ours)", "video": clip.name, "device": device, "frames": record["num_frames"],
                     "seconds": round(seconds, 2), "video_s_per_s": round(record["num_frames"] / 25 / seconds, 3),
                     "lse_d": round(record["lse_d"], 4), "offset": record["offset"]})
    return rows


def _reference_tools():
    """``run_reference`` of the parity fixture's generator (runs syncnet_python's evaluation in a subprocess)."""
    import importlib.util

    path = ROOT / "tests" / "fixtures" / "score" / "make_reference.py"
    spec = importlib.util.spec_from_file_location("make_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_reference_pipeline(checkout: Path, clip: Path, max_frames: int | None) -> list[dict]:
    from unisync_loss.metrics.video_scoring import face_track_crops
    from unisync_loss.video import read_audio

    net = make_syncnet("cpu")
    tracks, _ = face_track_crops(clip, max_frames=max_frames)
    crops = tracks[0].syncnet
    wave = read_audio(clip)[tracks[0].start * 640:(tracks[0].start + len(crops)) * 640]
    audio = np.clip(np.round(wave * 32768), -32768, 32767).astype(np.int16)
    ref = _reference_tools().run_reference(checkout, crops, audio, seed=0)
    start = time.perf_counter()
    ours = lse(crops, audio, net, mode="reference")
    seconds = time.perf_counter() - start
    rel = max(abs(ours.lse_d - ref["lse_d"]) / ref["lse_d"], abs(ours.lse_c - ref["lse_c"]) / max(ref["lse_c"], 1e-9))
    return [
        {"row": "same crops: syncnet_python evaluate", "video": clip.name, "frames": len(crops),
         "seconds": round(ref["seconds"], 2), "offset": ref["offset"], "lse_d": round(ref["lse_d"], 5),
         "lse_c": round(ref["lse_c"], 5)},
        {"row": "same crops: ours, reference mode", "video": clip.name, "frames": len(crops),
         "seconds": round(seconds, 2), "offset": ours.offset, "lse_d": round(ours.lse_d, 5),
         "lse_c": round(ours.lse_c, 5), "max_rel_diff": float(f"{rel:.2e}")},
    ]


def bench_mode_difference(clips: list[Path], device: str) -> list[dict]:
    """Default vs reference mode (JPEG round trip) on the first face track of each whole clip, random weights."""
    from unisync_loss.metrics.jpeg import jpeg_round_trip
    from unisync_loss.metrics.video_scoring import face_track_crops
    from unisync_loss.video import read_audio

    net = make_syncnet(device)
    rows = []
    for clip in clips:
        tracks, _ = face_track_crops(clip)
        crops = tracks[0].syncnet
        audio = read_audio(clip)[tracks[0].start * 640:(tracks[0].start + len(crops)) * 640]
        default, reference = (lse(crops, audio, net, mode=m) for m in ("default", "reference"))
        change = float(np.abs(jpeg_round_trip(crops).astype(int) - crops).mean())
        rows.append({"row": "default vs reference mode", "video": clip.name, "frames": len(crops),
                     "pixel_change": round(change, 2), "lse_d": f"{default.lse_d:.4f} / {reference.lse_d:.4f}",
                     "lse_c": f"{default.lse_c:.4f} / {reference.lse_c:.4f}",
                     "offset": f"{default.offset} / {reference.offset}",
                     "rel_lse_d_change": f"{abs(default.lse_d - reference.lse_d) / reference.lse_d:.2%}"})
    return rows


_PIPELINE_DRIVER = """
import os, runpy, sys, time, types
import numpy as np
import torch
np.int = int  # the reference predates numpy 1.24
torch.nn.Module.cuda = lambda self, *a, **k: self  # run it on CPU
torch.Tensor.cuda = lambda self, *a, **k: self
stub = types.ModuleType("torchvision"); stub.transforms = types.ModuleType("torchvision.transforms")
sys.modules.update({"torchvision": stub, "torchvision.transforms": stub.transforms})  # imported, never used
checkout, video, work = sys.argv[1:4]
os.chdir(checkout); sys.path.insert(0, checkout)
weights = "detectors/s3fd/weights/sfd_face.pth"
if not os.path.exists(weights):  # random S3FD weights: the same compute as the real detector
    from detectors.s3fd.nets import S3FDNet
    os.makedirs(os.path.dirname(weights), exist_ok=True)
    torch.manual_seed(0); torch.save(S3FDNet(device="cpu").state_dict(), weights)
import detectors.s3fd as s3fd
init = s3fd.S3FD.__init__
s3fd.S3FD.__init__ = lambda self, device="cuda": init(self, device="cpu")
sys.argv = ["run_pipeline.py", "--videofile", video, "--reference", "bench", "--data_dir", work]
start = time.perf_counter()
runpy.run_path("run_pipeline.py", run_name="__main__")
print("PIPELINE_SECONDS", time.perf_counter() - start)
"""


def bench_reference_run_pipeline(checkout: Path, clip: Path, seconds: float) -> list[dict]:
    """syncnet_python's run_pipeline.py (ffmpeg re-encode + JPEG dump, S3FD on every frame, scene detection) on the
    first ``seconds`` of ``clip``, on CPU with random S3FD weights (it then finds no face, so its crop stage and
    run_syncnet.py have nothing to do: add the 'same crops' evaluate row for the full reference time)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cut = tmp / "clip.mp4"
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(clip), "-t", str(seconds), "-c", "copy",
                        str(cut)], check=True)
        (tmp / "driver.py").write_text(_PIPELINE_DRIVER)
        done = subprocess.run([sys.executable, str(tmp / "driver.py"), str(checkout.resolve()), str(cut),
                               str(tmp / "work")], capture_output=True, text=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith("PIPELINE_SECONDS")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"run_pipeline.py failed:\n{done.stderr[-2000:]}")
    return [{"row": "syncnet_python run_pipeline.py (random S3FD)", "video": clip.name,
             "frames": int(round(seconds * 25)), "seconds": round(float(lines[0].split()[1]), 2)}]


SIDE_BY_SIDE = {"5 s": ("real_corpus/PC-AVS__Input_00002.mp4", None),  # 224x224 25 fps H.264 as it is
                "60 s": ("real_corpus/EDTalk__pose_source2.mp4", "crop=224:224:16:16")}  # 256x256, 59.96 s


def _wall(command: list[str], env: dict) -> tuple[float, str]:
    import subprocess

    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed:\n{done.stderr[-1500:]}")
    return seconds, done.stdout


def bench_side_by_side(checkout: Path, quick: bool, repeats: int = 1) -> list[dict]:
    """``unisync score --precropped`` (reference and default mode) against syncnet_python's evaluation, wall time
    including start-up, same clips and weights, one after the other; ``repeats`` rounds of the three commands,
    interleaved, the median reported (the first clip only; the 60 s one runs once)."""
    import os
    import subprocess
    import tempfile

    data = ROOT.parent / "shared" / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        weights = tmp / "syncnet_v2.model"
        torch.save(random_syncnet_state(7, shared_bias=1.0), weights)
        driver = tmp / "driver.py"
        driver.write_text(_reference_tools().DRIVER)
        for label, (source, crop) in list(SIDE_BY_SIDE.items())[:1 if quick else None]:
            clip = data / source
            if not clip.is_file():
                print(f"(side by side: {clip} not found, {label} row skipped)")
                continue
            if crop:  # a 224x224 cut, the reference's input format
                cut = tmp / f"{clip.stem}_224.mp4"
                subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(clip), "-vf", crop, "-c:v",
                                "libx264", "-crf", "18", "-c:a", "copy", str(cut)], check=True)
                clip = cut
            ours = [sys.executable, "-m", "unisync_loss", "score", str(clip), "--syncnet", str(weights),
                    "--precropped", "--device", "cpu", "--json", str(tmp / "x.jsonl")]
            commands = {"reference mode": ours + ["--mode", "reference"], "default mode": ours + ["--mode", "default"],
                        "syncnet_python": [sys.executable, str(driver), str(checkout), str(clip), str(weights),
                                           str(tmp / "work")]}
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(repeats if label == "5 s" else 1):
                for name, command in commands.items():
                    (tmp / "x.jsonl").unlink(missing_ok=True)
                    seconds, out = _wall(command, env)
                    times[name].append(seconds)
                    if name == "syncnet_python":
                        ref = json.loads(out.strip().splitlines()[-1])
                        scores = (ref["lse_d"], ref["offset"])
                    else:
                        record = json.loads((tmp / "x.jsonl").read_text().splitlines()[0])
                        scores = (record["lse_d"], record["offset"])
                    times[name + " scores"] = scores
            results = {}
            for name in commands:
                results[name] = float(np.median(times[name]))
                lse_d, offset = times[name + " scores"]
                rows.append({"row": f"side by side {label}: {name}", "video": clip.name,
                             "seconds": round(results[name], 2), "runs": " ".join(f"{t:.1f}" for t in times[name]),
                             "offset": offset, "lse_d": round(lse_d, 6)})
            for name in ("reference mode", "default mode"):
                rows.append({"row": f"side by side {label}: speed-up of {name}",
                             "result": f"{results['syncnet_python'] / results[name]:.2f}x"})
    return rows


def print_table(rows: list[dict]) -> None:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for row in rows:
        print("  ".join(str(row.get(k, "")).ljust(widths[k]) for k in keys))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames, one repeat, one real clip")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json", default="bench_score.json")
    parser.add_argument("--syncnet-python", type=Path, help="a syncnet_python checkout (and ffmpeg on PATH)")
    parser.add_argument("--modes", action="store_true",
                        help="also measure default vs reference mode on the whole real clips (a few minutes)")
    parser.add_argument("--side-by-side", action="store_true",
                        help="with --syncnet-python: unisync score vs its evaluation, wall time incl. start-up, on "
                             "a 5 s and a 60 s pre-cropped clip (--quick: the 5 s one only)")
    parser.add_argument("--repeats", type=int, default=3, help="--side-by-side: rounds on the 5 s clip (3)")
    parser.add_argument("--with-pipeline", action="store_true",
                        help="also time its run_pipeline.py (needs scenedetect<0.7; several minutes on CPU)")
    args = parser.parse_args()
    if args.side_by_side:
        if not args.syncnet_python:
            raise SystemExit("--side-by-side needs --syncnet-python DIR (a syncnet_python checkout)")
        rows = bench_side_by_side(args.syncnet_python, args.quick, args.repeats)
        print_table(rows)
        Path(args.json).write_text(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                                               "rows": rows}, indent=1))
        return 0
    torch.set_grad_enabled(True)  # the reference style keeps autograd on
    frames_count, repeats = (30, 1) if args.quick else (80, 2)
    rows = bench_network(args.device, frames_count, repeats)
    clips = [REAL_CLIPS / n for n in ("clip_a.mp4", "clip_b.mp4", "clip_c.mp4") if (REAL_CLIPS / n).is_file()]
    if clips:
        rows += bench_end_to_end(clips[1:2] if args.quick else clips, args.device, 50 if args.quick else 125)
        if args.modes:
            rows += bench_mode_difference(clips, args.device)
    else:
        print(f"(no real clips in {REAL_CLIPS}: end-to-end rows skipped)")
    if args.syncnet_python and clips:
        rows += bench_reference_pipeline(args.syncnet_python, clips[1], 50 if args.quick else 125)
        if args.with_pipeline:
            rows += bench_reference_run_pipeline(args.syncnet_python, clips[1], 2.0 if args.quick else 5.0)
    print_table(rows)
    Path(args.json).write_text(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                                           "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
