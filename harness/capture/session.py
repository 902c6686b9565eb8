"""The session format: one folder per recorded run, written by ``live``, read by ``score``.

Layout of ``captures/<session-id>/``:

- ``session.json``: :class:`SessionInfo`, with ``"kind": "patch-harness/session"`` and the
  schema ``"version"``. It is written when recording starts and replaced atomically when
  recording ends. A session without ``"ended"`` was not closed, because its process was
  killed.
- ``frames.jsonl``: one :class:`FrameRecord` per recorded frame, in frame order, each line
  flushed as it is written. A crash can cut the last line short, and :func:`read_session`
  drops such a line.
- ``video/NNNNNN.avi``: closed video segments of about one second each (MJPG in AVI). A
  segment is written as ``video/NNNNNN-open.avi`` and renamed once it is closed and the lines
  of all its frames are in ``frames.jsonl``. So every closed segment has its lines, and an
  ``-open`` file is a segment that a crash cut short.

Every recorded frame has a line, whether or not it was scored live. ``conditions``,
``input_region`` and ``predictions`` are filled only on frames that were scored live,
because the live view scores the newest frame and skips the rest. A simulated session
(``simulate``) scores nothing live: every line has the measured ``conditions`` and the
``truth`` the frame was rendered under. Under a scoring crop its clean frames also carry
``input_region``: the crop of the patch frame with the same view, so both phases are
classified on the same part of the scene.

Units: times in s, angles in degrees, distances in m, areas and coordinates in px (x right,
y down, pixel centres at integer coordinates), luminance in [0, 1].
"""

from __future__ import annotations

import json
import os
import re
import types
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.errors import SessionError

KIND = "patch-harness/session"
VERSION = 1

SESSION_FILE = "session.json"
FRAMES_FILE = "frames.jsonl"
VIDEO_FOLDER = "video"
SEGMENT_SUFFIX = ".avi"
OPEN_SEGMENT_MARK = "-open"

_SEGMENT_NAME = re.compile(r"^(\d{6})(-open)?\.avi$")

T = TypeVar("T")


class Phase(Enum):
    """What the camera is meant to see: the scene alone, or the scene with the patch."""

    CLEAN = "clean"
    PATCH = "patch"


class EndReason(Enum):
    """Why recording ended."""

    MAX_FRAMES = "max-frames"
    DURATION = "duration"
    QUIT = "quit"
    INTERRUPTED = "interrupted"
    SOURCE_ENDED = "source-ended"
    """The video or image sequence ended, or the stream's server closed it."""

    SOURCE_LOST = "source-lost"
    """The camera or stream stopped sending frames, or a file could not be read."""

    DISK_FULL = "disk-full"
    """The disk ran out of space or a write failed; recording stopped, the run went on."""

    ERROR = "error"
    """An unexpected error; the message names it."""


@dataclass(frozen=True, kw_only=True)
class Conditions:
    """What the camera saw in one scored frame."""

    markers: tuple[int, ...]
    """Ids of the patch's ArUco markers found in the frame."""

    luminance: float
    """Mean luma (Rec. 601) of the whole frame, in [0, 1]."""

    sharpness: float
    """Variance of the Laplacian of luma in [0, 1] units, over the box around the markers
    when any is seen, else over the whole frame; larger is sharper."""

    yaw_deg: float | None = None
    """Rotation of the patch about the camera's y axis, degrees; None without markers."""

    pitch_deg: float | None = None
    """Rotation about the camera's x axis, degrees."""

    roll_deg: float | None = None
    """Rotation about the optical axis, degrees. The three angles compose as
    Rz(roll) · Ry(yaw) · Rx(pitch), as in patch generation."""

    distance_m: float | None = None
    """Distance from the camera centre to the patch centre, in m."""

    patch_area_px: float | None = None
    """Area of the patch's outline in the frame, in px."""

    patch_corners_px: tuple[tuple[float, float], ...] | None = None
    """The patch's four corners in the frame, top-left first and clockwise, in px."""


