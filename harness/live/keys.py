"""Single key presses from the terminal, read without Enter while the dashboard runs."""

from __future__ import annotations

import logging
import os
import select
import sys
import time
from types import TracebackType
from typing import Any, TextIO

logger = logging.getLogger(__name__)

KEY_HELP = "space: clean/patch · 0-9: tag · r: record on/off · q: quit"


class KeyReader:
    """Reads keys from a terminal in cbreak mode; does nothing when disabled or not a TTY.

    Use it as a context manager, so that the terminal mode is restored on every exit.
    """

    def __init__(self, *, enabled: bool, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin
        self._enabled = enabled
        self._saved: list[Any] | None = None
        self.active = False
        """Whether keys are read."""

    def __enter__(self) -> KeyReader:
        if not self._enabled:
            return self
        if not self._stream.isatty():
            logger.info("standard input is not a terminal: keys are off (use --no-keys)")
            return self
        try:
            import termios
            import tty
        except ImportError:
            logger.warning("keys need a POSIX terminal: keys are off")
            return self
        descriptor = self._stream.fileno()
        self._saved = termios.tcgetattr(descriptor)
        tty.setcbreak(descriptor)
        self.active = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
        self.active = False

    def read(self, timeout_s: float) -> str | None:
        """Return one key pressed within ``timeout_s``, or None; sleeps when inactive."""
        if not self.active:
            time.sleep(timeout_s)
            return None
        descriptor = self._stream.fileno()
        ready, _, _ = select.select([descriptor], [], [], timeout_s)
        if not ready:
            return None
        data = os.read(descriptor, 1)
        return data.decode("utf-8", errors="replace") if data else None
