"""``patch-harness report``: the PDF report of one scored session, or of several side by side.

A single report is written to ``SESSION/report.pdf`` (``report-ja.pdf`` in Japanese) with
its figures in ``SESSION/report-plots/``. A comparison is written beside the first
session, to ``comparison.pdf`` (``comparison-ja.pdf``), with its figures in
``comparison-plots/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import InvalidArgumentError
from harness.report.build import comparison_report, session_report
from harness.report.scores import load_scored
from harness.report.strings import Language


@dataclass(frozen=True, kw_only=True)
class ReportRequest:
    """The sessions and score run of a report, its language and its output file."""

    sessions: tuple[Path, ...]
    """One session for a report; two or more for a comparison."""

    run: str | None = None
    """Score run to report on in every session; None: each session's newest run."""

    language: Language = Language.EN
    output: Path | None = None
    """The PDF's path; None: the default named in the module docstring."""


def run_report(request: ReportRequest) -> Path:
    """Write the report; return the path of the PDF.

    Raises:
        HarnessError: no session is given, a folder is not a session, a session has no
            score run (or not the requested one), or the Japanese font is missing.
    """
    if not request.sessions:
        raise InvalidArgumentError("no session given: name a SESSION or use --compare S1 S2")
    if len(set(request.sessions)) != len(request.sessions):
        raise InvalidArgumentError("--compare names a session twice: give each session once")
    if request.output is not None and request.output.suffix.lower() != ".pdf":
        raise InvalidArgumentError(f"--output {str(request.output)!r} is invalid: expected a .pdf")

    scored = [load_scored(folder, request.run) for folder in request.sessions]
    suffix = "" if request.language is Language.EN else f"-{request.language.value}"
    if len(scored) == 1:
        output = request.output or request.sessions[0] / f"report{suffix}.pdf"
        session_report(scored[0], request.language, output, output.parent / "report-plots")
        return output

    output = request.output or request.sessions[0].parent / f"comparison{suffix}.pdf"
    plots = output.with_name(f"{output.stem.removesuffix(suffix)}-plots")
    comparison_report(scored, request.language, output, plots)
    return output
