"""Camera profiles: pinhole intrinsics and lens distortion from a ChArUco calibration.

Convention: OpenCV's pinhole model. Pixel coordinates have x right and y down, with pixel
centres at integer coordinates. The camera frame has x right, y down and z forward along
the optical axis. ``camera_matrix`` is ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` in px and
``distortion`` contains OpenCV's coefficients ``k1, k2, p1, p2, k3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from harness.calibration.profile_io import (
    read_profile,
    require_array,
    require_number,
    require_string,
    write_profile,
)
from harness.errors import ProfileError

KIND = "patch-harness/camera-profile"
VERSION = 1


@dataclass(frozen=True, kw_only=True)
class CameraProfile:
    """Intrinsics of one camera at one resolution; see the module docstring."""

    name: str
    camera_matrix: NDArray[np.float64]
    """(3, 3) pinhole matrix in px."""

    distortion: NDArray[np.float64]
    """(5,) OpenCV distortion coefficients k1, k2, p1, p2, k3."""

    image_size: tuple[int, int]
    """(width, height) in px of the frames it was calibrated on."""

    rms_px: float
    """RMS reprojection error of the board corners, in px."""

    views: int
    """Board views the calibration used."""

    board: dict[str, object]
    """The ChArUco board (squares, square and marker size in mm, dictionary)."""

    source: str
    """Video file, image folder or camera the views came from."""

    created: str
    """Creation time, ISO 8601."""

    @property
    def focal_px(self) -> tuple[float, float]:
        """(fx, fy) in px."""
        return float(self.camera_matrix[0, 0]), float(self.camera_matrix[1, 1])

    def save(self, path: Path) -> None:
        """Write the profile as versioned JSON."""
        write_profile(
            path,
            KIND,
            VERSION,
            {
                "name": self.name,
                "created": self.created,
                "image_size": list(self.image_size),
                "camera_matrix": self.camera_matrix.tolist(),
                "distortion": self.distortion.tolist(),
                "rms_px": self.rms_px,
                "views": self.views,
                "board": self.board,
                "source": self.source,
            },
        )

    @classmethod
    def load(cls, path: Path) -> CameraProfile:
        """Read a profile written by :meth:`save`.

        Raises:
            ProfileError: the file is missing, of another kind or version, or malformed.
        """
        document = read_profile(path, KIND, VERSION)
        size = require_array(document, "image_size", (2,), path)
        board = document.get("board")
        views = document.get("views")
        if not isinstance(board, dict) or not isinstance(views, int) or (size <= 0).any():
            raise ProfileError(
                f"profile {path} is invalid: expected 'board' as an object, 'views' as an "
                "integer and a positive 'image_size'"
            )
        return cls(
            name=require_string(document, "name", path),
            camera_matrix=require_array(document, "camera_matrix", (3, 3), path),
            distortion=require_array(document, "distortion", (None,), path),
            image_size=(int(size[0]), int(size[1])),
            rms_px=require_number(document, "rms_px", path),
            views=views,
            board=board,
            source=require_string(document, "source", path),
            created=require_string(document, "created", path),
        )
