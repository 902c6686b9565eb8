"""Printer+camera colour profiles: the colour a camera captures for each printed digital colour.

A profile contains the measured colour of every chart swatch, a degree-2 polynomial that maps
digital sRGB to captured sRGB (fitted by least squares to those swatches), and the
printable palette: the captured swatch colours, for the non-printability score. All
colours are sRGB-encoded values in [0, 1].

The polynomial has the 10 terms ``1, r, g, b, r², g², b², rg, rb, gb`` of the digital colour
per output channel. It bends the tone curve and mixes channels, which covers a printer's
gamut compression and a camera's colour matrix well enough for patch optimisation, and it
is cheap and differentiable in torch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from skimage.color import deltaE_ciede2000, rgb2lab

from harness.calibration.profile_io import (
    read_profile,
    require_array,
    require_string,
    write_profile,
)
from harness.errors import InvalidArgumentError, ProfileError
from harness.printing.color_chart import swatch_colors

logger = logging.getLogger(__name__)

KIND = "patch-harness/color-profile"
VERSION = 1
TERMS = ("1", "r", "g", "b", "r*r", "g*g", "b*b", "r*g", "r*b", "g*b")
"""Polynomial terms of the digital colour, in the row order of ``coefficients``."""

MIN_SWATCHES = 2 * len(TERMS)
"""Measured swatches needed for a fit: twice the terms, so that one bad swatch cannot bend it."""

DEFAULT_NAME = "default-color"
"""Name of the generic profile that ships in ``calibration/``."""

# Assumptions of the generic profile, not measurements: plain paper under office light
# photographed by a webcam with auto exposure.
GENERIC_BLACK = 0.10
"""Captured value of solid black ink."""

GENERIC_WHITE = 0.88
"""Captured value of blank paper."""

GENERIC_SATURATION = 0.8
"""Fraction of a colour's distance from its grey that survives printing and capture."""

GENERIC_CREATED = "2026-12-04T00:00:00+00:00"


