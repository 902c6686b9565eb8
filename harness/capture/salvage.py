"""Reading what is readable of an older session, and saying what was assumed.

:func:`harness.capture.session.read_session` reads sessions of the current schema and
already tolerates a cut-short last line of ``frames.jsonl`` and an open segment.
:func:`salvage_session` also reads a ``session.json`` of an older schema version. Each
field that such a file lacks, or that no longer decodes, is replaced by a stated default,
and a note records it. Frames are never invented: every frame keeps its recorded line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from harness.capture.session import (
    FRAMES_FILE,
    KIND,
    SESSION_FILE,
    VERSION,
    CameraInfo,
    PrintedPatch,
    ScoringInfo,
    Session,
    SessionInfo,
    SourceInfo,
    decode_field,
    list_segments,
    read_frames,
    read_session,
)
from harness.errors import SessionError

DEFAULT_PATCH_MM = 100.0
"""Printed patch side assumed when an older session does not record it, in mm."""


@dataclass(frozen=True)
class SalvagedSession:
    """A session as far as it could be read, with notes on what was assumed."""

    session: Session
    version: int
    """Schema version of ``session.json``."""

    notes: tuple[str, ...]
    """One sentence per field that was missing or invalid and replaced by a default."""


def salvage_session(folder: Path) -> SalvagedSession:
    """Read a session folder of this or an older schema version.

    Raises:
        SessionError: ``folder`` has no ``session.json``, the file is not a JSON object of
            kind ``patch-harness/session``, its version is newer than this software reads,
            or a line of ``frames.jsonl`` other than the last is corrupt.
    """
    path = folder / SESSION_FILE
    document = _read_document(folder, path)
    version = document.get("version")
    if version == VERSION:
        return SalvagedSession(read_session(folder), VERSION, ())
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < VERSION:
        raise SessionError(
            f"{path} has version {version!r}: this patch-harness reads versions 0..{VERSION}; "
            "update patch-harness to read it"
        )

    info, notes = _older_info(document, folder, str(path))
    frames, truncated = read_frames(folder / FRAMES_FILE)
    segments, open_segments = list_segments(folder)
    session = Session(
        folder=folder,
        info=info,
        frames=tuple(frames),
        segments=segments,
        open_segments=open_segments,
        truncated_tail=truncated,
    )
    return SalvagedSession(session, version, tuple(notes))


def _read_document(folder: Path, path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SessionError(
            f"{path} not found: {folder} is not a session folder (live writes one per run)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SessionError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise SessionError(
            f"{path} is not a session description: expected a JSON object of kind {KIND!r}"
        )
    return document


def _fallbacks(folder: Path) -> dict[str, Any]:
    """Return the value that replaces each required ``SessionInfo`` field an old file lacks."""
    return {
        "session_id": folder.name,
        "started": "",
        # Size and rate 0 mean unknown; replay takes the size from the video.
        "source": SourceInfo(kind="unknown", location="", width=0, height=0, fps=0.0),
        # An empty camera matrix: replay assumes the default field of view.
        "camera": CameraInfo(profile=None, camera_matrix=(), distortion=()),
        "patch": PrintedPatch(patch_id=None, size_mm=DEFAULT_PATCH_MM),
        "target": None,
        "variants": (),
        "scoring": ScoringInfo(crop_scale=None, window=30),
    }


def _older_info(
    document: dict[str, Any], folder: Path, where: str
) -> tuple[SessionInfo, list[str]]:
    """Decode each field of ``SessionInfo`` on its own, replacing what fails by a default."""
    fallbacks = _fallbacks(folder)
    arguments: dict[str, Any] = {}
    notes = []
    for item in fields(SessionInfo):
        hint = _field_types()[item.name]
        if item.name not in document:
            if item.name in fallbacks:
                arguments[item.name] = fallbacks[item.name]
                notes.append(f"session.json has no {item.name!r}; assumed {_shown(item.name)}")
            continue
        try:
            arguments[item.name] = decode_field(hint, document[item.name], f"{where}: {item.name}")
        except SessionError as error:
            if item.name in fallbacks:
                arguments[item.name] = fallbacks[item.name]
            notes.append(f"{error}; assumed {_shown(item.name)}")
    return SessionInfo(**arguments), notes


def _field_types() -> dict[str, Any]:
    from typing import get_type_hints

    return get_type_hints(SessionInfo)


def _shown(name: str) -> str:
    return {
        "session_id": "the folder name",
        "started": "an unknown start time",
        "source": "an unknown source (frame size from the video)",
        "camera": "an uncalibrated camera with the default field of view",
        "patch": f"a {DEFAULT_PATCH_MM:g} mm patch",
        "target": "no target (untargeted)",
        "variants": "no live variants",
        "scoring": "whole-frame input",
    }.get(name, "its default")
