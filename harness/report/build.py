"""The report's story: which sections, tables and figures, in which order.

:func:`session_report` builds the report of one scored session, :func:`comparison_report`
the same figures for several sessions side by side. Figures are written as PNG files to
``plots`` and embedded in the PDF.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer, Table

from harness import __version__
from harness.capture.pose import DEFAULT_FOV_DEG
from harness.capture.session import Phase
from harness.report.conclusion import MIN_BIN_FRAMES, conclusion, percent
from harness.report.document import (
    CONTENT_WIDTH,
    Styles,
    build_pdf,
    figure,
    make_styles,
    paragraph,
    table,
)
from harness.report.examples import ExampleFrame, example_frames
from harness.report.fonts import ReportFonts, report_fonts
from harness.report.plots import bits_figure, conditions_figure, figure_style, heatmap_figure
from harness.report.scores import RateView, ScoredSession, VariantView
from harness.report.strings import Language, Strings

logger = logging.getLogger(__name__)


def session_report(scored: ScoredSession, language: Language, output: Path, plots: Path) -> None:
    """Write the report of one scored session to ``output``; figures go to ``plots``."""
    fonts = report_fonts(language.value)
    styles = make_styles(fonts)
    text = Strings(language)
    plots.mkdir(parents=True, exist_ok=True)
    suffix = "" if language is Language.EN else f"-{language.value}"

    story: list[Flowable] = [
        paragraph(text("title"), styles.title),
        paragraph(_generated(text), styles.small),
        paragraph(text("h_conclusion"), styles.heading),
        *(paragraph(sentence, styles.body) for sentence in conclusion(scored, text)),
        paragraph(text("h_summary"), styles.heading),
        *_summary_section([scored], text, styles),
        paragraph(text("h_session"), styles.heading),
        _metadata_table(scored, text, styles),
        paragraph(text("h_skipped"), styles.heading),
        *(paragraph(line, styles.body) for line in skipped_lines(scored, text)),
        PageBreak(),
        *_figures([scored], text, styles, fonts, plots, suffix),
        paragraph(text("h_examples"), styles.heading),
        _examples_table(example_frames(scored, plots), text, styles),
    ]
    build_pdf(output, story, title=text("title"), fonts=fonts)
    logger.debug("wrote %s", output)


def comparison_report(
    sessions: Sequence[ScoredSession], language: Language, output: Path, plots: Path
) -> None:
    """Write one report that sets several scored sessions side by side."""
    fonts = report_fonts(language.value)
    styles = make_styles(fonts)
    text = Strings(language)
    plots.mkdir(parents=True, exist_ok=True)
    suffix = "" if language is Language.EN else f"-{language.value}"

    story: list[Flowable] = [
        paragraph(text("compare_title"), styles.title),
        paragraph(_generated(text), styles.small),
        paragraph(text("h_sessions"), styles.heading),
        _sessions_table(sessions, text, styles),
        paragraph(text("h_conclusion"), styles.heading),
    ]
    for scored in sessions:
        story.append(paragraph(_session_id(scored), styles.heading))
        story.extend(paragraph(sentence, styles.body) for sentence in conclusion(scored, text))
    story.append(paragraph(text("h_summary"), styles.heading))
    story.extend(_summary_section(sessions, text, styles))
    story.append(paragraph(text("h_skipped"), styles.heading))
    for scored in sessions:
        lines = skipped_lines(scored, text)
        story.append(paragraph(f"{_session_id(scored)}: {' '.join(lines)}", styles.body))
    story.append(PageBreak())
    story.extend(_figures(sessions, text, styles, fonts, plots, suffix))
    build_pdf(output, story, title=text("compare_title"), fonts=fonts)
    logger.debug("wrote %s", output)


def skipped_lines(scored: ScoredSession, text: Strings) -> list[str]:
    """Return one sentence per thing the score run could not read or had to assume."""
    frames = scored.summary["frames"]
    lines = []
    if frames["truncated_tail"]:
        lines.append(text("skipped_tail"))
    for key, template in (
        ("missing_segments", "skipped_missing"),
        ("unreadable_segments", "skipped_unreadable"),
        ("cut_segments", "skipped_cut"),
    ):
        for item in frames[key]:
            lines.append(text(template, segment=item["segment"], frames=item["frames"]))
    for segment in frames["open_segments"]:
        lines.append(text("skipped_open", segment=segment))
    for note in scored.summary["session_schema"]["notes"]:
        lines.append(text("skipped_note", note=note))
    return lines or [text("skipped_none")]


def _figures(
    sessions: Sequence[ScoredSession],
    text: Strings,
    styles: Styles,
    fonts: ReportFonts,
    plots: Path,
    suffix: str,
) -> list[Flowable]:
    with figure_style(fonts):
        bits = bits_figure(sessions, text, plots / f"bits{suffix}.png")
        conditions = conditions_figure(sessions, text, plots / f"conditions{suffix}.png")
        heatmap = heatmap_figure(sessions, text, plots / f"heatmap{suffix}.png")
    return [
        paragraph(text("h_bits"), styles.heading),
        figure(bits),
        paragraph(text("h_conditions"), styles.heading),
        figure(conditions),
        paragraph(text("conditions_note", frames=MIN_BIN_FRAMES), styles.small),
        PageBreak(),
        paragraph(text("h_heatmap"), styles.heading),
        figure(heatmap),
    ]


def _summary_section(
    sessions: Sequence[ScoredSession], text: Strings, styles: Styles
) -> list[Flowable]:
    several = len(sessions) > 1
    header = [
        *([text("col_session")] if several else []),
        text("col_variant"),
        text("col_bits"),
        text("col_agreement"),
        text("col_clean"),
        text("col_patch"),
        text("col_difference"),
        text("col_miscls"),
        text("col_role"),
        text("col_frames"),
    ]
    rows = [header]
    highlight = []
    any_degenerate = False
    for scored in sessions:
        for variant in scored.variants:
            name = variant.name
            if variant.degenerate:
                name += f" ({text('degenerate')})"
                highlight.append(len(rows))
                any_degenerate = True
            rows.append(
                [
                    *([_session_id(scored)] if several else []),
                    name,
                    variant.bits,
                    _fraction(variant.agreement, text),
                    _rate(variant.clean_success, text, interval=False),
                    _rate(variant.patch_success, text),
                    _signed(variant.success_difference, text),
                    _rate(variant.patch_misclassification, text),
                    _role(variant, text),
                    f"{variant.clean_frames} / {variant.patch_frames}",
                ]
            )
    widths = _widths(len(header), several)
    flowables: list[Flowable] = [table(rows, styles, widths, highlight)]
    if any_degenerate:
        flowables += [Spacer(1, 2 * mm), paragraph(text("degenerate_note"), styles.warning)]

    for scored in sessions:
        groups = scored.summary.get("groups")
        if groups is None:
            continue
        group_rows = [
            [
                text("col_group"),
                text("col_variant"),
                text("col_mean_success"),
                text("col_mean_miscls"),
            ]
        ]
        for key in ("white_box", "transfer"):
            group = groups[key]
            group_rows.append(
                [
                    text(f"group_{key}"),
                    ", ".join(group["variants"]) or text("not_available"),
                    _optional_percent(group["mean_success"], text),
                    _optional_percent(group["mean_misclassification"], text),
                ]
            )
        title = text("h_groups") + (f": {_session_id(scored)}" if several else "")
        flowables += [paragraph(title, styles.heading), table(group_rows, styles)]
    return flowables


def _widths(columns: int, several: bool) -> list[float]:
    base = [0.19, 0.05, 0.1, 0.09, 0.14, 0.09, 0.14, 0.1, 0.1]
    if several:
        base = [0.12, *[share * 0.88 for share in base]]
    return [share * CONTENT_WIDTH for share in base[:columns]]


def _metadata_table(scored: ScoredSession, text: Strings, styles: Styles) -> Table:
    info = scored.salvaged.session.info
    summary = scored.summary
    camera = info.camera
    if camera.profile:
        camera_text = text("camera_profile", name=camera.profile)
    else:
        camera_text = text("camera_assumed", fov=f"{camera.assumed_fov_deg or DEFAULT_FOV_DEG:.1f}")
    target = summary["target"]
    reference = summary["reference"]
    frames = summary["frames"]
    software = ", ".join(f"{name} {version}" for name, version in info.software.items())
    rows = [
        [text("meta_session"), info.session_id],
        [text("meta_started"), info.started or text("not_available")],
        [text("meta_source"), _source_text(info.source.kind, info.source.location)],
        [
            text("meta_frame"),
            text(
                "frame_rate",
                width=info.source.width,
                height=info.source.height,
                fps=f"{info.source.fps:g}",
            ),
        ],
        [text("meta_camera"), camera_text],
        [
            text("meta_patch"),
            text(
                "patch_text",
                patch_id=info.patch.patch_id or text("not_available"),
                size=f"{info.patch.size_mm:g}",
            ),
        ],
        [
            text("meta_target"),
            text("untargeted") if target is None else f"{target['name']} ({target['index']})",
        ],
        [text("meta_reference"), _reference_text(reference, text)],
        [text("meta_run"), f"{summary['run']} ({summary['created']})"],
        [
            text("meta_frames"),
            text(
                "frames_text",
                replayed=frames["replayed"],
                lines=frames["lines"],
                skipped=frames["skipped"],
            ),
        ],
        [text("meta_schema"), str(summary["session_schema"]["version"])],
        [text("meta_software"), software or text("not_available")],
    ]
    result = Table(
        [[paragraph(key, styles.cell), paragraph(value, styles.cell)] for key, value in rows],
        colWidths=[0.3 * CONTENT_WIDTH, 0.7 * CONTENT_WIDTH],
    )
    return result


def _source_text(kind: str, location: str) -> str:
    """Return ``kind: location``, once: a simulated source's location starts with ``sim:``."""
    if location.startswith(f"{kind}:"):
        return location
    return f"{kind}: {location}"


