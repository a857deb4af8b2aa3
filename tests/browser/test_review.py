"""The school leader's queue: officers by name, a filter per school, and empty states."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from api.extensions import db
from api.models import Activity
from tests.browser.conftest import PASSWORD, sign_in
from tests.factories import make_school, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def post(live, email: str, school_id: int, category: str) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "school_id": school_id,
        "category": category,
        "started_at": (datetime.now(UTC) - timedelta(hours=5)).isoformat(),
        "duration_minutes": 30,
        "audience": ["students"],
        "participant_count": 10,
    }
    status, response = live.api("POST", "/activities", token=live.token(email), body=body)
    assert status == 201, response
    return response


def backdate(live, activity_id: str, logged: timedelta, submitted: timedelta) -> None:
    """Logged and submitted that long ago."""
    now = datetime.now(UTC)
    with live.app.app_context():
        db.session.execute(
            update(Activity)
            .where(Activity.id == uuid.UUID(activity_id))
            .values(created_at=now - logged, submitted_at=now - submitted)
        )
        db.session.commit()


def test_leader_of_two_schools_filters_queue_and_sees_officer_names(new_page, live, console):
    with live.app.app_context():
        north, south = make_school(name="North Junior High"), make_school(name="South Elementary")
        rivera = make_user("officer", [north], display_name="Cst. Avery Rivera").email
        chen = make_user("officer", [south], display_name="Cst. Sam Chen").email
        leader = make_user("school_leader", [north, south]).email
        north_id, south_id = north.id, south.id
    post(live, rivera, north_id, "education")
    post(live, chen, south_id, "mediation")

    page = new_page()
    sign_in(page, leader)
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(2)
    page.get_by_role("heading", name="North Junior High · 1 activity").wait_for()
    page.get_by_role("heading", name="South Elementary · 1 activity").wait_for()
    assert "Cst. Avery Rivera" in cards.filter(has_text="Education").inner_text()
    assert "Cst. Sam Chen" in cards.filter(has_text="Mediation").inner_text()
    assert page.get_by_text("Officer #").count() == 0

    page.get_by_label("School", exact=True).select_option(label="South Elementary")
    expect(cards).to_have_count(1)
    assert "Cst. Sam Chen" in cards.inner_text()
    assert page.get_by_role("heading", name="North Junior High").count() == 0
    cards.get_by_role("button", name="Confirm", exact=True).click()
    # The card stays in place, its state in words (issue 16); a fresh load no longer lists it.
    expect(cards.get_by_role("status").filter(has_text="Review saved.")).to_be_visible()
    expect(page.get_by_text("Confirmed", exact=True)).to_have_count(1)  # the card's state
    page.get_by_label("School", exact=True).select_option(label="All my schools")
    page.get_by_label("School", exact=True).select_option(label="South Elementary")
    page.get_by_text("Nothing waiting for review at South Elementary.").wait_for()

    page.get_by_label("School", exact=True).select_option(label="North Junior High")
    expect(cards).to_have_count(1)
    cards.get_by_role("link", name="History").click()
    page.get_by_text("logged by Cst. Avery Rivera").wait_for()
    assert "by Cst. Avery Rivera" in page.locator(".cards > li").first.inner_text()

    page.goto("/#/review")
    page.get_by_label("Show").select_option(label="Confirmed")
    page.get_by_role("heading", name="South Elementary · 1 activity").wait_for()
    expect(cards).to_have_count(1)
    cards.get_by_role("link", name="History").click()
    page.get_by_text("Version 2: Confirmed").wait_for()
    assert "(you)" in page.locator(".cards > li").nth(1).inner_text()
    assert console.unexpected() == []


def test_a_leader_signs_out_and_in_again_by_the_contract_labels(new_page, live, console):
    """Sign out leaves the queue at once: the next Email and Password a test (or a person)
    fills are the sign-in form's, never a control of the screen being left."""
    team = live.team()
    page = new_page()
    sign_in(page, team["leader"])
    page.get_by_role("heading", name="Review queue").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill(team["leader"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Review queue").wait_for()
    assert console.unexpected() == []


def test_leader_without_schools_or_work_gets_a_clear_message(new_page, live, console):
    with live.app.app_context():
        lonely = make_user("school_leader").email
        idle = make_user("school_leader", [make_school()]).email

    page = new_page()
    sign_in(page, lonely)
    page.get_by_text("You do not lead any school yet").wait_for()
    expect(page.get_by_role("button", name="Confirm selected")).to_be_hidden()

    other = new_page()
    sign_in(other, idle)
    other.get_by_text("Nothing waiting for review.").wait_for()
    expect(other.get_by_role("button", name="Confirm selected")).to_be_hidden()
    assert other.locator(".cards > li").count() == 0
    assert console.unexpected() == []


def test_a_queue_longer_than_one_page_shows_every_waiting_activity(new_page, live, console):
    team = live.team()
    started = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    content = {"school_id": team["school_id"], "category": "education", "started_at": started}
    mutations = [
        {
            "mutation_id": str(uuid.uuid4()),
            "op": "upsert",
            "activity_id": str(uuid.uuid4()),
            "base_version": None,
            "data": content | {"duration_minutes": 1 + n % 700},
        }
        for n in range(510)
    ]
    token = live.token(team["officer"])
    for batch in (mutations[:500], mutations[500:]):
        body = {"device_id": str(uuid.uuid4()), "mutations": batch}
        status, response = live.api("POST", "/sync/push", token=token, body=body)
        assert status == 200 and {r["status"] for r in response["results"]} == {"applied"}

    page = new_page()
    sign_in(page, team["leader"])
    expect(page.locator(".cards > li")).to_have_count(510, timeout=20_000)
    page.get_by_role("heading", name=re.compile(r"· 510 activities$")).wait_for()
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_have_count(510)
    assert console.unexpected() == []


def test_queue_marks_overdue_and_orders_by_when_each_was_last_submitted(new_page, live, console):
    """Logged 20 days ago but corrected after a dispute yesterday: waiting one day, not
    overdue, and after one waiting ten days (overdue, first)."""
    team = live.team()
    officer, leader = live.token(team["officer"]), live.token(team["leader"])
    corrected = post(live, team["officer"], team["school_id"], "education")
    waiting = post(live, team["officer"], team["school_id"], "mediation")
    fresh = post(live, team["officer"], team["school_id"], "counselling")
    path = f"/activities/{corrected['id']}"
    status, _ = live.api("POST", f"{path}/dispute", token=leader, body={"reason": "Which class?"})
    assert status == 200
    status, _ = live.api("PATCH", path, token=officer, body={"participant_count": 12})
    assert status == 200
    backdate(live, corrected["id"], logged=timedelta(days=20), submitted=timedelta(days=1))
    backdate(live, waiting["id"], logged=timedelta(days=10), submitted=timedelta(days=10))
    backdate(live, fresh["id"], logged=timedelta(days=3), submitted=timedelta(days=3))

    page = new_page()
    sign_in(page, team["leader"])
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("Mediation")
    expect(cards.nth(0)).to_contain_text("Overdue")
    expect(cards.nth(1)).to_contain_text("Counselling")
    expect(cards.nth(2)).to_contain_text("Education")
    expect(cards.nth(2)).to_contain_text("Changed after you disputed")
    expect(page.locator(".badge.overdue")).to_have_count(1)
    page.get_by_role("heading", name=re.compile(r"· 3 activities · 1 overdue$")).wait_for()
    assert console.unexpected() == []
