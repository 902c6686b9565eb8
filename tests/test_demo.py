"""demo: the whole loop on the default scenes ends with a report PDF."""

from pathlib import Path

import pytest

from harness.capture.session import read_session
from harness.commands.demo import DemoRequest, run_demo
from harness.models.spec import parse_variants
from harness.models.variants import BuildSettings

CALIBRATION = Path(__file__).parent.parent / "calibration"


@pytest.mark.slow
def test_demo_ends_with_report(tmp_path: Path, variant_cache: Path) -> None:
    request = DemoRequest(
        steps=5,
        variants=tuple(parse_variants("efficientnet-lite0@32,8:ptq")),
        clean_frames=4,
        patch_frames=8,
        printables=tmp_path / "printables",
        captures=tmp_path / "captures",
        calibration_dir=CALIBRATION,
        cache_dir=variant_cache,
        build=BuildSettings(calibration_images=16),
    )
    result = run_demo(request)
    found = dict(result.artifacts)

    assert list(found) == [
        "patch",
        "patch description",
        "printable sheet",
        "simulated session",
        "scores (JSON)",
        "scores (CSV)",
        "report",
    ]
    assert found["printable sheet"].suffix == ".pdf"
    assert found["report"].read_bytes().startswith(b"%PDF")
    session = read_session(found["simulated session"])
    assert len(session.frames) == 12
    assert found["scores (JSON)"].parent.parent == found["simulated session"]