def _sessions_table(sessions: Sequence[ScoredSession], text: Strings, styles: Styles) -> Table:
    rows = [[text("col_session"), text("meta_patch"), text("meta_camera"), text("meta_frames")]]
    for scored in sessions:
        info = scored.salvaged.session.info
        frames = scored.summary["frames"]
        rows.append(
            [
                _session_id(scored),
                text(
                    "patch_text",
                    patch_id=info.patch.patch_id or text("not_available"),
                    size=f"{info.patch.size_mm:g}",
                ),
                info.camera.profile
                or text(
                    "camera_assumed", fov=f"{info.camera.assumed_fov_deg or DEFAULT_FOV_DEG:.1f}"
                ),
                text(
                    "frames_text",
                    replayed=frames["replayed"],
                    lines=frames["lines"],
                    skipped=frames["skipped"],
                ),
            ]
        )
    return table(rows, styles)


def _examples_table(
    examples: dict[Phase, ExampleFrame | None], text: Strings, styles: Styles
) -> Flowable:
    """Return the clean and the patch example side by side, each over its predictions."""
    half = (CONTENT_WIDTH - 6 * mm) / 2
    images: list[Flowable] = []
    captions: list[Flowable] = []
    for phase in (Phase.CLEAN, Phase.PATCH):
        example = examples[phase]
        phase_text = text(phase.value)
        if example is None:
            images.append(paragraph(text("example_none", phase=phase_text), styles.body))
            captions.append(Spacer(1, 1))
            continue
        images.append(figure(example.image, half))
        lines = [text("example_caption", index=example.index, phase=phase_text)]
        for prediction in example.predictions:
            output = text(
                "example_prediction", name=prediction.name, probability=prediction.probability
            )
            hit = f" {text('example_hit')}" if prediction.success else ""
            lines.append(f"{prediction.variant}: {output}{hit}")
        captions.append(Paragraph("<br/>".join(escape(line) for line in lines), styles.cell))
    return Table([images, captions], colWidths=[half + 3 * mm, half + 3 * mm])


