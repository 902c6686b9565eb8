"""White-box or transfer: whether a patch was optimised on a variant or meets it unseen.

``generate`` writes the variants it optimised against into ``patch.json`` as ``"variants"``.
A scored variant in that list is *white-box*; any other is a *transfer* target. A patch
imported with ``print --image`` has no such list, and then the split is unknown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.models.spec import parse_variant
from harness.printing.patchfile import PATCH_JSON, check_patch_id

logger = logging.getLogger(__name__)


def patch_variants(printables: Path, patch_id: str | None) -> tuple[str, ...] | None:
    """Return the canonical names of the variants a patch was optimised on.

    Returns None when the session names no patch, its ``patch.json`` is not found, or the
    file lists no variants, and logs which.
    """
    if patch_id is None:
        return None
    path = printables / check_patch_id(patch_id) / PATCH_JSON
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        logger.warning(
            "cannot read %s (%s): white-box and transfer variants are not separated", path, error
        )
        return None
    names = document.get("variants") if isinstance(document, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        logger.info("%s lists no variants: white-box and transfer variants are not separated", path)
        return None
    try:
        return tuple(parse_variant(name).name for name in names)
    except HarnessError as error:
        logger.warning("%s has a variant this version cannot read: %s", path, error)
        return None


def split_white_box(
    scored: Sequence[str], optimised: Sequence[str] | None
) -> dict[str, bool | None]:
    """Return for each scored variant whether it is white-box (True), transfer (False) or
    unknown (None, when ``optimised`` is None)."""
    if optimised is None:
        return dict.fromkeys(scored, None)
    return {name: name in optimised for name in scored}
