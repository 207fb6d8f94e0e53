"""Audio frontend benchmark: Wav2Lip mel throughput (torch vs the librosa reference pipeline, 1 CPU core, and GPU when
there is one) and HuBERT-large real-time factor and peak memory with chunking.

    python benchmarks/bench_audio.py              # mel on 60 s, HuBERT-large on 1 min (chunked and unchunked)
    python benchmarks/bench_audio.py --quick      # seconds: mel on 10 s, HuBERT-large on 20 s
    python benchmarks/bench_audio.py --hubert-minutes 10   # the 10-minute HuBERT figure (about RTF x 10 min)

HuBERT-large weights cannot be downloaded here, so the model is a randomly initialised ``HubertConfig`` of the size of
``facebook/hubert-large-ls960-ft`` (24 layers, 1024-d, 316 M parameters), saved to a temporary folder and loaded back
through :class:`HubertFrontend`; speed and memory do not depend on the weights' values. The librosa row needs librosa
(not a dependency of the project) and is skipped without it. Prints a table and writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np
import torch

from unisync_loss.audio.features import cached_features
from unisync_loss.audio.hubert import HubertFrontend
from unisync_loss.audio.mel import Wav2LipMel
from unisync_loss.data.clip_store import Clip, ClipStore

RATE = 16000


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Deterministic voiced/unvoiced test signal, float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(120 + 30 * np.sin(2 * np.pi * 0.7 * t)) / RATE
    voiced = sum(np.sin(h * phase) / h for h in range(1, 20)) * np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    return (0.2 * voiced + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def librosa_reference(wave: np.ndarray):
    """The reference pipeline written with librosa/scipy (pre-emphasis, STFT, Slaney mel, dB, normalisation)."""
    try:
        import librosa
        from scipy.signal import lfilter
    except ImportError:
        return None
    basis = librosa.filters.mel(sr=RATE, n_fft=800, n_mels=80, fmin=55, fmax=7600)

    def run():
        spec = np.abs(librosa.stft(y=lfilter([1, -0.97], [1], wave), n_fft=800, hop_length=200, win_length=800))
        db = 20 * np.log10(np.maximum(1e-5, basis @ spec)) - 20
        return np.clip(8 * (db + 100) / 100 - 4, -4, 4)

    return run, librosa.__version__


def bench_mel(seconds: float, repeats: int) -> list[dict]:
    rows = []
    wave = speech_like(seconds)
    torch.set_num_threads(1)
    mel = Wav2LipMel()
    x = torch.from_numpy(wave)[None]
    with torch.no_grad():
        mel(x)
        t_torch = best_time(lambda: mel(x), repeats)
    rows.append({"what": "mel torch (Wav2LipMel)", "device": "cpu, 1 thread", "audio_s": seconds, "time_s": t_torch})
    reference = librosa_reference(wave)
    if reference is not None:
        run, version = reference
        run()
        t_ref = best_time(run, repeats)
        rows.append({"what": f"mel librosa {version} reference", "device": "cpu, 1 thread", "audio_s": seconds,
                     "time_s": t_ref})
        rows[0]["speedup_vs_librosa"] = t_ref / t_torch
    else:
        print("librosa is not importable: reference row skipped")
    if torch.cuda.is_available():
        gpu, xg = Wav2LipMel().cuda(), x.cuda()

        def run_gpu():
            gpu(xg)
            torch.cuda.synchronize()

        with torch.no_grad():
            run_gpu()
            rows.append({"what": "mel torch (Wav2LipMel)", "device": torch.cuda.get_device_name(),
                         "audio_s": seconds, "time_s": best_time(run_gpu, repeats)})
    for row in rows:
        row["audio_s_per_s"] = row["audio_s"] / row["time_s"]
    return rows


def bench_training_sample(clip_seconds: float, samples: int) -> list[dict]:
    """Cost of one training sample's mel window: recomputing the clip's mel (what Wav2Lip's loader does per sample)
    against slicing the memory-mapped cache (computed once per clip)."""
    torch.set_num_threads(1)
    wave = speech_like(clip_seconds)
    mel = Wav2LipMel()
    rng = np.random.default_rng(0)
    starts = rng.integers(0, int(clip_seconds * 80) - 16, samples)
    rows = []

    def recompute_torch():
        with torch.no_grad():
            for start in starts:
                mel(torch.from_numpy(wave)[None])[0, :, start:start + 16]

    rows.append({"what": "per sample: recompute clip mel (torch)", "time_s": best_time(recompute_torch, 1)})
    reference = librosa_reference(wave)
    if reference is not None:
        run = reference[0]
        rows.append({"what": "per sample: recompute clip mel (librosa)",
                     "time_s": best_time(lambda: [run()[:, s:s + 16] for s in starts], 1)})
    with tempfile.TemporaryDirectory() as folder:
        store = ClipStore.create(folder)
        store.write_clip(Clip(id="clip", speaker="s", split="train", audio=wave))
        cached_features(store, "clip", "mel")

        def from_cache():
            for start in starts:
                np.array(cached_features(store, "clip", "mel")[start:start + 16])

        rows.append({"what": "per sample: memory-mapped cache", "time_s": best_time(from_cache, 3)})
    for row in rows:
        row.update(device="cpu, 1 thread", audio_s=clip_seconds, per_sample_ms=1000 * row["time_s"] / samples)
    return rows


def _vm(key: str) -> float:
    """VmRSS / VmHWM of this process in MiB (Linux), NaN elsewhere."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith(key))
    except (OSError, StopIteration):
        return float("nan")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def bench_hubert(runs: list[tuple[float, float]], threads: int) -> list[dict]:
    """``runs``: (audio seconds, chunk seconds) pairs; chunk seconds >= audio seconds means unchunked."""
    from transformers import HubertConfig, HubertModel

    torch.set_num_threads(threads)
    config = HubertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                          feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        HubertModel(config).save_pretrained(folder)
        for seconds, chunk in runs:
            frontend = HubertFrontend(folder, expected_dim=1024, chunk_seconds=chunk, context_seconds=2.0)
            x = torch.from_numpy(speech_like(seconds))[None]
            frontend(x[:, : 2 * RATE])  # warm-up
            baseline = _vm("VmRSS")
            _reset_peak()
            start = time.perf_counter()
            out = frontend(x)
            elapsed = time.perf_counter() - start
            peak = _vm("VmHWM")
            rows.append({
                "what": "HuBERT-large " + (f"chunked {chunk:g} s + 2 s context" if chunk < seconds else "unchunked"),
                "device": f"cpu, {threads} threads", "audio_s": seconds, "time_s": elapsed,
                "rtf": elapsed / seconds, "peak_rss_mib": peak, "peak_above_model_mib": peak - baseline,
                "frames": int(out.shape[1]),
            })
            del frontend, out
    return rows


COLUMNS = [  # (key, header, format, width)
    ("what", "what", "s", 44), ("device", "device", "s", 24), ("audio_s", "audio s", ".0f", 8),
    ("time_s", "time s", ".3f", 8), ("audio_s_per_s", "audio s/s", ".1f", 10), ("rtf", "RTF", ".3f", 6),
    ("speedup_vs_librosa", "speedup", ".1f", 8), ("per_sample_ms", "ms/sample", ".3f", 9),
    ("peak_rss_mib", "peak MiB", ".0f", 9), ("peak_above_model_mib", "+model", ".0f", 7),
]


def print_table(rows: list[dict]) -> None:
    print(f"\n{platform.processor() or platform.machine()}, torch {torch.__version__}")
    print(" ".join(header.ljust(width) if fmt == "s" else header.rjust(width) for _, header, fmt, width in COLUMNS))
    for row in rows:
        cells = []
        for key, _, fmt, width in COLUMNS:
            text = format(row[key], fmt)[:width] if key in row else ""
            cells.append(text.ljust(width) if fmt == "s" else text.rjust(width))
        print(" ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short inputs, for a smoke test")
    parser.add_argument("--hubert-minutes", type=float, default=None, help="audio length for the chunked HuBERT run")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads for HuBERT")
    parser.add_argument("--skip-hubert", action="store_true")
    parser.add_argument("--json", default="bench_audio.json", help="where to write the results")
    args = parser.parse_args()

    mel_seconds, repeats = (10.0, 3) if args.quick else (60.0, 5)
    rows = bench_mel(mel_seconds, repeats) + bench_training_sample(5.0, 50 if args.quick else 200)
    if not args.skip_hubert:
        if args.hubert_minutes is not None:
            runs = [(60.0 * args.hubert_minutes, 30.0)]
        elif args.quick:
            runs = [(20.0, 5.0)]
        else:
            runs = [(60.0, 30.0), (60.0, 1e9)]
        rows += bench_hubert(runs, args.threads)

    print_table(rows)
    with open(args.json, "w") as out:
        json.dump({"torch": torch.__version__, "machine": platform.machine(), "rows": rows}, out, indent=1)
    print(f"\nwrote {os.path.abspath(args.json)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