def _reference_text(reference: dict[str, object], text: Strings) -> str:
    source = reference["source"]
    if source == "true-class":
        return text("reference_true", name=reference["name"], index=reference["index"])
    if source == "fp32-majority":
        return text(
            "reference_majority",
            name=reference["name"],
            index=reference["index"],
            votes=reference["votes"],
            clean=reference["clean_frames"],
        )
    return text("reference_none")


def _role(variant: VariantView, text: Strings) -> str:
    if variant.white_box is None:
        return text("role_unknown")
    return text("role_white_box" if variant.white_box else "role_transfer")


def _rate(rate: RateView | None, text: Strings, *, interval: bool = True) -> str:
    if rate is None:
        return text("not_available")
    if not interval:
        return f"{percent(rate.rate)} ({rate.count}/{rate.total})"
    return f"{percent(rate.rate)} ({percent(rate.low)}–{percent(rate.high)})"


def _signed(value: float | None, text: Strings) -> str:
    if value is None:
        return text("not_available")
    return f"{value * 100:+.0f} pt"


def _fraction(value: float, text: Strings) -> str:
    return text("not_available") if math.isnan(value) else percent(value)


def _optional_percent(value: float | None, text: Strings) -> str:
    return text("not_available") if value is None else percent(value)


def _generated(text: Strings) -> str:
    return text(
        "generated",
        time=datetime.now().astimezone().isoformat(timespec="minutes"),
        version=__version__,
    )


def _session_id(scored: ScoredSession) -> str:
    return scored.salvaged.session.info.session_id
