"""GeneFace's data conventions, exactly, with checks that say what is wrong when data does not follow them.

* **3DMM coefficients** (Deep3DFaceRecon, BFM09 front model): 257 per frame, split as identity 0:80, expression
  80:144, texture 144:224, angles 224:227, gamma (lighting) 227:254, translation 254:257.
* **idexp_lm3d**: the 68 iBUG landmarks of the identity + expression displacement only (no mean shape, no pose),
  ``10 * (id @ B_id[kp] + exp @ B_exp[kp])`` reshaped to ``(T, 68, 3)``; ``kp`` are the ``keypoints`` stored in
  ``BFM_model_front.mat``, used by GeneFace directly as 0-based vertex rows (Deep3DFaceRecon subtracts 1 first).
* **Mouth**: landmarks 48:68, i.e. 20 points x 3 = 60 values per frame, flattened point-major (x, y, z of point 48,
  then of 49, ...). That is the visual input of GeneFace's SyncNet.
* **HuBERT**: ``facebook/hubert-large-ls960-ft`` last hidden layer, 1024-d at 50 frames/s: 2 feature frames per
  25 fps video frame, a 5-frame video window ``[i, i+5)`` pairs with HuBERT frames ``[2i, 2i+10)``. A waveform of ``S``
  samples at 16 kHz gives ``(S - 80) // 320`` frames (a 400-sample receptive field at hop 320). Batches pad the HuBERT
  length up to a multiple of 8 with zeros and use ``len // 2`` video frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unisync_loss.validation import describe, is_integer

# ------------------------------------------------------------------------------------------------- 3DMM coefficients
#: Deep3DFaceRecon's 257-coefficient layout: name -> (start, stop).
COEFF_SPLIT = {
    "identity": (0, 80), "expression": (80, 144), "texture": (144, 224),
    "angles": (224, 227), "gamma": (227, 254), "translation": (254, 257),
}
NUM_COEFFS = 257
NUM_EXPRESSION = 64
NUM_IDENTITY = 80
#: Coefficient vector lengths this module understands.
KNOWN_COEFF_LENGTHS = {NUM_COEFFS: "full Deep3DFaceRecon coefficients", NUM_EXPRESSION: "expression coefficients"}

# ------------------------------------------------------------------------------------------------- landmarks
NUM_LANDMARKS = 68
MOUTH = slice(48, 68)
#: GeneFace's "eye" subset (brows, nose and eyes) used beside the mouth.
EYES = slice(17, 48)
NUM_MOUTH_POINTS = 20
MOUTH_DIM = NUM_MOUTH_POINTS * 3
IDEXP_SCALE = 10.0
MEDIAPIPE_POINTS = 468

#: ``keypoints`` of ``BFM_model_front.mat`` (the same values as in ``facemodel_info.mat``), as stored (MATLAB 1-based).
BFM_FRONT_KEYPOINTS = (
    16645, 16889, 16468, 16265, 32245, 32940, 33376, 33655, 33839, 34023, 34313, 34767, 35473, 27817, 27609, 27209,
    27441, 28112, 28788, 29178, 29383, 29550, 30289, 30455, 30663, 31057, 31717, 8162, 8178, 8188, 8193, 6516,
    7244, 8205, 9164, 9884, 2216, 3887, 4921, 5829, 4802, 3641, 10456, 11354, 12384, 14067, 12654, 11493, 5523,
    6026, 7496, 8216, 8936, 10396, 10796, 9556, 8837, 8237, 7637, 6916, 5910, 7385, 8224, 9065, 10538, 8830, 8230,
    7630,
)
NUM_BFM_FRONT_VERTICES = 35709

# ------------------------------------------------------------------------------------------------- HuBERT timing
HUBERT_RATE = 50.0
HUBERT_DIM = 1024
HUBERT_PER_VIDEO_FRAME = 2
HUBERT_WINDOW = 10
VIDEO_WINDOW = 5
HUBERT_HOP = 320
HUBERT_RECEPTIVE_FIELD = 400
#: GeneFace pads a batch's HuBERT length up to a multiple of this.
HUBERT_LENGTH_MULTIPLE = 8


# ================================================================================================= coefficients
def split_coeffs(coeffs):
    """``(..., 257)`` Deep3DFaceRecon coefficients -> dict of views named as in :data:`COEFF_SPLIT`."""
    _check_coeff_length(coeffs, "coeffs", (NUM_COEFFS,))
    return {name: coeffs[..., a:b] for name, (a, b) in COEFF_SPLIT.items()}


def expression_coeffs(coeffs):
    """The 64 expression coefficients of ``(..., 257)`` or ``(..., 64)`` arrays (returned as is)."""
    length = _check_coeff_length(coeffs, "coeffs", tuple(KNOWN_COEFF_LENGTHS))
    return coeffs if length == NUM_EXPRESSION else coeffs[..., slice(*COEFF_SPLIT["expression"])]


def _check_coeff_length(coeffs, name: str, allowed: tuple[int, ...]) -> int:
    shape = getattr(coeffs, "shape", None)
    if shape is None or len(shape) < 1:
        raise ValueError(f"{name}: expected an array (..., {' or '.join(map(str, allowed))}), got {describe(coeffs)}")
    length = shape[-1]
    if length not in allowed:
        known = ", ".join(f"{n} ({KNOWN_COEFF_LENGTHS[n]})" for n in allowed)
        hint = ""
        if length == NUM_IDENTITY + NUM_EXPRESSION:
            hint = "; 144 looks like identity + expression only: pass coeffs[..., 80:144]"
        raise ValueError(f"{name}: last axis must be one of {known}, got {length} in {describe(coeffs)}{hint}")
    return length


# ================================================================================================= landmarks
def landmark_points(landmarks, name: str = "landmarks", num_points: int = NUM_LANDMARKS, dims: int = 3):
    """Validate landmarks and return them as ``(..., num_points, dims)``; flat ``(..., num_points * dims)`` accepted.

    Errors name the likely mistake: a 468-point MediaPipe mesh where 68 iBUG points are expected, 2D where 3D is
    expected, or a flattened layout of the wrong size.
    """
    shape = tuple(getattr(landmarks, "shape", ()))
    if len(shape) < 1:
        raise ValueError(f"{name}: expected landmarks (..., {num_points}, {dims}), got {describe(landmarks)}")
    if shape[-1] == num_points * dims and (len(shape) < 2 or shape[-2] != num_points):
        return landmarks.reshape(*shape[:-1], num_points, dims)
    if len(shape) >= 2 and shape[-2:] == (num_points, dims):
        return landmarks
    points, last = (shape[-2], shape[-1]) if len(shape) >= 2 else (None, shape[-1])
    expected = f"(..., {num_points}, {dims}) or (..., {num_points * dims})"
    if points == MEDIAPIPE_POINTS or last in (MEDIAPIPE_POINTS * 2, MEDIAPIPE_POINTS * 3):
        why = (f"these look like a {MEDIAPIPE_POINTS}-point MediaPipe face mesh, but this expects the "
               f"{num_points}-point iBUG layout (GeneFace's idexp_lm3d); convert the mesh to iBUG points first")
    elif points == num_points and last in (2, 3) and last != dims:
        why = (f"{last}D landmarks given where {dims}D are expected"
               + ("; GeneFace's idexp_lm3d are 3D (x, y, z) from the 3DMM, not image points" if dims == 3 else ""))
    elif last in (num_points * 2, num_points * 3) and last != num_points * dims:
        why = f"a flattened {num_points}x{last // num_points} layout given where {num_points}x{dims} is expected"
    else:
        why = f"expected {num_points} points of {dims} coordinates"
    raise ValueError(f"{name}: {why}; expected {expected}, got {describe(landmarks)}")


def mouth_landmarks(landmarks, name: str = "landmarks"):
    """``(..., 68, 3)`` (or flat ``(..., 204)``) -> GeneFace's mouth subset ``(..., 20, 3)`` (points 48:68)."""
    return landmark_points(landmarks, name)[..., MOUTH, :]


