"""Command-line interface: argument parsing only; each command calls one function.

Each command's options live in a module of this package; :func:`main` dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, cast

from harness import __version__
from harness.cli.common import SubParsers
from harness.cli.demo import add_demo_command
from harness.cli.evaluate import add_evaluate_command
from harness.cli.generate import add_generate_command
from harness.cli.live import add_live_command
from harness.cli.models import add_models_command
from harness.cli.printing import add_calibrate_command, add_print_command
from harness.cli.report import add_report_command
from harness.cli.score import add_score_command
from harness.cli.simulate import add_simulate_command
from harness.errors import HarnessError, InvalidArgumentError
from harness.logs import setup_logging

EXIT_BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser that reports a bad option in one line instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: PROG: MESSAGE`` and where the help is, then exit with 2."""
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``patch-harness`` and all its commands."""
    parser = OneLineParser(
        prog="patch-harness",
        description="Test adversarial patches against quantized image classifiers, from "
        "optimisation to paper to camera to numbers.",
    )
    parser.add_argument("--version", action="version", version=f"patch-harness {__version__}")
    # Subcommand parsers are OneLineParsers too, since argparse makes them of the parent's class.
    commands = cast(
        "SubParsers", parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    )
    add_models_command(commands)
    add_generate_command(commands)
    add_print_command(commands)
    add_calibrate_command(commands)
    add_live_command(commands)
    add_score_command(commands)
    add_report_command(commands)
    add_simulate_command(commands)
    add_evaluate_command(commands)
    add_demo_command(commands)
    return parser


def _configure_threads(threads: int | None) -> None:
    import torch

    if threads is not None:
        if threads < 1:
            raise InvalidArgumentError(f"--threads {threads} is invalid: expected 1 or more")
        torch.set_num_threads(threads)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(verbose=args.verbose, quiet=args.quiet)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        _configure_threads(args.threads)
        return handler(args)
    except HarnessError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
