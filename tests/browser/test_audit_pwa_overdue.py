"""The review queue's "Overdue" is the server's rule: calendar days in the program's time
zone (api.md: "overdue" in days is a program date), as the confirmation report and the
reminder emails count it, not a rolling 7 x 24 hours on the device's clock."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from api.extensions import db
from api.models import Activity
from api.services.reports import overdue_since
from tests.browser.conftest import sign_in
from tests.browser.test_review import post

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

PROGRAM = ZoneInfo("America/Edmonton")  # the live server's PROGRAM_TIMEZONE (the default)


def submitted_at(live, activity_id: str, when: datetime) -> None:
    with live.app.app_context():
        db.session.execute(
            update(Activity).where(Activity.id == uuid.UUID(activity_id)).values(submitted_at=when)
        )
        db.session.commit()


def test_queue_marks_overdue_by_program_calendar_days(new_page, live, console):
    team = live.team()
    now = datetime(2026, 10, 8, 11, 0, tzinfo=PROGRAM)
    # Submitted on 1 October just after midnight: on 8 October, 7 days on, not yet overdue
    # ("on 9 October, with 7 days, what was submitted on 1 October or before").
    waiting = post(live, team["officer"], team["school_id"], "mediation")
    submitted_at(live, waiting["id"], datetime(2026, 10, 1, 0, 30, tzinfo=PROGRAM))
    # Submitted on 30 September late in the evening: overdue on 8 October.
    late = post(live, team["officer"], team["school_id"], "counselling")
    submitted_at(live, late["id"], datetime(2026, 9, 30, 23, 30, tzinfo=PROGRAM))
    with live.app.app_context():
        before = overdue_since(7, now)
    assert datetime(2026, 9, 30, 23, 30, tzinfo=PROGRAM) < before  # the server's rule
    assert not datetime(2026, 10, 1, 0, 30, tzinfo=PROGRAM) < before

    page = new_page()
    page.clock.install(time=now)
    sign_in(page, team["leader"])
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Counselling")).to_contain_text("Overdue")
    expect(cards.filter(has_text="Mediation")).not_to_contain_text("Overdue")
    expect(page.locator(".badge.overdue")).to_have_count(1)
    assert console.unexpected() == []


def test_queue_counts_overdue_with_the_programs_setting(new_page, live, console):
    """REVIEW_OVERDUE_DAYS is the program's (sign-in and /me tell it): with 10, what was
    submitted 8 days ago is not overdue on the phone, as it is not in the report."""
    team = live.team()
    now = datetime(2026, 10, 8, 11, 0, tzinfo=PROGRAM)
    late = post(live, team["officer"], team["school_id"], "counselling")
    submitted_at(live, late["id"], datetime(2026, 9, 30, 23, 30, tzinfo=PROGRAM))

    def ten_days(route):
        response = route.fetch()
        body = response.json()
        (body.get("user") or body)["review_overdue_days"] = 10
        route.fulfill(response=response, json=body)

    page = new_page()
    page.route("**/api/v1/auth/login", ten_days)
    page.route("**/api/v1/me", ten_days)
    page.clock.install(time=now)
    sign_in(page, team["leader"])
    cards = page.locator(".cards > li")
    expect(cards.filter(has_text="Counselling")).to_have_count(1)
    expect(page.locator(".badge.overdue")).to_have_count(0)
    assert console.unexpected() == []
