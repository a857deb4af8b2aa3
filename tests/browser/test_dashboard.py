"""The program manager's dashboard shows the same numbers as the reports API."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def table_rows(page, caption: str) -> dict[str, list[str]]:
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    rows = {}
    for row in table.locator("tbody tr").all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        rows[cells[0]] = cells[1:]
    return rows


def test_dashboard_tables_and_charts_match_the_reports_api(new_page, live, console):
    team = live.team(level="senior_high")
    token = live.token(team["officer"])
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    for category, minutes in (("education", 60), ("education", 30), ("counselling", 25)):
        body = {
            "id": str(uuid.uuid4()),
            "school_id": team["school_id"],
            "category": category,
            "started_at": started.isoformat(),
            "duration_minutes": minutes,
            "audience": ["students"],
            "participant_count": 5,
        }
        assert live.api("POST", "/activities", token=token, body=body)[0] == 201

    page = new_page()
    sign_in(page, live.user("program_manager"))
    page.get_by_label("School", exact=True).select_option(label=team["school_name"])
    page.get_by_role("button", name="Show").click()
    page.get_by_text("3 activities, 115 minutes in total.").wait_for()

    manager = live.token(live.user("program_manager"))
    start, end = (page.get_by_label(name, exact=True).input_value() for name in ("From", "To"))
    query = f"from={start}&to={end}"
    query += f"&school_id={team['school_id']}"
    status, by_category = live.api(
        "GET", f"/reports/activity-mix?group_by=category&{query}", token=manager
    )
    assert status == 200
    shown = table_rows(page, "Activities by category (numbers)")
    expected = {
        {"education": "Education", "counselling": "Counselling"}[row["category"]]: [
            str(row["count"]),
            str(row["minutes"]),
        ]
        for row in by_category["rows"]
    }
    assert {label: cells[:2] for label, cells in shown.items()} == expected
    assert expected == {"Education": ["2", "90"], "Counselling": ["1", "25"]}

    status, by_level = live.api(
        "GET", f"/reports/activity-mix?group_by=school_level&{query}", token=manager
    )
    assert status == 200
    assert table_rows(page, "Activities by school level (numbers)")["Senior high"][:2] == [
        str(by_level["rows"][0]["count"]),
        str(by_level["rows"][0]["minutes"]),
    ]

    chart = page.locator("figure", has_text="Activities by category").locator("svg[role=img]")
    assert chart.locator("rect").count() == 2
    assert "Education 2" in chart.locator("desc").text_content()
    activity_charts = "figure:not(section[aria-labelledby='voice-heading'] *) svg[role=img]"
    assert page.locator(activity_charts).count() == 4

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    csv = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert csv[0].startswith("category,") and len(csv) == 3
    assert console.unexpected() == []


def test_dashboard_for_a_school_without_activities_says_so_without_charts(new_page, live, console):
    team = live.team(level="elementary")
    page = new_page()
    sign_in(page, live.user("program_manager"))
    page.locator("figure svg").first.wait_for()  # other tests' activities, all schools
    page.get_by_label("School", exact=True).select_option(label=team["school_name"])
    page.get_by_role("button", name="Show").click()
    page.get_by_text("No activities to show yet.").wait_for()
    assert page.get_by_text("0 activities, 0 minutes in total.").count() == 1
    # No activity chart (the community voice section below is program-wide, other tests' rounds)
    assert page.locator("figure:not(section[aria-labelledby='voice-heading'] *)").count() == 0
    review = page.locator("table", has=page.locator("caption", has_text="Review of logged"))
    expect(review.locator("tbody tr")).to_have_count(1)  # the school's report, not the last one
    assert table_rows(page, "Review of logged activities by school") == {
        team["school_name"]: ["0", "0", "0", "0", "—", "—"]
    }
    assert console.unexpected() == []


def test_dashboard_with_no_data_yet_shows_a_message_not_a_broken_chart(new_page, live, console):
    empty_mix = {"rows": [], "totals": {"count": 0, "minutes": 0}, "filters": {}}
    empty_review = {"rows": [], "totals": {}, "filters": {}}

    def nothing_yet(route):
        path = route.request.url.split("/api/v1", 1)[1]
        if path.startswith(("/schools", "/surveys")):
            route.fulfill(json={"items": [], "next_cursor": None})
        elif path.startswith("/reports/confirmation"):
            route.fulfill(json=empty_review)
        else:
            route.fulfill(json=empty_mix)

    page = new_page()
    yet = ("/api/v1/schools", "/api/v1/reports/", "/api/v1/surveys")
    page.route(lambda url: any(part in url for part in yet), nothing_yet)
    sign_in(page, live.user("program_manager"))
    page.get_by_text("No schools and no activities yet.").wait_for()
    page.get_by_text("0 activities, 0 minutes in total.").wait_for()
    page.get_by_text("No schools to report on yet.").wait_for()
    assert page.locator("svg, figure, table").count() == 0
    assert page.get_by_role("alert").count() == 0  # no error box: empty is not a failure
    assert console.unexpected() == []