@dataclass(frozen=True, kw_only=True)
class TrueConditions:
    """The conditions that a simulated frame was rendered under, beside the measured ones."""

    scene: str
    """Name of the scene image behind the sheet."""

    yaw_deg: float | None = None
    """Rotation of the patch about the camera's y axis, degrees; None when no sheet is in
    view (the clean phase)."""

    pitch_deg: float | None = None
    """Rotation about the camera's x axis, degrees."""

    roll_deg: float | None = None
    """Rotation about the optical axis, degrees; the angles compose as in
    :class:`Conditions`."""

    distance_m: float | None = None
    """Distance from the camera centre to the patch centre, in m."""

    centre_px: tuple[float, float] | None = None
    """Projection of the patch centre in the frame, (x, y) in px."""

    brightness: float = 0.0
    """Light added to the printed sheet, [0, 1] pixel units."""

    contrast: float = 1.0
    """Contrast factor of the printed sheet about mid grey."""

    gamma: float = 1.0
    """Gamma applied to the printed sheet."""

    defocus_px: float = 0.0
    """Standard deviation of the Gaussian defocus of the frame, px."""

    noise: float = 0.0
    """Standard deviation of the Gaussian sensor noise, [0, 1] pixel units."""

    jpeg_quality: int = 100
    """JPEG quality the frame was compressed at, 1..100 (100: no compression)."""


@dataclass(frozen=True, kw_only=True)
class Prediction:
    """One variant's output on one frame."""

    top1: int
    """Class index of the largest logit."""

    probability: float
    """Softmax probability of ``top1``."""

    target_probability: float | None = None
    """Softmax probability of the target class; None for an untargeted run."""


@dataclass(frozen=True, kw_only=True)
class FrameRecord:
    """One line of ``frames.jsonl``."""

    index: int
    """Frame number in the source since the run started, from 0; gaps are frames read
    while recording was paused or that the recorder had to drop."""

    time_s: float
    """Capture time since the run started, in s."""

    phase: Phase
    tags: tuple[str, ...] = ()
    """User tags active at capture time (the digit keys)."""

    segment: int
    """Number of the video segment that holds the frame."""

    segment_frame: int
    """Position of the frame in its segment, from 0."""

    conditions: Conditions | None = None
    """None for frames that were not scored live."""

    input_region: tuple[int, int, int, int] | None = None
    """(left, top, right, bottom) of the frame region the variants saw, in px, right and
    bottom exclusive. A simulated clean frame under a scoring crop has the crop of its
    paired patch frame here. None for other frames not scored live."""

    predictions: dict[str, Prediction] = field(default_factory=dict)
    """Live output per variant name; empty for frames not scored live."""

    truth: TrueConditions | None = None
    """The rendering conditions of a simulated frame; None for frames of a real source."""

    @property
    def scored(self) -> bool:
        """Whether the frame was scored live."""
        return bool(self.predictions)


@dataclass(frozen=True, kw_only=True)
class SourceInfo:
    """Where the frames came from and at what size and rate."""

    kind: str
    """``camera``, ``video``, ``images``, ``stream`` or ``sim`` (the virtual camera)."""

    location: str
    """Camera index, path, pattern or URL (without a password)."""

    width: int
    """Frame width in px."""

    height: int
    """Frame height in px."""

    fps: float
    """Nominal frames per second of the source; ``time_s`` of each frame is the measurement."""

    requested_width: int | None = None
    requested_height: int | None = None
    requested_fps: float | None = None


@dataclass(frozen=True, kw_only=True)
class CameraInfo:
    """Intrinsics used for the pose: a calibrated profile, or an assumed field of view."""

    profile: str | None
    """Name or path of the camera profile, None when the field of view was assumed."""

    camera_matrix: tuple[tuple[float, float, float], ...]
    """(3, 3) pinhole matrix at the recorded frame size, in px."""

    distortion: tuple[float, ...]
    """OpenCV distortion coefficients (k1, k2, p1, p2, k3), zero for an assumed camera."""

    assumed_fov_deg: float | None = None
    """Horizontal field of view assumed without a profile, degrees."""


