"""The ChArUco calibration board: the one definition that the sheet and ``calibrate camera`` share.

Convention (the *board frame*, OpenCV's for ``cv2.aruco.CharucoBoard``): units are mm,
the origin is the top-left outer corner of the board as printed, x points right, y points
down the sheet and z into the sheet. The top-left square is black and ArUco markers sit in
the white squares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.errors import InvalidArgumentError


@dataclass(frozen=True, kw_only=True)
class CharucoSpec:
    """Size and markers of a ChArUco board."""

    squares_x: int = 7
    """Squares along x (columns)."""

    squares_y: int = 9
    """Squares along y (rows)."""

    square_mm: float = 25.0
    """Side of one chessboard square, in mm."""

    marker_mm: float = 18.0
    """Side of the ArUco marker inside a white square, in mm."""

    dictionary: str = "DICT_5X5_100"
    """OpenCV name of the marker dictionary; not the patch markers' so that the two never mix."""

    @property
    def width_mm(self) -> float:
        """Board width, in mm."""
        return self.squares_x * self.square_mm

    @property
    def height_mm(self) -> float:
        """Board height, in mm."""
        return self.squares_y * self.square_mm

    @property
    def corner_count(self) -> int:
        """Inner chessboard corners, the points that calibration uses."""
        return (self.squares_x - 1) * (self.squares_y - 1)

    def with_square_mm(self, square_mm: float) -> CharucoSpec:
        """Return this board as printed with squares of ``square_mm`` mm, markers scaled alike.

        Raises:
            InvalidArgumentError: the size is not positive.
        """
        if not square_mm > 0:
            raise InvalidArgumentError(f"--square-mm {square_mm} is invalid: expected mm > 0")
        scale = square_mm / self.square_mm
        return replace(self, square_mm=square_mm, marker_mm=self.marker_mm * scale)

    def board(self) -> cv2.aruco.CharucoBoard:
        """Return the OpenCV board, in the board frame and mm."""
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard(
            (self.squares_x, self.squares_y), self.square_mm, self.marker_mm, dictionary
        )

    def black_squares(self) -> NDArray[np.bool_]:
        """Return (squares_y, squares_x), True for black squares: those that hold no marker."""
        board = self.board()
        black = np.ones((self.squares_y, self.squares_x), dtype=bool)
        for corners in board.getObjPoints():
            centre = np.asarray(corners).reshape(4, 3)[:, :2].mean(axis=0)
            column, row = (centre // self.square_mm).astype(int)
            black[row, column] = False
        return black

    def markers(self) -> list[tuple[int, NDArray[np.float64]]]:
        """Return (marker id, (4, 3) corners in mm in ArUco order) for every marker."""
        board = self.board()
        ids = np.asarray(board.getIds()).ravel()
        return [
            (int(marker_id), np.asarray(corners, dtype=np.float64).reshape(4, 3))
            for marker_id, corners in zip(ids, board.getObjPoints(), strict=True)
        ]

    def marker_cells(self, marker_id: int) -> NDArray[np.bool_]:
        """Return the cells of one marker as printed, True where black, border included."""
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        cells = int(dictionary.markerSize) + 2
        image = dictionary.generateImageMarker(marker_id, cells, borderBits=1)
        return np.asarray(image) < 128

    def to_json(self) -> dict[str, object]:
        """Return the fields as a JSON object."""
        return {
            "squares_x": self.squares_x,
            "squares_y": self.squares_y,
            "square_mm": self.square_mm,
            "marker_mm": self.marker_mm,
            "dictionary": self.dictionary,
        }


DEFAULT_CHARUCO = CharucoSpec()
"""The board that ``print --sheet charuco`` draws: 7 × 9 squares of 25 mm, on A4 and Letter."""
