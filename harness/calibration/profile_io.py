"""Versioned JSON files of camera and colour profiles, with a schema check on load.

Every profile is a JSON object with ``"kind"`` (what it is) and ``"version"`` (the schema
version of that kind) next to its own fields. A file of another kind or version is
rejected with one line that names both.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from harness.errors import ProfileError


def write_profile(path: Path, kind: str, version: int, fields: dict[str, object]) -> None:
    """Write ``fields`` with their ``kind`` and ``version`` to ``path`` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"kind": kind, "version": version, **fields}
    path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")


def read_profile(path: Path, kind: str, version: int) -> dict[str, object]:
    """Read a profile and check its kind and schema version.

    Raises:
        ProfileError: the file is missing or not JSON, or has another kind or version.
    """
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ProfileError(
            f"profile {path} not found: make it with patch-harness calibrate, or name an "
            "existing .json file"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProfileError(f"cannot read profile {path}: {error}") from None

    if not isinstance(document, dict):
        raise ProfileError(f"profile {path} is invalid: expected a JSON object")
    found = (document.get("kind"), document.get("version"))
    if found != (kind, version):
        raise ProfileError(
            f"profile {path} has kind {found[0]!r} version {found[1]!r}: "
            f"expected kind {kind!r} version {version}; recreate it with patch-harness calibrate"
        )
    return document


def require_array(
    document: dict[str, object], key: str, shape: tuple[int | None, ...], path: Path
) -> NDArray[np.float64]:
    """Return ``document[key]`` as a float array of ``shape`` (None matches any length).

    Raises:
        ProfileError: the field is missing, not numeric, of another shape or not finite.
    """
    value = document.get(key)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.empty(0)
    expected = "×".join("N" if size is None else str(size) for size in shape)
    matches = array.ndim == len(shape) and all(
        size is None or size == actual for size, actual in zip(shape, array.shape, strict=True)
    )
    if value is None or not matches or not np.isfinite(array).all():
        raise ProfileError(
            f"profile {path} has an invalid {key!r}: expected a finite {expected} number array"
        )
    return array


def require_number(document: dict[str, object], key: str, path: Path) -> float:
    """Return ``document[key]`` as a float.

    Raises:
        ProfileError: the field is missing or not a number.
    """
    value = document.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"profile {path} has an invalid {key!r}: expected a number")
    return float(value)


def require_string(document: dict[str, object], key: str, path: Path) -> str:
    """Return ``document[key]``, which must be a string.

    Raises:
        ProfileError: the field is missing or not a string.
    """
    value = document.get(key)
    if not isinstance(value, str):
        raise ProfileError(f"profile {path} has an invalid {key!r}: expected a string")
    return value
