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


def test_admin_corrects_a_users_name_email_and_role(new_page, live, console):
    """api.md: PATCH /users/<id> (admin) changes email, display_name and role; the card's
    Details form does, with a taken email said at its field."""
    team = live.team()
    taken = live.user("officer")
    page = new_page(DESKTOP)
    admin = live.user("admin")
    sign_in(page, admin)
    page.get_by_label("Search users").fill(team["leader"])
    card = page.locator(".cards > li", has_text=team["leader"])
    card.get_by_role("button", name="Change details").click()
    email = card.get_by_label("User email")
    expect(email).to_be_focused()
    expect(email).to_have_value(team["leader"])
    email.fill(taken.upper())
    card.get_by_role("button", name="Save details").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    email.fill(team["leader"])
    card.get_by_label("Display name").fill("Dana Whitford-Okafor")
    card.get_by_label("Role").select_option(label="Program manager")
    card.get_by_role("button", name="Save details").click()
    expect(card.get_by_role("status").last).to_have_text("User updated: Dana Whitford-Okafor.")
    expect(card.get_by_role("heading")).to_have_text("Dana Whitford-Okafor")
    expect(card).to_contain_text("Program manager")
    expect(card.get_by_text("Schools: ")).to_have_text("Schools: none")
    users = live.api("GET", "/users?limit=500", token=live.token(admin))[1]["items"]
    changed = next(user for user in users if user["email"] == team["leader"])
    assert (changed["display_name"], changed["role"], changed["school_ids"]) == (
        "Dana Whitford-Okafor",
        "program_manager",
        [],
    )
    assert console.unexpected(allow_network_noise=True) == []
