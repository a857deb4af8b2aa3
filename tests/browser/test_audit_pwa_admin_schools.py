"""Admin manages schools (api.md: PATCH /schools/<id>, admin): a school's name, code and level
can be corrected from the Admin view, not only switched off and on. A wrong level moves the
school's activities in the "by school level" report, so it must be fixable."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def test_admin_corrects_a_schools_name_and_level(new_page, live, console):
    team = live.team()
    page = new_page(DESKTOP)
    sign_in(page, live.user("admin"))
    row = page.get_by_role("row", name=team["school_name"], exact=False).first
    row.get_by_role("button", name=f"Change {team['school_name']}").click()
    form = page.locator("form", has=page.get_by_role("button", name="Save changes"))
    expect(form.get_by_label("School name")).to_have_value(team["school_name"])
    form.get_by_label("School name").fill("Ridgeview Senior High")
    form.get_by_label("Level").select_option(label="Senior high")
    form.get_by_role("button", name="Save changes").click()
    expect(form.get_by_role("status")).to_contain_text("School changed: Ridgeview Senior High.")
    page.get_by_role("rowheader", name="Ridgeview Senior High").wait_for()
    status, body = live.api(
        "GET", f"/schools/{team['school_id']}", token=live.token(team["leader"])
    )
    assert status == 200, body
    assert (body["name"], body["level"]) == ("Ridgeview Senior High", "senior_high")
    assert console.unexpected(allow_network_noise=True) == []