def mouth_vector(landmarks, name: str = "landmarks"):
    """``(..., 68, 3)`` -> ``(..., 60)``: GeneFace's ``mouth_idexp_lm3d`` (point-major flattening)."""
    mouth = mouth_landmarks(landmarks, name)
    return mouth.reshape(*mouth.shape[:-2], MOUTH_DIM)


def geneface_keypoint_rows() -> np.ndarray:
    """``(68,)`` vertex rows GeneFace takes the landmark bases from (the stored keypoints, used as 0-based)."""
    return np.asarray(BFM_FRONT_KEYPOINTS, dtype=np.int64)


def deep3d_keypoint_rows() -> np.ndarray:
    """``(68,)`` vertex rows Deep3DFaceRecon projects landmarks from (stored keypoints minus one)."""
    return geneface_keypoint_rows() - 1


@dataclass(frozen=True)
class KeypointBasis:
    """BFM bases restricted to the 68 keypoints: ``identity (68, 3, 80)``, ``expression (68, 3, 64)``."""

    identity: np.ndarray
    expression: np.ndarray

    @classmethod
    def from_full_bases(cls, id_base: np.ndarray, exp_base: np.ndarray,
                        keypoints: np.ndarray | None = None) -> "KeypointBasis":
        """From full bases ``(3N, 80)`` and ``(3N, 64)`` (xyz-interleaved rows) and 0-based keypoint rows."""
        rows = geneface_keypoint_rows() if keypoints is None else np.asarray(keypoints, dtype=np.int64).ravel()
        id_base, exp_base = np.asarray(id_base, np.float32), np.asarray(exp_base, np.float32)
        for arr, arr_name, width in ((id_base, "id_base", NUM_IDENTITY), (exp_base, "exp_base", NUM_EXPRESSION)):
            if arr.ndim != 2 or arr.shape[0] % 3 or arr.shape[1] != width:
                raise ValueError(f"{arr_name}: expected (3 * num_vertices, {width}), got {describe(arr)}")
        vertices = id_base.shape[0] // 3
        if rows.shape != (NUM_LANDMARKS,) or rows.min() < 0 or rows.max() >= vertices:
            raise ValueError(f"keypoints: expected {NUM_LANDMARKS} vertex rows in [0, {vertices}), "
                             f"got {describe(rows)}")
        return cls(identity=id_base.reshape(vertices, 3, NUM_IDENTITY)[rows],
                   expression=exp_base.reshape(vertices, 3, NUM_EXPRESSION)[rows])


