"""An officer whose sign-in ended before a reload is told by Sync now to sign in again
(pwa.md: "401: keep the outbox, ask to sign in again"), and the words lead there: no
detour through Sign out and its warning about waiting entries."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD
from tests.browser.test_officer_sync import logged_then_signed_out_elsewhere, server_activities

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def test_sync_now_with_an_ended_session_leads_to_sign_in_again(new_page, live, console):
    team, page = logged_then_signed_out_elsewhere(new_page, live, ("Education", "30", "12"))
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
