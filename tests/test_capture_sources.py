"""Frame sources: naming, image sequences, video files and MJPEG streams served locally."""

from __future__ import annotations

import http.server
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from harness.capture.sampling import sample_source
from harness.capture.sources import (
    CaptureSettings,
    FrameReader,
    SourceKind,
    SourceLost,
    open_reader,
    parse_source,
    redact_url,
    sequence_files,
)
from harness.errors import DataError, SourceError
from tests.live_helpers import MjpegStream, jpeg, serve_mjpeg, write_sequence, write_video


def shade(value: int, size: tuple[int, int] = (64, 48)) -> NDArray[np.uint8]:
    """A flat BGR frame of grey level ``value``."""
    return np.full((size[1], size[0], 3), value, np.uint8)


def read_all(reader: FrameReader) -> list[NDArray[np.uint8]]:
    frames = []
    with reader:
        while (frame := reader.read()) is not None:
            frames.append(frame)
    return frames


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A folder with an image, a video and an image folder."""
    cv2.imwrite(str(tmp_path / "still.png"), shade(10))
    write_video(tmp_path / "clip.avi", [shade(10 * i) for i in range(5)], fps=12.0)
    write_sequence(tmp_path / "frames", [shade(10 * i) for i in range(3)])
    return tmp_path


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0", SourceKind.CAMERA),
        ("12", SourceKind.CAMERA),
        ("http://192.168.1.5:8080/video", SourceKind.STREAM),
        ("rtsp://camera.local/stream1", SourceKind.STREAM),
        ("MEDIA/still.png", SourceKind.IMAGES),
        ("MEDIA/frames", SourceKind.IMAGES),
        ("MEDIA/frames/%05d.png", SourceKind.IMAGES),
        ("MEDIA/clip.avi", SourceKind.VIDEO),
    ],
)
def test_parse_source_kinds(text: str, kind: SourceKind, media: Path) -> None:
    spec = parse_source(text.replace("MEDIA", str(media)))
    assert spec.kind is kind
    assert spec.live is (kind in (SourceKind.CAMERA, SourceKind.STREAM))


def test_parse_source_rejects(media: Path) -> None:
    with pytest.raises(DataError, match=r"'nowhere\.mp4' not found"):
        parse_source("nowhere.mp4")
    with pytest.raises(DataError, match="no files match the pattern"):
        parse_source(str(media / "frames" / "%03d.jpg"))
    with pytest.raises(SourceError, match="unsupported scheme 'file'"):
        parse_source("file:///dev/video0")
    empty = media / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="contains no images"):
        parse_source(str(empty))


def test_sequence_order_is_numeric(tmp_path: Path) -> None:
    # Names that sort differently as text and as numbers catch a plain sorted().
    for name in ("f10.png", "f9.png", "f100.png"):
        cv2.imwrite(str(tmp_path / name), shade(0))
    (tmp_path / "notes.txt").write_text("not an image")
    assert [p.name for p in sequence_files(str(tmp_path))] == ["f9.png", "f10.png", "f100.png"]
    assert [p.name for p in sequence_files(str(tmp_path / "f%d.png"))] == [
        "f9.png",
        "f10.png",
        "f100.png",
    ]
    # A zero-padded width matches only names of that width.
    cv2.imwrite(str(tmp_path / "f007.png"), shade(0))
    assert [p.name for p in sequence_files(str(tmp_path / "f%03d.png"))] == ["f007.png", "f100.png"]


def test_image_sequence_reader(media: Path) -> None:
    spec = parse_source(str(media / "frames" / "%05d.png"))
    reader = open_reader(spec, CaptureSettings(width=32, height=24, fps=15.0))
    assert reader.fps == 15.0
    frames = read_all(reader)
    assert [frame.shape for frame in frames] == [(24, 32, 3)] * 3
    assert [int(frame[0, 0, 0]) for frame in frames] == [0, 10, 20]
    assert open_reader(spec, CaptureSettings()).fps == 30.0


def test_image_sequence_unreadable_frame(tmp_path: Path) -> None:
    pattern = write_sequence(tmp_path, [shade(0), shade(10)])
    (tmp_path / "00001.png").write_bytes(b"cut short")
    with open_reader(parse_source(pattern), CaptureSettings()) as reader:
        assert reader.read() is not None
        with pytest.raises(SourceLost, match=r"cannot read image .*00001\.png"):
            reader.read()


def test_video_reader(media: Path) -> None:
    spec = parse_source(str(media / "clip.avi"))
    reader = open_reader(spec, CaptureSettings())
    assert reader.fps == pytest.approx(12.0)
    frames = read_all(reader)
    assert len(frames) == 5
    # MJPG is lossy, so flat grey levels come back within a few levels.
    assert [int(frame.mean()) for frame in frames] == pytest.approx([0, 10, 20, 30, 40], abs=3)
    resized = open_reader(spec, CaptureSettings(width=20, height=10, fps=50.0))
    assert resized.fps == 50.0
    assert read_all(resized)[0].shape == (10, 20, 3)


def test_calibration_sampling(media: Path) -> None:
    video = sample_source(str(media / "clip.avi"), max_frames=3, duration_s=1.0)
    assert video.count == 3
    assert [int(frame.mean()) for frame in video.frames()] == pytest.approx([0, 20, 40], abs=3)
    folder = sample_source(str(media / "frames"), max_frames=1, duration_s=1.0)
    assert folder.count == 3
    assert len(list(folder.frames())) == 3


@pytest.mark.parametrize("with_length", [True, False])
def test_mjpeg_frames(with_length: bool) -> None:
    sent = [shade(40 * i, (80, 60)) for i in range(5)]
    stream = MjpegStream([jpeg(frame) for frame in sent], fps=100.0, with_length=with_length)
    with serve_mjpeg(stream) as url:
        reader = open_reader(parse_source(url), CaptureSettings())
        received = read_all(reader)
    assert len(received) == 5
    for got, expected in zip(received, sent, strict=True):
        assert got.shape == expected.shape
        assert abs(float(got.mean()) - float(expected.mean())) < 3


@pytest.mark.parametrize("dashes", [True, False])
def test_mjpeg_boundary_with_dashes(dashes: bool) -> None:
    # Some cameras put the delimiter's two dashes into the boundary parameter and send
    # "--myboundary" lines; a boundary that starts with dashes is also valid RFC 2046.
    stream = MjpegStream([jpeg(shade(50))] * 3, fps=100.0, boundary="--myboundary")
    stream.dashes = dashes
    with serve_mjpeg(stream) as url:
        assert len(read_all(open_reader(parse_source(url), CaptureSettings()))) == 3


class _StallingHandler(http.server.BaseHTTPRequestHandler):
    """Sends one frame, then keeps the connection open without sending more."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=b")
        self.end_headers()
        data = jpeg(shade(90))
        self.wfile.write(b"--b\r\nContent-Length: %d\r\n\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()
        time.sleep(3.0)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def stalling_server() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _StallingHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/video"
    server.shutdown()
    server.server_close()


def test_mjpeg_stall_is_lost(stalling_server: str) -> None:
    settings = CaptureSettings(stall_timeout_s=0.5)
    with open_reader(parse_source(stalling_server), settings) as reader:
        assert reader.read() is not None
        started = time.monotonic()
        with pytest.raises(SourceLost, match=r"sent no frame for 0\.5 s"):
            reader.read()
    assert time.monotonic() - started < 2.5


def test_redact_url() -> None:
    assert redact_url("http://user:pw@10.0.0.2:8080/video") == "http://user:***@10.0.0.2:8080/video"
    assert redact_url("http://10.0.0.2/video") == "http://10.0.0.2/video"
    assert redact_url("frames/%05d.png") == "frames/%05d.png"
    spec = parse_source("rtsp://admin:secret@cam/stream")
    assert "secret" not in spec.description
