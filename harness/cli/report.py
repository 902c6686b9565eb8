"""``patch-harness report``: options of the PDF report."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import SubParsers, add_common
from harness.errors import InvalidArgumentError


def add_report_command(commands: SubParsers) -> None:
    """Register ``report``."""
    report = commands.add_parser(
        "report",
        help="write the PDF report of a scored session, or compare several",
        description="Write a PDF report of SESSION's score run: the summary table per bit "
        "width, success against bit width with 95 % intervals, success against yaw "
        "(degrees), distance (m) and luminance, a variant × condition heatmap, example frames "
        "with each variant's prediction, the session's metadata, what was skipped, and a "
        "plain-language conclusion. Run `patch-harness score SESSION` first. With --compare, "
        "the same figures for several sessions side by side.",
    )
    report.add_argument(
        "session", type=Path, nargs="?", metavar="SESSION", help="scored session folder"
    )
    report.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        metavar="SESSION",
        help="two or more scored session folders to set side by side (e.g. patch sizes, "
        "printers or cameras)",
    )
    report.add_argument(
        "--run", metavar="NAME", help="score run to report on (default: the newest)"
    )
    report.add_argument(
        "--lang",
        choices=("en", "ja"),
        default="en",
        help="language of the report; ja embeds the IPAexGothic font (default: %(default)s)",
    )
    report.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="PDF to write (default: SESSION/report.pdf, report-ja.pdf in Japanese; "
        "comparison.pdf beside the first session with --compare)",
    )
    add_common(report)
    report.set_defaults(handler=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from harness.commands.report import ReportRequest, run_report
    from harness.report.strings import Language

    if args.session is not None and args.compare:
        raise InvalidArgumentError("give either SESSION or --compare S1 S2 ..., not both")
    if args.compare is not None and len(args.compare) < 2:
        raise InvalidArgumentError("--compare needs two or more sessions")
    sessions = tuple(args.compare) if args.compare else ((args.session,) if args.session else ())
    output = run_report(
        ReportRequest(
            sessions=sessions, run=args.run, language=Language(args.lang), output=args.output
        )
    )
    print(f"wrote {output}")
    return 0
