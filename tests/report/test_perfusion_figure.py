"""The perfusion figure's title says what the written report says."""

import pytest

from planarmpi.report.perfusion_figure import figure_title


@pytest.mark.parametrize(("section", "title"), [
    ({"verdict": "abnormal", "territories": ["LAD", "RCA"]},
     "Planar perfusion: abnormal (territories: LAD, RCA)"),
    ({"verdict": "equivocal", "territories": ["LCX"]},
     "Planar perfusion: equivocal (territories: LCX)"),
    ({"verdict": "normal", "territories": []}, "Planar perfusion: normal"),
    ({"verdict": "not-assessed"}, "Planar perfusion: not-assessed"),
    # Read normal with reduced segments (e.g. an attenuation pattern with normal wall
    # motion): not "normal (territories: LCX)", which reads as a defect.
    ({"verdict": "normal", "territories": ["LCX"]},
     "Planar perfusion: normal (segments reduced in the LCX territory, not read as a defect)"),
    ({"verdict": "normal", "territories": ["LAD", "LCX"]},
     "Planar perfusion: normal (segments reduced in the LAD, LCX territories, "
     "not read as a defect)"),
])
def test_figure_title(section, title):
    assert figure_title(section) == title