@dataclass(frozen=True, kw_only=True)
class ClassRef:
    """An ImageNet class."""

    index: int
    name: str


@dataclass(frozen=True, kw_only=True)
class PrintedPatch:
    """The printed patch that the markers frame."""

    patch_id: str | None
    """Folder name under printables/, None when only a target was given."""

    size_mm: float
    """Printed side of the patch, in mm; it sets the marker geometry and the distance."""


@dataclass(frozen=True, kw_only=True)
class VariantInfo:
    """A variant scored live, with its clean agreement with fp32."""

    name: str
    agreement: float
    """Top-1 agreement with fp32 on clean evaluation scenes, in [0, 1]."""

    agreement_images: int
    degenerate: bool
    """Agreement below 50 %: the variant is broken, not robust."""


@dataclass(frozen=True, kw_only=True)
class ScoringInfo:
    """How frames were scored live."""

    crop_scale: float | None
    """Side of the input square as a multiple of the patch's extent in px, None for the
    full frame."""

    window: int
    """Scored frames in the rolling rates of the live view."""

    reference: ClassRef | None = None
    """True class of the clean scene when the user gave one."""


@dataclass(frozen=True, kw_only=True)
class VideoInfo:
    """How the video segments are written."""

    codec: str = "MJPG"
    container: str = "avi"
    segment_s: float = 1.0
    """Target length of one segment, in s."""


@dataclass(frozen=True, kw_only=True)
class SessionCounts:
    """Frame counts at the end of recording."""

    source_frames: int
    """Frames read from the source during the run."""

    recorded_frames: int
    """Frames written to video and to ``frames.jsonl``."""

    scored_frames: int
    """Recorded frames that were scored live."""

    dropped_frames: int
    """Frames read while recording but not written, because the recorder fell behind."""

    segments: int
    """Closed video segments."""


@dataclass(frozen=True, kw_only=True)
class SessionEnd:
    """How recording ended."""

    reason: EndReason
    message: str
    time: str
    """ISO 8601 time."""


@dataclass(frozen=True, kw_only=True)
class SessionInfo:
    """The content of ``session.json``."""

    session_id: str
    started: str
    """ISO 8601 time of the run's frame 0 (``time_s`` = 0)."""

    source: SourceInfo
    camera: CameraInfo
    patch: PrintedPatch
    target: ClassRef | None
    """Class the patch targets; None for an untargeted run."""

    variants: tuple[VariantInfo, ...]
    scoring: ScoringInfo
    video: VideoInfo = field(default_factory=VideoInfo)
    software: dict[str, str] = field(default_factory=dict)
    """Versions of patch-harness and the libraries that produced the recording."""

    ended: SessionEnd | None = None
    """None while recording, or when the process was killed."""

    counts: SessionCounts | None = None
    """Set when recording ends."""


@dataclass(frozen=True)
class Session:
    """A session folder as read back by :func:`read_session`."""

    folder: Path
    info: SessionInfo
    frames: tuple[FrameRecord, ...]
    segments: dict[int, Path]
    """Closed video segments by number."""

    open_segments: tuple[Path, ...]
    """Segments that a crash cut short; their frames have lines but no readable video."""

    truncated_tail: bool
    """Whether the last line of ``frames.jsonl`` was cut short and dropped."""

    def has_video(self, record: FrameRecord) -> bool:
        """Return whether a frame's pixels are in a closed segment."""
        return record.segment in self.segments

    def segment_frames(self, segment: int) -> Iterator[NDArray[np.uint8]]:
        """Yield the (H, W, 3) BGR frames of a closed segment in order."""
        yield from read_segment(self.segments[segment])


# --- writing --------------------------------------------------------------------------------


