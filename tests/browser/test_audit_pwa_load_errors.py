"""A view that reloads on a filter change and fails says so, in words, instead of leaving the
previous list under the new filter (a leader would read "To review" cards as "Confirmed")
with an uncaught error."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_review import post
from tests.browser.test_survey import open_round

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

UNAVAILABLE = json.dumps(
    {"error": {"code": "unavailable", "message": "The service is unavailable.", "details": {}}}
)


def refuse(route):
    route.fulfill(status=503, content_type="application/json", body=UNAVAILABLE)


def test_review_filter_change_that_fails_is_said_and_drops_the_old_list(new_page, live, console):
    team = live.team()
    post(live, team["officer"], team["school_id"], "education")
    page = new_page()
    sign_in(page, team["leader"])
    expect(page.locator(".cards > li")).to_have_count(1)
    page.route("**/api/v1/activities?*", refuse)
    page.get_by_label("Show").select_option("confirmed")
    expect(page.get_by_role("alert")).to_contain_text("The service is unavailable.")
    expect(page.locator(".cards > li")).to_have_count(0)
    expect(page.get_by_role("button", name="Confirm selected")).to_be_hidden()
    assert not [e for e in console.errors if e.startswith("pageerror")], console.errors


def test_results_regrouping_that_fails_is_said(new_page, live, console):
    team = live.team()
    _manager, made = open_round(live, team)
    page = new_page()
    sign_in(page, team["leader"])
    page.goto(f"/#/voice/{made['id']}")
    page.locator(".participation").wait_for()
    page.route("**/results?*", refuse)
    page.get_by_label("Compare by").select_option("audience")
    expect(page.get_by_role("alert")).to_contain_text("The service is unavailable.")
    assert not [e for e in console.errors if e.startswith("pageerror")], console.errors