def polynomial_features(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the (N, 10) polynomial terms of (N, 3) colours, in ``TERMS`` order."""
    red, green, blue = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    terms = (
        np.ones_like(red),
        red,
        green,
        blue,
        red * red,
        green * green,
        blue * blue,
        red * green,
        red * blue,
        green * blue,
    )
    return np.stack(terms, axis=1)


def delta_e(rgb_a: NDArray[np.float64], rgb_b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the CIEDE2000 colour difference of two (N, 3) sRGB arrays in [0, 1] (D65)."""
    lab_a = rgb2lab(np.clip(rgb_a, 0, 1)[None])[0]
    lab_b = rgb2lab(np.clip(rgb_b, 0, 1)[None])[0]
    difference = deltaE_ciede2000(lab_a, lab_b)  # type: ignore[no-untyped-call]
    return np.asarray(difference, dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class ColorProfile:
    """A printer+camera colour profile; see the module docstring."""

    name: str
    coefficients: NDArray[np.float64]
    """(10, 3) polynomial weights: captured = features(digital) @ coefficients."""

    digital: NDArray[np.float64]
    """(S, 3) digital colours of the swatches that were measured."""

    measured: NDArray[np.float64]
    """(S, 3) captured colours of those swatches."""

    palette_rgb: NDArray[np.float64]
    """(P, 3) printable palette in [0, 1]: the captured swatch colours."""

    generic: bool
    """True for the shipped profile that rests on assumptions, not on a measurement."""

    description: str
    created: str
    """Creation time, ISO 8601."""

    sources: tuple[str, ...] = ()
    """Images the swatches were measured in."""

    mean_delta_e: float = field(init=False)
    """Mean CIEDE2000 between the fitted mapping and the measured swatches."""

    max_delta_e: float = field(init=False)
    """Largest CIEDE2000 between the fitted mapping and the measured swatches."""

    def __post_init__(self) -> None:
        errors = delta_e(self.apply_numpy(self.digital), self.measured)
        object.__setattr__(self, "mean_delta_e", float(errors.mean()))
        object.__setattr__(self, "max_delta_e", float(errors.max()))

    @property
    def palette(self) -> torch.Tensor:
        """The printable palette as a (P, 3) float32 tensor in [0, 1]."""
        return torch.tensor(self.palette_rgb, dtype=torch.float32)

    def apply_numpy(self, rgb: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map (N, 3) digital colours to captured colours, clipped to [0, 1]."""
        return np.clip(polynomial_features(rgb) @ self.coefficients, 0.0, 1.0)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        """Map digital colour to captured colour, differentiably.

        Args:
            images: (B, 3, H, W) sRGB in [0, 1], any float dtype and device.

        Returns:
            (B, 3, H, W) captured sRGB, clamped to [0, 1].

        Raises:
            InvalidArgumentError: ``images`` is not (B, 3, H, W).
        """
        if images.ndim != 4 or images.shape[1] != 3:
            raise InvalidArgumentError(
                f"colour profile input has shape {tuple(images.shape)}: expected (B, 3, H, W)"
            )
        red, green, blue = images[:, 0], images[:, 1], images[:, 2]
        terms = (
            torch.ones_like(red),
            red,
            green,
            blue,
            red * red,
            green * green,
            blue * blue,
            red * green,
            red * blue,
            green * blue,
        )
        features = torch.stack(terms, dim=1)  # (B, 10, H, W)
        weights = torch.as_tensor(self.coefficients, dtype=images.dtype, device=images.device)
        captured = torch.einsum("bthw,tc->bchw", features, weights)
        return captured.clamp(0.0, 1.0)

    def save(self, path: Path) -> None:
        """Write the profile as versioned JSON."""
        write_profile(
            path,
            KIND,
            VERSION,
            {
                "name": self.name,
                "generic": self.generic,
                "description": self.description,
                "created": self.created,
                "model": "polynomial-2",
                "terms": list(TERMS),
                "coefficients": _rounded(self.coefficients),
                "swatches": {
                    "digital": _rounded(self.digital),
                    "measured": _rounded(self.measured),
                },
                "palette": _rounded(self.palette_rgb),
                "fit": {"mean_delta_e": self.mean_delta_e, "max_delta_e": self.max_delta_e},
                "sources": list(self.sources),
            },
        )

    @classmethod
    def load(cls, path: Path) -> ColorProfile:
        """Read a profile written by :meth:`save`.

        Raises:
            ProfileError: the file is missing, of another kind or version, or malformed.
        """
        document = read_profile(path, KIND, VERSION)
        if document.get("terms") != list(TERMS):
            raise ProfileError(f"profile {path} has invalid 'terms': expected {list(TERMS)}")
        swatches = document.get("swatches")
        if not isinstance(swatches, dict):
            raise ProfileError(f"profile {path} has invalid 'swatches': expected an object")
        digital = require_array(swatches, "digital", (None, 3), path)
        measured = require_array(swatches, "measured", (len(digital), 3), path)
        palette = require_array(document, "palette", (None, 3), path)
        if len(palette) == 0 or palette.min() < 0 or palette.max() > 1:
            raise ProfileError(
                f"profile {path} has an invalid 'palette': expected colours in [0, 1]"
            )
        generic = document.get("generic")
        if not isinstance(generic, bool):
            raise ProfileError(f"profile {path} has an invalid 'generic': expected true or false")
        sources = document.get("sources", [])
        if not isinstance(sources, list):
            raise ProfileError(f"profile {path} has an invalid 'sources': expected a list")
        return cls(
            name=require_string(document, "name", path),
            coefficients=require_array(document, "coefficients", (len(TERMS), 3), path),
            digital=digital,
            measured=measured,
            palette_rgb=palette,
            generic=generic,
            description=require_string(document, "description", path),
            created=require_string(document, "created", path),
            sources=tuple(str(source) for source in sources),
        )


def _rounded(array: NDArray[np.float64]) -> list[list[float]]:
    # Ten decimals keep the file readable and are far below 8-bit colour steps.
    rows: list[list[float]] = np.round(array, 10).tolist()
    return rows


def fit_color_profile(
    digital: NDArray[np.float64],
    measured: NDArray[np.float64],
    *,
    name: str,
    description: str,
    created: str,
    sources: tuple[str, ...] = (),
    generic: bool = False,
) -> ColorProfile:
    """Fit the polynomial to swatches by least squares; the palette is the measured colours.

    Args:
        digital: (S, 3) printed colours in [0, 1], S ≥ 10.
        measured: (S, 3) captured colours of the same swatches in [0, 1].

    Raises:
        InvalidArgumentError: fewer swatches than polynomial terms, or shapes differ.
    """
    if digital.shape != measured.shape or digital.ndim != 2 or digital.shape[1] != 3:
        raise InvalidArgumentError(
            f"swatch arrays have shapes {digital.shape} and {measured.shape}: expected (S, 3) both"
        )
    if len(digital) < len(TERMS):
        raise InvalidArgumentError(
            f"{len(digital)} swatches cannot fit {len(TERMS)} polynomial terms: expected more"
        )
    solution, *_ = np.linalg.lstsq(polynomial_features(digital), measured, rcond=None)
    coefficients = np.asarray(solution, dtype=np.float64)
    return ColorProfile(
        name=name,
        coefficients=coefficients,
        digital=digital,
        measured=measured,
        palette_rgb=np.clip(measured, 0.0, 1.0),
        generic=generic,
        description=description,
        created=created,
        sources=sources,
    )


def generic_capture(digital: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the captured colours that the generic profile assumes for (N, 3) digital colours."""
    grey = digital.mean(axis=1, keepdims=True)
    saturated = grey + GENERIC_SATURATION * (digital - grey)
    captured = GENERIC_BLACK + (GENERIC_WHITE - GENERIC_BLACK) * saturated
    return np.asarray(captured, dtype=np.float64)


def generic_profile() -> ColorProfile:
    """Return the generic profile that ``calibration/default-color.json`` holds."""
    digital = swatch_colors().copy()
    return fit_color_profile(
        digital,
        generic_capture(digital),
        name=DEFAULT_NAME,
        description=(
            "Generic profile, not measured: it assumes solid black is captured at "
            f"{GENERIC_BLACK}, blank paper at {GENERIC_WHITE} and {GENERIC_SATURATION:.0%} of "
            "each colour's saturation. Run 'patch-harness calibrate color' on photos of the "
            "printed colour chart for a profile of your printer and camera."
        ),
        created=GENERIC_CREATED,
        generic=True,
    )


def profile_path(spec: str, calibration_dir: Path) -> Path:
    """Return the file of a profile given by name (in ``calibration_dir``) or by path."""
    if spec.endswith(".json") or "/" in spec:
        return Path(spec)
    return calibration_dir / f"{spec}.json"


def load_color_profile(spec: str, calibration_dir: Path) -> ColorProfile:
    """Load a colour profile by name or path.

    The default name falls back to the built-in generic profile when its file is not there,
    as in an installation outside the repository.

    Raises:
        ProfileError: the file is missing (for another name), or not a valid profile.
    """
    path = profile_path(spec, calibration_dir)
    if spec == DEFAULT_NAME and not path.exists():
        logger.info("%s not found; using the built-in generic colour profile", path)
        return generic_profile()
    return ColorProfile.load(path)