def create_session_folder(captures: Path, started: datetime) -> Path:
    """Create ``captures/<id>/`` with a new id from the start time; never reuse a folder.

    The id is ``YYYYMMDD-HHMMSS`` in local time, with ``-2``, ``-3``... when a folder of
    that name exists.

    Raises:
        SessionError: the captures folder cannot be created or written.
    """
    stem = started.strftime("%Y%m%d-%H%M%S")
    try:
        captures.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            folder = captures / (stem if attempt == 1 else f"{stem}-{attempt}")
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            (folder / VIDEO_FOLDER).mkdir()
            return folder
    except OSError as error:
        raise SessionError(
            f"cannot create a session in {captures}: {error.strerror or error}; choose a "
            "writable folder with --captures"
        ) from None
    raise SessionError(f"{captures} already has 999 sessions named {stem}: clean it up")


def check_writable(captures: Path) -> None:
    """Create ``captures`` if needed and check that a file can be written in it.

    Raises:
        SessionError: the folder cannot be created or written.
    """
    probe = captures / f".write-test-{os.getpid()}"
    try:
        captures.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise SessionError(
            f"captures folder {captures} is not writable: {error.strerror or error}; choose "
            "another with --captures"
        ) from None


def write_session_info(folder: Path, info: SessionInfo) -> None:
    """Write ``session.json`` atomically: a reader sees the old or the new file, never half.

    Raises:
        OSError: the disk is full or the folder is gone.
    """
    document = {"kind": KIND, "version": VERSION, **_encode(info)}
    partial = folder / f".{SESSION_FILE}.partial"
    with partial.open("w", encoding="utf-8") as file:
        file.write(json.dumps(document, indent=2) + "\n")
        file.flush()
        os.fsync(file.fileno())
    partial.replace(folder / SESSION_FILE)


def frame_line(record: FrameRecord) -> str:
    """Return one ``frames.jsonl`` line for a record, with its newline."""
    return json.dumps(_encode(record), separators=(",", ":")) + "\n"


def segment_path(folder: Path, segment: int, *, open_segment: bool = False) -> Path:
    """Return the path of segment ``segment``, or of its open (still written) file."""
    mark = OPEN_SEGMENT_MARK if open_segment else ""
    return folder / VIDEO_FOLDER / f"{segment:06d}{mark}{SEGMENT_SUFFIX}"


# --- reading --------------------------------------------------------------------------------


