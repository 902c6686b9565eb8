"""Logging and progress set-up, installed once by the CLI; the library only logs."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

_state = {"quiet": False}


def setup_logging(*, verbose: bool = False, quiet: bool = False) -> None:
    """Install a rich handler on stderr for a TTY and plain lines otherwise."""
    _state["quiet"] = quiet
    level = logging.INFO
    if quiet:
        level = logging.WARNING
    if verbose:
        level = logging.DEBUG
    handler: logging.Handler
    if sys.stderr.isatty():
        handler = RichHandler(console=Console(stderr=True), show_path=False, show_time=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]

    # Libraries log their own details at INFO: ONNX Runtime's quantizer writes one line per
    # rescaled bias. Only their warnings are shown, unless --verbose is given.
    root.setLevel(logging.DEBUG if verbose else max(level, logging.WARNING))
    logging.getLogger("harness").setLevel(level)


def progress_enabled() -> bool:
    """Return whether a live progress bar should be drawn (a TTY and not ``--quiet``)."""
    return sys.stderr.isatty() and not _state["quiet"]


def track(items: Iterable[T], *, total: int, description: str) -> Iterator[T]:
    """Yield ``items`` with a rich progress bar, or with a log line every 10 % when not on a TTY."""
    logger = logging.getLogger("harness.progress")
    if progress_enabled():
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task(description, total=total)
            for item in items:
                yield item
                progress.advance(task)
        return

    step = max(1, total // 10)
    for done, item in enumerate(items, start=1):
        yield item
        if done % step == 0 or done == total:
            logger.info("%s: %d/%d", description, done, total)
