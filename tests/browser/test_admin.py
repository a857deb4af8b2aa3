"""Admin: add a school, then assign an officer to it."""

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def test_admin_adds_school_and_assigns_officer(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, live.user("admin"))
    page.get_by_label("School name").fill("Ridgeview Junior High")
    page.get_by_label("Code").fill("RIDGE-JH")
    page.get_by_role("button", name="Add school").click()
    page.get_by_text("School added: Ridgeview Junior High.").wait_for()
    page.get_by_role("cell", name="RIDGE-JH").wait_for()

    card = page.locator(".cards > li", has_text=team["officer"])
    card.get_by_role("button", name="Edit").click()
    card.get_by_label("Find a school").fill("Ridgeview")  # the picker scales to many schools
    card.get_by_label("Ridgeview Junior High").check()
    card.get_by_role("button", name="Save assignments").click()
    page.get_by_text("User updated:").wait_for()

    status, body = live.api("GET", "/schools", token=live.token(team["officer"]))
    assert status == 200
    assert {s["code"] for s in body["items"]} == {"RIDGE-JH", live_code(live, team)}
    assert console.unexpected() == []


def live_code(live, team: dict) -> str:
    status, body = live.api(
        "GET", f"/schools/{team['school_id']}", token=live.token(team["leader"])
    )
    assert status == 200
    return body["code"]