def read_session_info(folder: Path) -> SessionInfo:
    """Read and check ``session.json``.

    Raises:
        SessionError: the file is missing or not JSON, of another kind or version, or a
            field is missing or of the wrong type.
    """
    path = folder / SESSION_FILE
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SessionError(
            f"{path} not found: {folder} is not a session folder (live writes one per run)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SessionError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise SessionError(f"{path} is invalid: expected a JSON object")
    found = (document.get("kind"), document.get("version"))
    if found != (KIND, VERSION):
        raise SessionError(
            f"{path} has kind {found[0]!r} version {found[1]!r}: expected kind {KIND!r} "
            f"version {VERSION}; it was written by another version of patch-harness"
        )
    return _load(SessionInfo, document, str(path))


def read_frames(path: Path) -> tuple[list[FrameRecord], bool]:
    """Read ``frames.jsonl``; return the records and whether a cut-short last line was dropped.

    Raises:
        SessionError: a line other than the last is not a valid record.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], False
    except OSError as error:
        raise SessionError(f"cannot read {path}: {error}") from None

    lines = data.split(b"\n")
    # Every complete line ends in a newline, so the last piece is empty unless cut short.
    complete, tail = lines[:-1], lines[-1]
    records = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SessionError(f"{path} line {number} is corrupt: {error}") from None
        records.append(_load(FrameRecord, document, f"{path} line {number}"))
    return records, bool(tail.strip())


def read_session(folder: Path) -> Session:
    """Read a session folder, tolerating a cut-short last line and an open segment.

    Raises:
        SessionError: ``session.json`` is missing or invalid, or a line of ``frames.jsonl``
            other than the last is corrupt.
    """
    info = read_session_info(folder)
    frames, truncated = read_frames(folder / FRAMES_FILE)
    segments, open_segments = list_segments(folder)
    return Session(
        folder=folder,
        info=info,
        frames=tuple(frames),
        segments=segments,
        open_segments=open_segments,
        truncated_tail=truncated,
    )


def list_segments(folder: Path) -> tuple[dict[int, Path], tuple[Path, ...]]:
    """Return a session's closed segments by number and its open (crash-cut) segments."""
    segments: dict[int, Path] = {}
    open_segments: list[Path] = []
    video = folder / VIDEO_FOLDER
    for path in sorted(video.iterdir()) if video.is_dir() else []:
        match = _SEGMENT_NAME.match(path.name)
        if match is None:
            continue
        if match.group(2):
            open_segments.append(path)
        else:
            segments[int(match.group(1))] = path
    return segments, tuple(open_segments)


def read_segment(path: Path) -> Iterator[NDArray[np.uint8]]:
    """Yield the (H, W, 3) BGR frames of one video segment.

    Raises:
        SessionError: OpenCV cannot open the file.
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SessionError(f"cannot read video segment {path}")
    try:
        while True:
            ok, image = capture.read()
            if not ok or image is None:
                return
            yield np.asarray(image, dtype=np.uint8)
    finally:
        capture.release()


# --- JSON encoding of the dataclasses above -------------------------------------------------


def _encode(value: object) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _encode(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _load(kind: type[T], value: object, where: str) -> T:
    return cast(T, _decode(kind, value, where))


def decode_field(kind: Any, value: object, where: str) -> Any:
    """Decode one field of parsed JSON into ``kind``, a type annotation of the dataclasses above.

    Readers of older sessions use it to decode ``session.json`` one field at a time.

    Raises:
        SessionError: the value does not match ``kind``; the message names ``where``.
    """
    return _decode(kind, value, where)


@cache
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)


def _decode(kind: Any, value: object, where: str) -> Any:
    """Build a value of type ``kind`` from parsed JSON, naming ``where`` in errors."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [option for option in get_args(kind) if option is not type(None)]
        if value is None and len(options) < len(get_args(kind)):
            return None
        return _decode(options[0], value, where)

    if is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, dict):
            raise _invalid(where, "a JSON object", value)
        arguments = {}
        for item in fields(kind):
            if item.name in value:
                arguments[item.name] = _decode(
                    _hints(kind)[item.name], value[item.name], f"{where}: {item.name}"
                )
            elif item.default is MISSING and item.default_factory is MISSING:
                raise SessionError(f"{where} is invalid: field {item.name!r} is missing")
        return kind(**arguments)

    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(value)
        except ValueError:
            expected = ", ".join(repr(member.value) for member in kind)
            raise _invalid(where, f"one of {expected}", value) from None
    if origin is tuple:
        arguments_of = get_args(kind)
        if not isinstance(value, list):
            raise _invalid(where, "a JSON array", value)
        if len(arguments_of) == 2 and arguments_of[1] is Ellipsis:
            return tuple(_decode(arguments_of[0], item, where) for item in value)
        if len(value) != len(arguments_of):
            raise _invalid(where, f"an array of {len(arguments_of)} items", value)
        return tuple(_decode(a, item, where) for a, item in zip(arguments_of, value, strict=True))
    if origin is dict:
        if not isinstance(value, dict):
            raise _invalid(where, "a JSON object", value)
        item_kind = get_args(kind)[1]
        return {
            str(key): _decode(item_kind, item, f"{where}: {key}") for key, item in value.items()
        }
    return _decode_scalar(kind, value, where)


def _decode_scalar(kind: Any, value: object, where: str) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise _invalid(where, "true or false", value)
        return value
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _invalid(where, "an integer", value)
        return value
    if kind is float:
        if value is None:
            return float("nan")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _invalid(where, "a number", value)
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise _invalid(where, "a string", value)
        return value
    raise TypeError(f"no JSON decoding for {kind!r}")


def _invalid(where: str, expected: str, value: object) -> SessionError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return SessionError(f"{where} is invalid: expected {expected}, got {shown}")
