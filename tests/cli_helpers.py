"""Running the CLI in-process and checking its one-line errors."""

import pytest

from harness.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``patch-harness ARGS`` in this process; return (exit code, stdout, stderr)."""
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> str:
    """Check exit code 2 and a single ``error:`` line that ends stderr; return that line."""
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert lines[-1] == errors[0]
    assert len(errors[0]) < 400
    assert "Traceback" not in err
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]
