"""No change lowers the held-out figures unseen: bench text and HTML F1, text titles, story precision/recall.

The floor is tests/goldens/quality_floor.json, written only by ``scripts/quality_floor.py --update``.
"""
import json

import pytest

from scripts import quality_floor


@pytest.fixture(scope="module")
def figures():
    if not (quality_floor.BENCH / "ground-truth.json").exists():
        pytest.skip("../shared/bench is not beside the repository")
    return quality_floor.measure()


@pytest.mark.parametrize("name", ["text_f1", "html_f1", "text_titles", "story_precision", "story_recall"])
def test_figure_stays_at_or_above_its_floor(figures, name):
    floor = json.loads(quality_floor.FLOOR.read_text())
    assert figures[name] >= floor[name] - quality_floor.TOLERANCE, (
        f"{name} fell to {figures[name]} (floor {floor[name]}); if intended, run scripts/quality_floor.py --update "
        "and say why in the commit message")
