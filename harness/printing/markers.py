"""ArUco markers that frame a printed patch or colour chart: the one definition of their geometry.

The PDF layout draws the markers from this module and pose estimation reads the same
numbers, so a printed sheet and its detector cannot disagree.

Convention (the *content frame*): units are mm on the printed sheet. The origin is the
top-left corner of the content (the patch, or the swatch area of a colour chart) as seen
when the sheet's text reads upright. x points right, y points down the sheet and z points
into the sheet, away from the viewer, so the frame is right-handed like OpenCV's camera
frame and a frontal view of the sheet has an identity rotation. Every marker lies in the
plane z = 0.

Placement: the four markers sit outside the content at its corners, two above its top edge
and two below its bottom edge. Their outer sides line up with the content's left and right
edges, and a gap of one marker cell separates them from the content. Marker ids run
clockwise from the top-left: top-left, top-right, bottom-right, bottom-left.

Corner order of one marker is ArUco's order, the order that ``cv2.aruco`` detectors return:
the marker's top-left, top-right, bottom-right and bottom-left corner as printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.errors import InvalidArgumentError

DICTIONARY_NAME = "DICT_4X4_50"
"""OpenCV's name of the ArUco dictionary of the patch and chart markers."""

MARKER_CELLS = 6
"""Cells across one marker: 4 data bits plus a black border cell on each side."""

PATCH_MARKER_IDS = (0, 1, 2, 3)
"""Marker ids around a patch: top-left, top-right, bottom-right, bottom-left."""

CHART_MARKER_IDS = (4, 5, 6, 7)
"""Marker ids around the colour chart, in the same order; distinct from a patch's ids."""

MIN_MARKER_MM = 10.0
"""Smallest marker side, in mm, so that the markers of a small patch stay findable by a webcam
at arm's length (an estimate, not a measurement)."""

MAX_MARKER_MM = 18.0
"""Largest marker side, in mm: keeps a 150 mm patch and its markers on one Letter page."""

MARKER_FRACTION = 0.12
"""Marker side as a fraction of the patch side, between the two limits above."""

CHART_MARKER_MM = 20.0
"""Marker side of the colour chart, in mm."""


@dataclass(frozen=True, kw_only=True)
class MarkerFrame:
    """Four markers around a rectangular content area, all lengths in mm.

    See the module docstring for the coordinate convention and the corner order.
    """

    width_mm: float
    """Content width along x, in mm (the patch side for a patch)."""

    height_mm: float
    """Content height along y, in mm."""

    marker_mm: float
    """Side of one marker including its black border, in mm."""

    ids: tuple[int, int, int, int]
    """Marker ids at the top-left, top-right, bottom-right and bottom-left corner."""

    @property
    def gap_mm(self) -> float:
        """White gap between a marker and the content edge, in mm (one marker cell)."""
        return self.marker_mm / MARKER_CELLS

    @property
    def quiet_mm(self) -> float:
        """White margin kept around the markers up to the cut line, in mm (one marker cell)."""
        return self.marker_mm / MARKER_CELLS

    def marker_corners_mm(self, marker_id: int) -> NDArray[np.float64]:
        """Return the corners of one marker in the content frame.

        Returns:
            (4, 3) array of (x, y, z) in mm with z = 0, in ArUco corner order.

        Raises:
            InvalidArgumentError: the id is not one of this frame's ``ids``.
        """
        if marker_id not in self.ids:
            raise InvalidArgumentError(f"marker id {marker_id} is not one of {self.ids}")
        position = self.ids.index(marker_id)
        side = self.marker_mm
        left = 0.0 if position in (0, 3) else self.width_mm - side
        top = -self.gap_mm - side if position in (0, 1) else self.height_mm + self.gap_mm
        return np.array(
            [
                [left, top, 0.0],
                [left + side, top, 0.0],
                [left + side, top + side, 0.0],
                [left, top + side, 0.0],
            ]
        )

    def object_points(self) -> dict[int, NDArray[np.float64]]:
        """Return the (4, 3) corner array of every marker, keyed by marker id (mm)."""
        return {marker_id: self.marker_corners_mm(marker_id) for marker_id in self.ids}

    def content_corners_mm(self) -> NDArray[np.float64]:
        """Return the content's corners, (4, 3) in mm, top-left first and clockwise."""
        width, height = self.width_mm, self.height_mm
        return np.array([[0, 0, 0], [width, 0, 0], [width, height, 0], [0, height, 0]], float)

    def cut_bounds_mm(self) -> tuple[float, float, float, float]:
        """Return the cut rectangle (left, top, right, bottom) in mm, quiet margin included."""
        reach = self.gap_mm + self.marker_mm + self.quiet_mm
        return (-self.quiet_mm, -reach, self.width_mm + self.quiet_mm, self.height_mm + reach)


def marker_side_mm(patch_mm: float) -> float:
    """Return the marker side in mm for a patch of side ``patch_mm`` mm."""
    return min(MAX_MARKER_MM, max(MIN_MARKER_MM, MARKER_FRACTION * patch_mm))


def patch_frame(patch_mm: float) -> MarkerFrame:
    """Return the marker frame around a square patch of side ``patch_mm`` mm.

    Raises:
        InvalidArgumentError: the side is not positive.
    """
    if patch_mm <= 0:
        raise InvalidArgumentError(f"patch size {patch_mm} mm is invalid: expected more than 0")
    return MarkerFrame(
        width_mm=patch_mm,
        height_mm=patch_mm,
        marker_mm=marker_side_mm(patch_mm),
        ids=PATCH_MARKER_IDS,
    )


def chart_frame(width_mm: float, height_mm: float) -> MarkerFrame:
    """Return the marker frame around a colour chart's swatch area of the given size in mm."""
    return MarkerFrame(
        width_mm=width_mm, height_mm=height_mm, marker_mm=CHART_MARKER_MM, ids=CHART_MARKER_IDS
    )


@cache
def aruco_dictionary() -> cv2.aruco.Dictionary:
    """Return the ArUco dictionary of the patch and chart markers."""
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, DICTIONARY_NAME))


def marker_cells(marker_id: int) -> NDArray[np.bool_]:
    """Return the (6, 6) cells of a marker as printed, True where the cell is black.

    Row 0 is the top row and column 0 the left column, border cells included.
    """
    image = aruco_dictionary().generateImageMarker(marker_id, MARKER_CELLS, borderBits=1)
    return np.asarray(image) < 128


def detect_markers(
    image: NDArray[np.uint8], ids: tuple[int, ...] | None = None
) -> dict[int, NDArray[np.float32]]:
    """Find markers of the dictionary in an image, with sub-pixel corners.

    Args:
        image: (H, W) grey or (H, W, 3) RGB image.
        ids: keep only these ids (all ids when None).

    Returns:
        (4, 2) corner arrays in image pixels (x right, y down, pixel centres at integer
        coordinates as in OpenCV), in ArUco corner order, keyed by marker id. A marker seen
        twice keeps its first detection.
    """
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(aruco_dictionary(), parameters)
    corners, found_ids, _ = detector.detectMarkers(grey)

    found: dict[int, NDArray[np.float32]] = {}
    if found_ids is None:
        return found
    for marker_corners, marker_id in zip(corners, np.asarray(found_ids).ravel(), strict=True):
        key = int(marker_id)
        if (ids is None or key in ids) and key not in found:
            found[key] = np.asarray(marker_corners, dtype=np.float32).reshape(4, 2)
    return found
