"""Lip-sync a face video (or still image) to an audio track with a Wav2Lip generator.

    python -m integrations.wav2lip.infer --face VIDEO_OR_IMAGE --audio AUDIO --checkpoint CKPT --out OUT.mp4

Steps (as upstream ``inference.py``): decode the face at 25 fps, detect and track the face (MediaPipe, smoothed boxes)
or take a fixed ``--box``, crop it Wav2Lip-style (box stretched to 96x96, 10 % chin padding), compute the mel of the
audio, generate frame ``i`` from the mel window starting at ``floor(80 i / 25)`` with the masked face and the face
itself as reference, paste the generated face back and mux the audio. A still image is repeated for the whole audio;
a video loops when the audio is longer, and audio shorter than the video is an error (``--trim`` cuts the video to
the audio instead). Works with the official ``wav2lip.pth`` / ``wav2lip_gan.pth`` (dict or TorchScript) and with
checkpoints of :mod:`.trainer`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from unisync_loss.progress import progress_bar

from unisync_loss.audio.io import load_audio
from unisync_loss.audio.mel import Wav2LipMel
from unisync_loss.synth.mp4 import write_mp4
from unisync_loss.timing import audio_frame_index
from unisync_loss.video.crops import crop_transforms
from unisync_loss.video.decode import read_video
from unisync_loss.video.tracking import FaceTrack, detect_face_tracks

from .cli import run_reporting_errors
from .models import IMG_SIZE, MEL_STEPS
from .weights import load_model

FPS, MEL_RATE, SAMPLE_RATE = 25.0, 80.0, 16000
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def read_face(path: str | os.PathLike) -> tuple[np.ndarray, bool]:
    """Frames ``(T, H, W, 3)`` uint8 RGB at 25 fps, and whether the input is a still image."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"face: {path} does not exist")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"face: {path} is not a readable image")
        return image[None, ..., ::-1].copy(), True
    return read_video(path, with_audio=False).frames, False


def face_track(frames: np.ndarray, box: list[float] | None) -> FaceTrack:
    """A fixed box for every frame, or the longest MediaPipe face track covering every frame."""
    n = len(frames)
    if box is not None:
        boxes = np.tile(np.asarray(box, np.float32), (n, 1))
        return FaceTrack(0, boxes, boxes.copy(), np.ones(n, np.float32), np.ones(n, bool))
    tracks = detect_face_tracks(frames, min_frames=1)
    if not tracks:
        raise ValueError("face: no face was detected; pass --box X0 Y0 X1 Y1 to give its position")
    best = max(tracks, key=len)
    if best.start != 0 or best.end != n:
        raise ValueError(f"face: the face is tracked only in frames {best.start}..{best.end - 1} of {n}; cut the "
                         "video to those frames or pass --box")
    return best


def mel_chunks(audio: np.ndarray, num_frames: int) -> torch.Tensor:
    """``(num_frames, 1, 80, 16)`` mel windows; frame ``i``'s starts at mel frame ``floor(80 i / 25)``."""
    with torch.no_grad():
        mel = Wav2LipMel()(torch.from_numpy(audio)[None])[0]  # (80, T_mel)
    starts = [min(audio_frame_index(i, FPS, MEL_RATE), mel.shape[1] - MEL_STEPS) for i in range(num_frames)]
    return torch.stack([mel[:, s:s + MEL_STEPS] for s in starts])[:, None]


def plan_frames(num_face_frames: int, still: bool, audio_seconds: float, trim: bool) -> list[int]:
    """Which face frame each output frame uses: a still repeats; a video must not outlast the audio unless trimmed."""
    n_audio = int(audio_seconds * FPS)
    if n_audio < 5:
        raise ValueError(f"audio: {audio_seconds:.2f} s is too short; at least 0.2 s is needed")
    if still:
        return [0] * n_audio
    if num_face_frames > n_audio and not trim:
        raise ValueError(f"audio: {audio_seconds:.2f} s is shorter than the face video ({num_face_frames / FPS:.2f} s);"
                         " pass --trim to cut the video to the audio")
    return [i % num_face_frames for i in range(n_audio)]