def load_keypoint_basis(path: str | Path) -> KeypointBasis:
    """Read ``BFM_model_front.mat`` (``idBase``, ``exBase``, ``keypoints``) and keep the keypoint rows as GeneFace."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no BFM_model_front.mat (Deep3DFaceRecon's converted BFM09 front model)")
    model = loadmat(str(path))
    missing = [k for k in ("idBase", "exBase", "keypoints") if k not in model]
    if missing:
        raise ValueError(f"{path}: not a BFM front model, missing {missing}")
    return KeypointBasis.from_full_bases(model["idBase"], model["exBase"], np.asarray(model["keypoints"]).ravel())


def idexp_lm3d(identity: np.ndarray, expression: np.ndarray, basis: KeypointBasis) -> np.ndarray:
    """GeneFace's ``idexp_lm3d``: ``(T, 80)`` identity and ``(T, 64)`` expression -> ``(T, 68, 3)`` float32."""
    identity, expression = np.asarray(identity, np.float32), np.asarray(expression, np.float32)
    if identity.ndim != 2 or identity.shape[1] != NUM_IDENTITY:
        raise ValueError(f"identity: expected (T, {NUM_IDENTITY}), got {describe(identity)}")
    if expression.ndim != 2 or expression.shape[1] != NUM_EXPRESSION or len(expression) != len(identity):
        raise ValueError(f"expression: expected ({len(identity)}, {NUM_EXPRESSION}), got {describe(expression)}")
    offsets = np.einsum("ti,kdi->tkd", identity, basis.identity) + np.einsum("te,kde->tkd", expression,
                                                                             basis.expression)
    return (IDEXP_SCALE * offsets).astype(np.float32)


