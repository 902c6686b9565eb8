"""Bad input to ``live``: one ``error:`` line and exit code 2, before any model is built."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import assert_one_line_error, run_cli
from tests.live_helpers import write_sequence


@pytest.fixture
def sequence(tmp_path: Path) -> str:
    """A readable three-frame image sequence."""
    frames = [np.full((48, 64, 3), 100 + 20 * i, np.uint8) for i in range(3)]
    return write_sequence(tmp_path / "frames", frames)


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>camera app settings</body></html>"
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def web_page() -> Iterator[str]:
    """A local server that responds with a web page instead of a stream."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def live(*args: str, captures: Path) -> list[str]:
    return ["live", *args, "--no-keys", "--captures", str(captures), "--max-frames", "1"]


def test_no_such_camera(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(live("7", captures=tmp_path), capsys)
    line = assert_one_line_error(code, err, "cannot open camera 7")
    # The message lists the cameras that open, or the indices tried when none does.
    assert "no camera opens at indices 0..9" in line or "cameras that open:" in line


def test_unreachable_url(
    closed_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{closed_port}/video"
    code, _, err = run_cli(live(url, captures=tmp_path), capsys)
    assert_one_line_error(code, err, f"cannot connect to stream {url}", "connection refused")


def test_url_serves_web_page(
    web_page: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(live(f"{web_page}/", captures=tmp_path), capsys)
    assert_one_line_error(code, err, "sent text/html, not a video stream", "/video")

    code, _, err = run_cli(live(f"{web_page}/missing", captures=tmp_path), capsys)
    assert_one_line_error(code, err, "responded with HTTP 404", "check the path")


def test_password_not_shown(
    closed_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://user:secret@127.0.0.1:{closed_port}/video"
    code, _, err = run_cli(live(url, captures=tmp_path), capsys)
    line = assert_one_line_error(code, err, "user:***@127.0.0.1")
    assert "secret" not in line


def test_unreadable_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"this is not a video" * 100)
    code, _, err = run_cli(live(str(video), captures=tmp_path), capsys)
    assert_one_line_error(code, err, f"cannot read video {video}")


def test_unreadable_image_sequence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "00000.png").write_bytes(b"not a png")
    code, _, err = run_cli(live(str(folder / "%05d.png"), captures=tmp_path), capsys)
    assert_one_line_error(code, err, "cannot read image", "00000.png")


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("missing.mp4", "source 'missing.mp4' not found"),
        ("frames/%05d.png", "no files match the pattern 'frames/%05d.png'"),
        ("ftp://127.0.0.1/video", "unsupported scheme 'ftp'"),
    ],
)
def test_missing_source(
    source: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(live(source, captures=tmp_path), capsys)
    assert_one_line_error(code, err, needle)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--variants", "efficientnet-lite0@3x"], "invalid bit width '3x'"),
        (["--variants", "no-such-model@32"], "no-such-model"),
        (["--target", "toastr"], "unknown class name 'toastr'"),
        (["--patch", "abc123"], "patch 'abc123' not found"),
        (["--camera", "nowhere"], "not found"),
        (["--resolution", "1280by720"], "--resolution '1280by720' is invalid"),
        (["--max-frames", "0"], "--max-frames 0 is invalid"),
        (["--size-mm", "-5"], "--size-mm -5.0 is invalid"),
        (["--fov", "190"], "--fov 190.0 is invalid"),
        (["--crop", "0.5"], "--crop 0.5 is invalid"),
        (["--timeout", "0"], "--timeout 0.0 is invalid"),
    ],
)
def test_bad_option(
    options: list[str],
    needle: str,
    sequence: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [*live(sequence, captures=tmp_path / "captures"), *options]
    args += ["--printables", str(tmp_path), "--calibration", str(tmp_path)]
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, needle)


def test_captures_not_writable(
    sequence: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A path below a regular file cannot be created, even by root.
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    captures = blocker / "captures"
    code, _, err = run_cli(live(sequence, captures=captures), capsys)
    assert_one_line_error(code, err, f"captures folder {captures} is not writable", "--captures")


def test_captures_disk_too_full(
    sequence: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Keeping more space free than any disk has acts like a full disk.
    args = [*live(sequence, captures=tmp_path), "--min-free-mb", "1e12"]
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, "MB free in", "--min-free-mb")
