"""The workstation analyses a two-day protocol's stress and rest studies as one episode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories import two_day_protocol
from planarmpi.store import Archive
from planarmpi.store.models import Analysis, Study
from planarmpi.store.processing import process_study
from planarmpi.web.app import create_app
from planarmpi.web.security import add_user
from webfixtures import CLOCK, PASSWORDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_day(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return two_day_protocol(tmp_path_factory.mktemp("two-day-web"))


@pytest.fixture
def archive(tmp_path: Path, two_day: dict, muga_files: list[Path], db_url) -> Archive:
    archive = Archive(tmp_path / "data", db_url)
    for folder in ("stress", "rest"):
        for f in sorted((two_day["root"] / folder).glob("*.dcm")):
            archive.store(f.read_bytes(), "test")
    for f in muga_files:  # another patient's study
        archive.store(f.read_bytes(), "test")
    for uid in (two_day["stress_uid"], two_day["rest_uid"]):
        assert process_study(archive, uid, clock=CLOCK).status == "analysed"
    add_user(archive, "tech", PASSWORDS["tech"], "technologist")
    return archive


def _client(archive: Archive) -> TestClient:
    client = TestClient(create_app(archive, clock=lambda: CLOCK))
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/login", data={"username": "tech", "password": PASSWORDS["tech"],
                                       "csrf": csrf}).status_code == 200
    return client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _latest(archive: Archive, uid: str) -> dict:
    with archive.sessions() as s:
        return s.scalar(select(Analysis.result).join(Study)
                        .where(Study.study_instance_uid == uid)
                        .order_by(Analysis.version.desc()).limit(1))


def test_the_rest_study_is_offered_combined_and_kept_until_undone(archive: Archive,
                                                                  two_day: dict) -> None:
    stress, rest = two_day["stress_uid"], two_day["rest_uid"]
    assert _latest(archive, stress)["perfusion"].get("reversibility") is None
    client = _client(archive)
    # The worklist points at the pair: the stress study read alone, a rest study beside it.
    worklist = client.get("/worklist").text
    assert worklist.count("(rest study separate: two-day protocol?)") == 1
    assert f'href="/studies/{stress}#other-studies"' in worklist
    page = client.get(f"/studies/{rest}")
    assert f'data-other="{stress}"' in page.text  # the stress study is offered
    # Combined from the rest study's page: recorded under the stress study.
    reply = client.post(f"/studies/{rest}/combine", data={"other": stress,
                                                          "csrf": _csrf(page.text)})
    assert reply.status_code == 200
    assert str(reply.url).endswith(f"/studies/{stress}")
    assert "Analysed as one episode with study" in reply.text
    assert 'id="episode"' in reply.text
    assert f"/studies/{rest}/series/" in reply.text  # the rest images are shown
    result = _latest(archive, stress)
    assert [c["study_instance_uid"] for c in result["combined_studies"]] == [stress, rest]
    # The rest study's page says it is in the stress study's episode (no second offer).
    rest_page = client.get(f"/studies/{rest}").text
    assert f'data-other="{stress}"' not in rest_page
    assert "(in this episode)" in rest_page
    worklist = client.get("/worklist").text
    assert "(2 studies)" in worklist
    assert "two-day protocol?" not in worklist
    assert result["perfusion"]["reversibility"]["overall"] == "ischemia"
    # A re-analysis (an ROI edit, a late object) keeps the episode.
    assert process_study(archive, stress, clock=CLOCK).status == "analysed"
    assert len(_latest(archive, stress)["combined_studies"]) == 2
    # Undone on request.
    page = client.get(f"/studies/{stress}")
    reply = client.post(f"/studies/{stress}/combine", data={"other": "",
                                                            "csrf": _csrf(page.text)})
    assert "Analysed alone" in reply.text
    alone = _latest(archive, stress)
    assert alone["combined_studies"] == []
    assert alone["perfusion"].get("reversibility") is None


def test_studies_of_another_patient_are_not_combined(archive: Archive, two_day: dict) -> None:
    stress = two_day["stress_uid"]
    with archive.sessions() as s:
        other = s.scalar(select(Study.study_instance_uid).where(
            Study.study_instance_uid.not_in([stress, two_day["rest_uid"]])))
    client = _client(archive)
    page = client.get(f"/studies/{stress}")
    assert f'data-other="{other}"' not in page.text  # not offered
    reply = client.post(f"/studies/{stress}/combine", data={"other": other,
                                                            "csrf": _csrf(page.text)})
    assert reply.status_code == 400
    assert "different patients" in reply.text
    assert _latest(archive, stress)["combined_studies"] == []


def test_an_episode_whose_partner_is_gone_fails_with_the_reason(
        archive: Archive, two_day: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    stress, rest = two_day["stress_uid"], two_day["rest_uid"]
    assert process_study(archive, stress, clock=CLOCK, combine_with=[rest]).status == "analysed"
    kept = _latest(archive, stress)
    files = archive.study_files
    monkeypatch.setattr(archive, "study_files",
                        lambda uid: [] if uid == rest else files(uid))
    done = process_study(archive, stress, clock=CLOCK)  # a late object: re-analysed
    assert done.status == "failed"
    assert f"study {rest}, analysed with this one as one episode, has no readable" \
        in done.reason
    with archive.sessions() as s:
        row = s.scalar(select(Study).where(Study.study_instance_uid == stress))
        assert (row.status, row.status_detail.startswith("not combined")) == ("failed", True)
    assert _latest(archive, stress) == kept  # the episode's analysis is still there
    alone = process_study(archive, stress, clock=CLOCK, combine_with=())
    assert alone.status == "analysed"
    assert _latest(archive, stress)["combined_studies"] == []