# ================================================================================================= HuBERT timing
def hubert_num_frames(num_samples: int) -> int:
    """HuBERT frames GeneFace keeps for ``num_samples`` of 16 kHz audio: ``(S - 80) // 320``."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples < HUBERT_RECEPTIVE_FIELD:
        raise ValueError(f"num_samples: expected an integer >= {HUBERT_RECEPTIVE_FIELD} (one HuBERT frame), "
                         f"got {num_samples!r}")
    return int(num_samples - (HUBERT_RECEPTIVE_FIELD - HUBERT_HOP)) // HUBERT_HOP


def padded_lengths(hubert_lengths) -> tuple[int, int]:
    """GeneFace's batch padding: ``(audio_len, video_len)`` = (max length rounded up to a multiple of 8, half)."""
    lengths = [int(n) for n in hubert_lengths]
    if not lengths or min(lengths) < 1:
        raise ValueError(f"hubert_lengths: expected positive lengths, got {hubert_lengths!r}")
    longest = max(lengths)
    audio_len = longest + (-longest) % HUBERT_LENGTH_MULTIPLE
    return audio_len, audio_len // HUBERT_PER_VIDEO_FRAME


def hubert_window_indices(video_start: int) -> np.ndarray:
    """``(10,)`` HuBERT frames paired with the 5 video frames starting at ``video_start``."""
    if not is_integer(video_start) or video_start < 0:
        raise ValueError(f"video_start: expected a non-negative integer, got {video_start!r}")
    return HUBERT_PER_VIDEO_FRAME * int(video_start) + np.arange(HUBERT_WINDOW)


def check_hubert_rate(num_audio_frames: int, num_video_frames: int, name: str = "hubert") -> None:
    """Require 2 HuBERT frames per video frame (within a few frames); say so when the features look like 25 Hz."""
    tolerance = max(4, int(0.01 * HUBERT_PER_VIDEO_FRAME * num_video_frames))
    expected = HUBERT_PER_VIDEO_FRAME * num_video_frames
    if abs(num_audio_frames - expected) <= tolerance:
        return
    if abs(num_audio_frames - num_video_frames) <= tolerance:
        raise ValueError(
            f"{name}: {num_audio_frames} frames for {num_video_frames} video frames looks like 25 Hz (one feature "
            f"frame per video frame); GeneFace's HuBERT is 50 Hz, {HUBERT_PER_VIDEO_FRAME} frames per video frame: "
            f"expected about {expected}. Extract the last layer at 50 Hz (hop 320 at 16 kHz)"
        )
    rate = num_audio_frames / max(num_video_frames, 1) * 25.0
    raise ValueError(
        f"{name}: {num_audio_frames} frames for {num_video_frames} video frames is {rate:.1f} frames/s, expected "
        f"{HUBERT_RATE:g} ({expected} +/- {tolerance}); audio and video must cover the same span"
    )


def align_hubert_to_video(hubert, num_video_frames: int, name: str = "hubert"):
    """Check the rate, then zero-pad or trim ``(T_a, F)`` features to exactly ``2 * num_video_frames`` frames."""
    shape = tuple(getattr(hubert, "shape", ()))
    if len(shape) != 2:
        raise ValueError(f"{name}: expected (T_a, F) features at 50 Hz, got {describe(hubert)}")
    check_hubert_rate(shape[0], num_video_frames, name)
    target = HUBERT_PER_VIDEO_FRAME * num_video_frames
    if shape[0] >= target:
        return hubert[:target]
    pad = np.zeros((target - shape[0], shape[1]), dtype=np.asarray(hubert[:1]).dtype)
    return np.concatenate([np.asarray(hubert), pad], axis=0)
