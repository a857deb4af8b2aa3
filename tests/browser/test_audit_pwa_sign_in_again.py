"""An officer whose sign-in ended before a reload is told by Sync now to sign in again
(pwa.md: "401: keep the outbox, ask to sign in again"), and the words lead there: no
detour through Sign out and its warning about waiting entries."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, log_activity, wait_offline_ready
from tests.browser.test_no_lost_edits import phone
from tests.browser.test_officer_sync import READ_SESSION, server_activities

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def test_sync_now_with_an_ended_session_leads_to_sign_in_again(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    wait_offline_ready(page)
    page.context.set_offline(True)
    log_activity(page, "Education", "30", "12")
    session = page.evaluate(READ_SESSION)
    status, _ = live.api("POST", "/auth/logout", token=session["refresh_token"])
    assert status == 204
    page.context.set_offline(False)
    page.get_by_role("heading", name="Sign in again").wait_for()
    page.goto("/#/log")
    page.reload()
    page.get_by_label("Category").wait_for()
    page.get_by_role("button", name="Sync now").click()
    said = page.locator("#sync-said")
    expect(said).to_contain_text("Sign in again")
    said.get_by_role("link", name="Sign in again").click()
    page.get_by_role("heading", name="Sign in again").wait_for()
    expect(page.get_by_label("Email")).to_have_value(team["officer"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Log activity").wait_for()
    expect(page.locator("#sync-status")).to_contain_text("0 waiting")
    expect(said).not_to_contain_text("Sign in again")
    assert [a["category"] for a in server_activities(live, team["officer"])] == ["education"]
    assert console.unexpected(allow_network_noise=True) == []
