"""Every view: accessible (axe-core, WCAG 2.2 A/AA with target-size), reflows at 320 px,
no console errors or CSP violations, screenshots at phone and desktop size; installable."""

import os
import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    screenshot,
    sign_in,
    wait_offline_ready,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

ROOT = Path(__file__).resolve().parents[2]
README_SHOTS = ROOT / "docs" / "screenshots"
# The screenshots the README shows (kept current with UPDATE_SCREENSHOTS=1).
README_VIEWS = (
    "sign-in-phone",
    "officer-log-phone",
    "officer-activities-phone",
    "leader-review-phone",
    "manager-dashboard-desktop",
    "admin-desktop",
)
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "rules": {"target-size": {"enabled": True}},
}


def seed_activities(live, team: dict) -> None:
    token = live.token(team["officer"])
    started = datetime.now(UTC).replace(microsecond=0)
    for offset, category, extra in (
        (1, "education", {}),
        (30, "community_referral", {"referral_to": "youth_services", "outcome": "referral_made"}),
        (45, "mediation", {"outcome": "alternative_measures"}),
    ):
        body = {
            "id": str(uuid.uuid4()),
            "school_id": team["school_id"],
            "category": category,
            "started_at": (started - timedelta(days=offset)).isoformat(),
            "duration_minutes": 40,
            "audience": ["students", "staff"],
            "participant_count": 12,
            "summary": "Routine visit, no names recorded.",
            **extra,
        }
        status, response = live.api("POST", "/activities", token=token, body=body)
        assert status == 201, response


OVERFLOWING = """[...document.querySelectorAll('body *')]
    .filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > innerWidth + 1)
    .slice(0, 5).map((e) => `${e.tagName}.${e.className}`)"""


def assert_reflows(page, name: str) -> None:
    """Nothing but a table's own scroll box is wider than the window."""
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    width = page.viewport_size["width"]
    assert fits, f"{name} scrolls sideways at {width} px: {page.evaluate(OVERFLOWING)}"


SMALL_TARGETS = """[...document.querySelectorAll('a[href], button, input, select, textarea')]
    .map((e) => (['checkbox', 'radio'].includes(e.type) && e.closest('label')) || e)
    .filter((e) => getComputedStyle(e).visibility === 'visible' && e.getClientRects().length)
    .map((e) => [e.getBoundingClientRect(), e])
    .filter(([box]) => box.width > 1 && box.height > 1 && box.height < 47.5)
    .map(([box, e]) => `${e.tagName} "${e.textContent.trim().slice(0, 30)}" ${box.height}px`)"""


def assert_thumb_sized(page, name: str) -> None:
    """pwa.md: every control at least 48 px tall (a checkbox or radio: its label)."""
    assert page.evaluate(SMALL_TARGETS) == [], name


def check_view(page, axe, name: str) -> None:
    assert_thumb_sized(page, name)
    text = page.inner_text("body")
    assert re.search(r"null|undefined|NaN|\[object", text) is None, f"{name}: {text[:400]}"
    results = axe.run(page, options=AXE_OPTIONS).response
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], name
    assert_reflows(page, name)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size({"width": 320, "height": 640})  # 200 % zoom of a 640 px window
    assert_reflows(page, name)
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in (f"{name}-phone", f"{name}-desktop"):
            if shot in README_VIEWS:
                shutil.copyfile(ARTIFACTS / f"{shot}.png", README_SHOTS / f"{shot}.png")
    page.set_viewport_size(PHONE)


def test_every_view_is_accessible_without_console_errors(new_page, live, console):
    team = live.team()
    seed_activities(live, team)
    axe = Axe()

    page = new_page()
    page.goto("/")
    page.get_by_label("Email").wait_for()
    check_view(page, axe, "sign-in")

    sign_in(page, team["officer"])
    page.get_by_label("School").wait_for()
    page.get_by_label("Category").select_option("community_referral")
    page.get_by_label("Referred to").wait_for()
    check_view(page, axe, "officer-log")
    page.get_by_role("link", name="My activities").click()
    page.get_by_text("Synced").first.wait_for()
    check_view(page, axe, "officer-activities")
    page.get_by_role("link", name="History").first.click()
    page.get_by_role("heading", name="Activity history").wait_for()
    page.get_by_text("Version 1").wait_for()
    check_view(page, axe, "activity-history")

    leader = new_page()
    sign_in(leader, team["leader"])
    leader.locator(".cards > li").first.wait_for()
    check_view(leader, axe, "leader-review")

    manager = new_page()
    sign_in(manager, live.user("program_manager"))
    manager.locator("figure svg").first.wait_for()
    check_view(manager, axe, "manager-dashboard")

    admin = new_page()
    sign_in(admin, live.user("admin"))
    admin.get_by_role("heading", name="Users and assignments").wait_for()
    check_view(admin, axe, "admin")

    assert console.unexpected() == []


def test_app_is_installable(live, playwright_instance, tmp_path):
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=PHONE,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(live.url + "/")
        page.get_by_label("Email").wait_for()
        wait_offline_ready(page)
        session = context.new_cdp_session(page)
        errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
        manifest = session.send("Page.getAppManifest")
        assert manifest["errors"] == []
    finally:
        context.close()


def test_readme_shows_a_screenshot_of_each_role_view():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in README_VIEWS:
        assert (README_SHOTS / f"{name}.png").is_file(), name
        assert f"docs/screenshots/{name}.png" in readme, name
