"""Community voice screens: a leader's view of a round names no school by a placeholder, and
a closed round offers no codes that could never be used."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serving, sign_in
from tests.browser.test_survey import open_round
from tests.survey_support import answer_date

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

PLACEHOLDER = re.compile(r"School \d+")


@pytest.fixture(scope="module")
def live(database_template, tmp_path_factory):
    """A server of this module's own: the rounds made here (a closed one, one over two schools)
    would otherwise become what other tests' managers see as the latest round."""
    with serving(database_template, tmp_path_factory.mktemp("voice")) as server:
        yield server


def test_a_leader_sees_no_placeholder_names_for_other_schools(new_page, live, console):
    team, other = live.team(), live.team()
    admin = live.token(live.user("admin"))
    # Names unlike the factory's "School N", which is what a placeholder looks like.
    renames = (
        (team["school_id"], "Birch Ridge School"),
        (other["school_id"], "Birch Hollow School"),
    )
    for school_id, name in renames:
        status, body = live.api("PATCH", f"/schools/{school_id}", token=admin, body={"name": name})
        assert status == 200, body
    manager = live.token(live.user("program_manager"))
    today = answer_date()
    body = {
        "title": "Two-school survey",
        "opens_on": (today - timedelta(days=1)).isoformat(),
        "closes_on": (today + timedelta(days=14)).isoformat(),
        "school_ids": [team["school_id"], other["school_id"]],
        "audiences": ["staff"],
    }
    status, made = live.api("POST", "/surveys", token=manager, body=body)
    assert status == 201, made
    page = new_page()
    sign_in(page, team["leader"])
    page.goto("/#/voice")
    card = page.locator(".cards > li", has_text="Two-school survey")
    expect(card).to_contain_text("Birch Ridge School")
    expect(card).to_contain_text("1 other school")
    assert not PLACEHOLDER.search(card.inner_text()), card.inner_text()
    page.goto(f"/#/voice/{made['id']}/report")
    page.get_by_role("heading", name="Evaluation: Two-school survey").wait_for()
    lead = page.locator(".lead").inner_text()
    assert "Birch Ridge School" in lead and not PLACEHOLDER.search(lead), lead
    assert console.unexpected() == []


def test_a_closed_round_offers_no_codes(new_page, live, console):
    team = live.team()
    manager, made = open_round(live, team, title="Closed climate survey")
    today = answer_date()
    dates = {
        "opens_on": (today - timedelta(days=20)).isoformat(),
        "closes_on": (today - timedelta(days=1)).isoformat(),
    }
    status, body = live.api("PATCH", f"/surveys/{made['id']}", token=manager, body=dates)
    assert status == 200, body
    page = new_page()
    sign_in(page, team["leader"])
    page.goto(f"/#/voice/{made['id']}")
    page.get_by_role("heading", name="Closed climate survey").wait_for()
    page.get_by_role("heading", name="Results").wait_for()
    expect(page.get_by_role("button", name="Make codes")).to_have_count(0)
    expect(page.get_by_text("This round is closed")).to_be_visible()
    assert console.unexpected() == []
