"""Sign-out with only an unsaved form warns in true words: the form is not "sent", and another
officer can sign in on this phone (after agreeing to delete it), unlike with waiting entries."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_no_lost_edits import phone

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def test_sign_out_with_only_a_draft_says_what_really_happens(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    page.get_by_label("Summary").fill("Half-written note")
    page.wait_for_timeout(600)  # the draft autosaves
    page.get_by_role("button", name="Sign out").click()
    warning = page.get_by_role("alertdialog")
    expect(warning).to_contain_text("a form you have not saved")
    text = warning.inner_text()
    assert "cannot sign in" not in text, text
    assert "are sent" not in text, text
    assert "deleted" in text, text
    assert console.unexpected(allow_network_noise=True) == []
