"""ChArUco board views and OpenCV camera calibration from them."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.printing.charuco import CharucoSpec

MIN_CORNERS = 8
"""Board corners a view must show to be usable; fewer make a poorly constrained pose."""


@dataclass(frozen=True)
class BoardView:
    """The board corners found in one frame."""

    object_points: NDArray[np.float32]
    """(N, 3) corners in the board frame, in mm."""

    image_points: NDArray[np.float32]
    """(N, 2) the same corners in the frame, in px (pixel centres at integer coordinates)."""


@dataclass(frozen=True)
class CameraFit:
    """Result of ``cv2.calibrateCamera`` on a set of views."""

    camera_matrix: NDArray[np.float64]
    """(3, 3) pinhole matrix in px."""

    distortion: NDArray[np.float64]
    """(5,) OpenCV distortion coefficients k1, k2, p1, p2, k3."""

    rms_px: float
    """RMS reprojection error over all corners of all views, in px."""


class BoardDetector:
    """Finds ChArUco corners of one board; build once, call per frame."""

    def __init__(self, spec: CharucoSpec) -> None:
        self.spec = spec
        self._board = spec.board()
        self._detector = cv2.aruco.CharucoDetector(self._board)
        # Row i is the board-frame position of ChArUco corner id i, in mm.
        self._corners_mm = np.asarray(self._board.getChessboardCorners(), dtype=np.float32)

    def detect(self, frame: NDArray[np.uint8]) -> BoardView | None:
        """Return the board's corners in an (H, W, 3) BGR or (H, W) grey frame.

        Returns:
            The view, or None when fewer than ``MIN_CORNERS`` corners are found.
        """
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        corners, ids, _, _ = self._detector.detectBoard(grey)
        if ids is None or len(ids) < MIN_CORNERS:
            return None
        return BoardView(
            object_points=self._corners_mm[np.asarray(ids).ravel()].reshape(-1, 3),
            image_points=np.asarray(corners, dtype=np.float32).reshape(-1, 2),
        )


def calibrate(views: list[BoardView], image_size: tuple[int, int]) -> CameraFit:
    """Fit pinhole intrinsics and distortion to board views with ``cv2.calibrateCamera``.

    Args:
        views: board views, all from frames of ``image_size``.
        image_size: (width, height) in px.
    """
    rms, camera_matrix, distortion, _, _ = cv2.calibrateCamera(
        [view.object_points for view in views],
        [view.image_points for view in views],
        image_size,
        None,
        None,
    )
    return CameraFit(
        camera_matrix=np.asarray(camera_matrix, dtype=np.float64),
        distortion=np.asarray(distortion, dtype=np.float64).ravel(),
        rms_px=float(rms),
    )
