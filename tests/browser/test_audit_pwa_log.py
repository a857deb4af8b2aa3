"""The activity form refuses at once, at the Started field, a time the server always rejects
(before 2000, api/schemas/activity.py), as it does one far in the future: saved on the phone,
it would come back from the server as "needs attention" days later."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def test_a_start_before_2000_is_refused_at_the_field(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    page.get_by_label("Category").select_option("education")
    page.get_by_label("Started").fill("1999-12-30T09:00")
    page.get_by_label("Duration (minutes)").fill("30")
    page.get_by_role("button", name="Save").click()
    started = page.get_by_label("Started")
    expect(started).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("status")).to_contain_text("0 waiting")
    expect(page.get_by_text("The form is ready for the next activity.")).to_be_hidden()
    assert console.unexpected(allow_network_noise=True) == []
