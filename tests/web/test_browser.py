"""The workstation in a real browser: Playwright driving Debian's Chromium (never
``playwright install``). Screenshots go to ``$PLANARMPI_SCREENSHOTS`` (default: the test's
temporary folder)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from dicom_tools import free_port
from planarmpi.web.app import create_app
from testenv import IN_CI
from webfixtures import CLOCK, PASSWORDS

pytestmark = [pytest.mark.slow, pytest.mark.external, pytest.mark.timeout(600)]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def server(archive):
    import uvicorn

    port = free_port()
    config = uvicorn.Config(create_app(archive, clock=lambda: CLOCK), host="127.0.0.1",
                            port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).is_file():
        if IN_CI:
            pytest.fail("chromium is missing in CI: scripts/setup.sh --dev installs it")
        pytest.skip("chromium not installed (scripts/setup.sh --dev installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("PLANARMPI_SCREENSHOTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(page, base: str, who: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", PASSWORDS[who])
    page.click("button[type=submit]")
    page.wait_for_selector("#worklist")


def _lvef(text: str) -> float:
    import re

    return float(re.search(r"LVEF ([\d.]+)%", text).group(1))


def test_physician_workflow(server, browser, shots, db_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(page, server, "doc")
    page.screenshot(path=shots / f"worklist-{(db_url is None and 'sqlite') or 'pg'}.png",
                    full_page=True)
    page.click("#worklist a")
    page.wait_for_selector("img.cine")

    # The cine plays: the frame shown changes.
    first = page.get_attribute("img.cine", "data-shown")
    page.wait_for_timeout(600)
    assert page.get_attribute("img.cine", "data-shown") != first

    # Move an ED ROI point inwards and recompute: the EF changes.
    page.wait_for_function("document.getElementById('roi-status').textContent.includes('LVEF')")
    before = _lvef(page.inner_text("#roi-status"))
    page.click("#recompute")
    page.wait_for_function("document.getElementById('roi-status').textContent"
                           ".includes('with your ROIs')")
    unchanged = _lvef(page.inner_text("#roi-status"))
    # Drag only once the editors' images are in: each sets its overlay's size when it
    # loads, which moves the handles (under load a drag started earlier missed them).
    page.wait_for_function("[...document.querySelectorAll('.roi-editor img')]"
                           ".every((im) => im.complete && im.naturalWidth > 0)")
    page.locator("svg[data-roi=ed]").scroll_into_view_if_needed()
    handles = page.locator("svg[data-roi=ed] circle.handle")
    for i in range(handles.count()):  # pull every ED point 40% towards the centre
        box = page.locator("svg[data-roi=ed]").bounding_box()
        h = handles.nth(i).bounding_box()
        x, y = h["x"] + h["width"] / 2, h["y"] + h["height"] / 2
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 0.4 * (cx - x), y + 0.4 * (cy - y), steps=4)
        page.mouse.up()
    page.click("#recompute")
    # The new reply, not the transient "Recomputing…" nor the previous one.
    page.wait_for_function("() => { const t = document.getElementById('roi-status')"
                           ".textContent; return t.includes('with your ROIs') && "
                           f"!t.includes('{unchanged:.1f}%'); }}")
    edited = _lvef(page.inner_text("#roi-status"))
    assert edited < unchanged - 3, (before, unchanged, edited)
    page.screenshot(path=shots / "study-rois.png", full_page=True)

    # Clinical form, draft, sign.
    page.fill("input[name=indication_text]", "Trastuzumab surveillance")
    page.fill("input[name=indication_icd10]", "Z51.11")
    assert page.locator("input[name=protocol]").is_hidden()  # no stress test chosen
    page.fill("input[name=prior_date]", "2025-12-01")
    page.fill("input[name=prior_description]", "MUGA")
    page.fill("input[name=prior_lvef_percent]", "62")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("text=Draft saved")
    assert page.input_value("input[name=indication_icd10]") == "Z51.11"  # kept in the form
    page.click("#sign")
    page.wait_for_selector("text=Report signed.")
    assert page.inner_text("#report-status") == "signed"
    # The signed report is the one of the current analysis: the EF with the edited ROIs.
    assert f"LVEF {edited:.0f}%" in page.inner_text(".impression")
    assert page.locator("#report-form").count() == 0  # signed: no editing
    assert page.locator("#amend-form").count() == 1  # only amending
    page.screenshot(path=shots / "study-signed.png", full_page=True)
    with page.expect_download() as download:
        page.click("#pdf-link")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    # A technologist cannot sign.
    other = browser.new_page()
    _login(other, server, "tech")
    other.click("#worklist a")
    other.wait_for_selector("#report")
    assert other.locator("#sign").count() == 0
    status = other.evaluate("""async () => {
        const card = document.getElementById('rois-card');
        const r = await fetch(location.pathname + '/report/sign', {method: 'POST',
            headers: {'X-CSRF-Token': card.dataset.csrf}});
        return r.status; }""")
    assert status == 403