@torch.no_grad()
def lip_sync(generator: torch.nn.Module, frames: np.ndarray, track: FaceTrack, audio: np.ndarray, plan: list[int],
             batch_size: int = 32, device: str = "cpu") -> np.ndarray:
    """Output frames ``(len(plan), H, W, 3)`` uint8 RGB with generated mouths."""
    height, width = frames.shape[1:3]
    matrices = crop_transforms(track, "wav2lip", frame_size=(height, width), size=IMG_SIZE)
    mels = mel_chunks(audio, len(plan))
    out = np.empty((len(plan), height, width, 3), np.uint8)
    for begin in progress_bar(range(0, len(plan), batch_size), desc="wav2lip", unit="batch"):
        idx = plan[begin:begin + batch_size]
        crops = np.stack([cv2.warpAffine(frames[i], matrices[i], (IMG_SIZE, IMG_SIZE)) for i in idx])
        faces = torch.from_numpy(crops[..., ::-1].copy()).permute(0, 3, 1, 2).float() / 255.0  # BGR
        masked = faces.clone()
        masked[:, :, IMG_SIZE // 2:] = 0.0
        pred = generator(mels[begin:begin + len(idx)].to(device), torch.cat([masked, faces], 1).to(device))
        pred = (pred.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()[..., ::-1]
        for k, i in enumerate(idx):
            out[begin + k] = paste(frames[i], pred[k], matrices[i])
    return out


def paste(frame: np.ndarray, face: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Warp a 96x96 RGB ``face`` back through the crop ``matrix`` onto a copy of ``frame``."""
    height, width = frame.shape[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    back = cv2.warpAffine(face, matrix, (width, height), flags=flags)
    mask = cv2.warpAffine(np.full(face.shape[:2], 255, np.uint8), matrix, (width, height), flags=flags)
    return np.where(mask[..., None] > 127, back, frame)


def run(face: str, audio: str, checkpoint: str, out: str, box: list[float] | None = None, trim: bool = False,
        batch_size: int = 32, device: str = "cpu") -> Path:
    """Whole pipeline; returns the written mp4."""
    generator = load_model("generator", checkpoint, map_location=device)
    frames, still = read_face(face)
    wave = load_audio(audio).numpy().astype(np.float32)
    plan = plan_frames(len(frames), still, len(wave) / SAMPLE_RATE, trim)
    track = face_track(frames[: max(plan) + 1], box)
    video = lip_sync(generator, frames, track, wave, plan, batch_size, device)
    if video.shape[1] % 2 or video.shape[2] % 2:
        video = video[:, : video.shape[1] // 2 * 2, : video.shape[2] // 2 * 2]
    samples = wave[: int(round(len(plan) / FPS * SAMPLE_RATE))]
    return write_mp4(out, np.ascontiguousarray(video), samples, fps=int(FPS), sample_rate=SAMPLE_RATE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.wav2lip.infer", description=__doc__.splitlines()[0])
    parser.add_argument("--face", required=True, help="video or image with one face")
    parser.add_argument("--audio", required=True, help="audio (or video) file whose speech drives the lips")
    parser.add_argument("--checkpoint", required=True, help="wav2lip.pth, wav2lip_gan.pth or a trainer checkpoint")
    parser.add_argument("--out", required=True, help="output mp4")
    parser.add_argument("--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), help="fixed face box")
    parser.add_argument("--trim", action="store_true", help="cut a face video longer than the audio")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    return run_reporting_errors("wav2lip infer", lambda: run(args.face, args.audio, args.checkpoint, args.out,
                                                             args.box, args.trim, args.batch_size, args.device))


if __name__ == "__main__":
    sys.exit(main())
