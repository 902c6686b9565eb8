"""On-disk cache of calibrated and trained variants, keyed by everything that shapes them."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bump when a change to the quantizers makes earlier cached variants wrong.
QUANTIZER_VERSION = 3


def default_cache_dir() -> Path:
    """Return ``$HARNESS_CACHE_DIR``, else ``$XDG_CACHE_HOME/patch-harness`` or ``~/.cache/...``."""
    explicit = os.environ.get("HARNESS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "patch-harness"


@dataclass(frozen=True)
class VariantCache:
    """A folder of cached variants; ``None`` root disables caching."""

    root: Path | None

    def key(self, fields: dict[str, Any]) -> str:
        """Return a stable 16-hex-digit key of JSON-serialisable ``fields``."""
        payload = json.dumps({**fields, "quantizer": QUANTIZER_VERSION}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def path(self, model: str, stem: str, key: str, suffix: str) -> Path | None:
        """Return where an entry lives, or None when caching is off."""
        if self.root is None:
            return None
        folder = self.root / "variants" / _safe(model)
        return folder / f"{_safe(stem)}-{key}{suffix}"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[-80:]
