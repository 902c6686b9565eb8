"""The CLI's logging set-up: the harness speaks at INFO, libraries only from WARNING."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from harness.logs import setup_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    harness_level = logging.getLogger("harness").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("harness").setLevel(harness_level)


def _emit() -> None:
    logging.getLogger("root.library").info("library detail")
    logging.getLogger("root.library").warning("library warning")
    logging.getLogger("harness.step").info("harness step")
    logging.getLogger("harness.step").debug("harness debug")


def test_default_hides_library_info(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging()
    _emit()
    err = capsys.readouterr().err
    assert "library detail" not in err
    assert "library warning" in err
    assert "harness step" in err
    assert "harness debug" not in err


def test_quiet_keeps_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(quiet=True)
    _emit()
    err = capsys.readouterr().err
    assert "harness step" not in err
    assert "library warning" in err


def test_verbose_shows_everything(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(verbose=True)
    _emit()
    err = capsys.readouterr().err
    for line in ("library detail", "library warning", "harness step", "harness debug"):
        assert line in err
