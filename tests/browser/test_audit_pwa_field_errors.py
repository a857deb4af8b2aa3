"""Errors are tied to the fields they are about (aria-invalid, aria-describedby naming the
message), on the sign-in form, the survey's Code field and the manager's new-round form."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

DESCRIPTION = """(el) => (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent || '').join(' ')"""


def assert_tied(control, words: str) -> None:
    expect(control).to_have_attribute("aria-invalid", "true")
    assert words in control.evaluate(DESCRIPTION)


def test_sign_in_with_an_empty_password_marks_the_password_field(new_page, live, console):
    page = new_page()
    page.goto("/")
    page.get_by_label("Email").fill(live.user("officer"))
    page.get_by_role("button", name="Sign in").click()
    assert_tied(page.get_by_label("Password"), "password")
    assert page.get_by_label("Email").get_attribute("aria-invalid") is None
    page.get_by_label("Password").fill("wrong password, surely")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    assert page.get_by_label("Password").get_attribute("aria-invalid") is None
    assert console.unexpected(allow_network_noise=True) == []


def test_survey_code_not_found_is_tied_to_the_code_field(new_page, live, console):
    page = new_page()
    page.goto("/survey")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Code").fill("nope")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("alert")).to_contain_text("could not find this code")
    assert_tied(page.get_by_label("Code"), "could not find this code")
    assert console.unexpected(allow_network_noise=True) == []


def test_new_round_errors_are_said_at_each_field_in_words(new_page, live, console):
    page = new_page(DESKTOP)
    sign_in(page, live.user("program_manager"))
    page.goto("/#/voice")
    page.get_by_role("button", name="Open round").click()
    for label in ("Title", "Opens on", "Closes on"):
        control = page.get_by_label(label, exact=True)
        expect(control).to_have_attribute("aria-invalid", "true")
        assert control.evaluate(DESCRIPTION).strip(), label
    schools = page.get_by_role("group", name="Schools")
    assert schools.evaluate(DESCRIPTION).strip()
    text = page.locator("main").inner_text()
    for raw in ("school ids", "closes on", "opens on", "school_ids"):
        assert raw not in text, raw
    assert console.unexpected(allow_network_noise=True) == []


def test_a_code_count_out_of_range_is_said_at_its_field(new_page, live, console):
    from tests.browser.test_survey import open_round

    team = live.team()
    _manager, made = open_round(live, team)
    page = new_page()
    sign_in(page, team["leader"])
    page.goto(f"/#/voice/{made['id']}")
    count = page.get_by_label("How many codes")
    count.fill("5000")
    page.get_by_role("button", name="Make codes").click()
    expect(count).to_have_attribute("aria-invalid", "true")
    assert "1000" in count.evaluate(DESCRIPTION)
    count.fill("3")
    page.get_by_role("button", name="Make codes").click()
    page.get_by_role("heading", name="3 new codes").wait_for()
    assert count.get_attribute("aria-invalid") is None
    assert console.unexpected(allow_network_noise=True) == []


def test_dashboard_dates_the_wrong_way_round_are_said_at_the_field(new_page, live, console):
    page = new_page(DESKTOP)
    sign_in(page, live.user("program_manager"))
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.locator("p[role=status]", has_text="in total").wait_for()
    page.get_by_label("From").fill("2026-12-01")
    to = page.get_by_role("textbox", name="To", exact=True)
    to.fill("2026-01-01")
    page.get_by_role("button", name="Show", exact=True).click()
    assert_tied(to, "before")
    text = page.locator("main").inner_text()
    assert "Invalid input in" not in text
    # The totals and charts of the previous filters are not left under the refused ones.
    expect(page.locator("p[role=status]", has_text="in total")).to_have_count(0)
    assert console.unexpected(allow_network_noise=True) == []
