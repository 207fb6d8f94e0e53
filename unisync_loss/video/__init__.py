"""Real videos -> training data: decoding at 25 fps, face detection and tracking, crops, landmarks."""

from .crops import CROP_STYLES, crop_faces, crop_transforms, iter_crops, landmarks_in_crop, warp_frame
from .decode import VideoData, VideoDecodeError, VideoInfo, iter_frames, probe_video, read_audio, read_video
from .faces import Detection, FaceDetector, MediaPipeFaceDetection, MediaPipeFaceMesh, default_detector
from .landmarks import MESH_TO_IBUG68, mesh_to_ibug68, normalize_landmarks, similarity_transform
from .tracking import FaceTrack, FaceTracker, ShotCutDetector, TrackingResult, detect_face_tracks, track_faces

__all__ = [
    "CROP_STYLES", "crop_faces", "crop_transforms", "iter_crops", "landmarks_in_crop", "warp_frame",
    "VideoData", "VideoDecodeError", "VideoInfo", "iter_frames", "probe_video", "read_audio", "read_video",
    "Detection", "FaceDetector", "MediaPipeFaceDetection", "MediaPipeFaceMesh", "default_detector",
    "MESH_TO_IBUG68", "mesh_to_ibug68", "normalize_landmarks", "similarity_transform",
    "FaceTrack", "FaceTracker", "ShotCutDetector", "TrackingResult", "detect_face_tracks", "track_faces",
]
