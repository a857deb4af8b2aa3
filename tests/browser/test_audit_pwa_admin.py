"""Admin manages users (api.md: a user's password is "set on create, or to reset"): the
user's card resets a password, and the user signs in with the new one."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def test_admin_resets_a_users_password(new_page, live, console):
    team = live.team()
    page = new_page(DESKTOP)
    sign_in(page, live.user("admin"))
    page.get_by_label("Search users").fill(team["officer"])
    card = page.locator(".cards > li", has_text=team["officer"])
    card.get_by_role("button", name="Reset password").click()
    password = card.get_by_label("New password")
    password.fill("short")
    card.get_by_role("button", name="Save password").click()
    expect(password).to_have_attribute("aria-invalid", "true")
    password.fill("a-brand-new-password-2026")
    card.get_by_role("button", name="Save password").click()
    expect(card.get_by_role("status").last).to_contain_text("New password set")
    expect(password).to_have_value("")
    status, body = live.api(
        "POST",
        "/auth/login",
        body={"email": team["officer"], "password": "a-brand-new-password-2026"},
    )
    assert status == 200, body
    assert console.unexpected(allow_network_noise=True) == []
