"""Logging on a phone: the Log view stays open for the next entry, with its recent list, and
every contract label resolves to exactly one visible control."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, log_activity, sign_in, wait_offline_ready
from tests.factories import make_school, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

LOG_LABELS = (
    "Category",
    "School",
    "Started",
    "Duration (minutes)",
    "Audience",
    "Participants",
    "Summary",
    "Referred to",
    "Outcome",
)


def officer_with_two_schools(live) -> dict:
    with live.app.app_context():
        first, second = make_school(), make_school()
        officer = make_user("officer", [first, second])
        return {
            "officer": officer.email,
            "schools": [(first.id, first.name), (second.id, second.name)],
        }


def assert_one_visible(page, label: str) -> None:
    found = page.get_by_label(label)
    assert found.count() == 1, f"{label!r} names {found.count()} elements"
    expect(found).to_be_visible()


def test_save_stays_on_log_view_with_fresh_form_and_recent_list(new_page, live, console):
    setup = officer_with_two_schools(live)
    (_, first_name), (second_id, second_name) = setup["schools"]
    page = new_page()
    sign_in(page, setup["officer"])
    page.get_by_label("School").wait_for()
    wait_offline_ready(page)
    page.context.set_offline(True)

    page.get_by_label("Category").select_option("education")
    page.get_by_label("School").select_option(label=second_name)
    page.get_by_label("Started").fill("2026-01-05T08:30")
    page.get_by_label("Duration (minutes)").fill("40")
    audience = page.get_by_label("Audience")
    audience.get_by_label("Students").uncheck()
    audience.get_by_label("Staff").check()
    page.get_by_label("Participants").fill("12")
    page.get_by_label("Summary").fill("Talk on online safety.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_label("Category")).to_have_value("")
    status = page.get_by_role("status")
    expect(status).to_have_text("Saved on this phone · 1 waiting to sync · offline")
    assert page.url.endswith("#/log")
    page.get_by_role("heading", name="Log activity").wait_for()
    assert page.evaluate("document.activeElement.name") == "category"
    assert page.get_by_label("School").input_value() == str(second_id)  # the last one used
    started = datetime.fromisoformat(page.get_by_label("Started").input_value())
    assert abs(started - datetime.now()) < timedelta(minutes=5)
    for label in ("Duration (minutes)", "Participants", "Summary", "Outcome"):
        assert page.get_by_label(label).input_value() == "", label
    assert audience.get_by_label("Students").is_checked()
    assert not audience.get_by_label("Staff").is_checked()

    recent = page.locator("section", has=page.get_by_role("heading", name="Recent on this phone"))
    card = recent.locator(".cards > li")
    expect(card).to_have_count(1)
    assert f"Education · {second_name}" in card.inner_text()
    assert card.get_by_text("Pending sync").count() == 1
    assert card.get_by_text("Submitted").count() == 1

    # The next one straight away: no navigation, no re-typing the school.
    log_activity(page, "Mediation", "25", "2")
    expect(status).to_have_text("Saved on this phone · 2 waiting to sync · offline")
    expect(card).to_have_count(2)
    assert "Mediation" in card.first.inner_text()  # newest first
    assert first_name not in recent.inner_text()

    page.reload()
    page.get_by_role("heading", name="Recent on this phone").wait_for()
    assert page.get_by_text("Pending sync").count() == 2
    assert page.get_by_text("A draft you had not saved was restored.").count() == 0

    page.context.set_offline(False)
    page.get_by_text("Synced").nth(1).wait_for()  # the list follows the sync, live
    assert page.get_by_text("Pending sync").count() == 0
    expect(status).to_have_text("Saved on this phone · 0 waiting to sync · all sent to the server")
    page.get_by_role("link", name="All activities on this phone (2)").click()
    page.get_by_role("heading", name="My activities").wait_for()
    assert page.locator(".cards > li").count() == 2
    assert console.unexpected(allow_network_noise=True) == []


def test_contract_labels_resolve_to_one_visible_control(new_page, live, console):
    team = live.team()
    status, _ = live.api(
        "POST",
        "/activities",
        token=live.token(team["officer"]),
        body={
            "id": str(uuid.uuid4()),
            "school_id": team["school_id"],
            "category": "community_referral",
            "referral_to": "housing",
            "outcome": "referral_made",
            "started_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "duration_minutes": 30,
            "audience": ["families"],
            "participant_count": 2,
            "summary": "Referral, no names recorded.",
        },
    )
    assert status == 201
    page = new_page(PHONE)
    page.goto("/")
    page.get_by_role("heading", name="Sign in").wait_for()
    for label in ("Email", "Password"):
        assert_one_visible(page, label)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(1)

    sign_in(page, team["officer"])
    page.get_by_text("Synced").wait_for()  # the recent list is on the page too
    assert page.get_by_label("Referred to").count() == 1
    expect(page.get_by_label("Referred to")).to_be_hidden()
    page.get_by_label("Category").select_option(label="Community referral")
    for label in LOG_LABELS:
        assert_one_visible(page, label)
    audience = page.get_by_label("Audience")
    assert audience.evaluate("(el) => el.tagName") == "FIELDSET"
    for choice in ("Students", "Staff", "Families", "Community"):
        expect(audience.get_by_label(choice)).to_have_count(1)
        expect(audience.get_by_label(choice)).to_be_visible()
    expect(page.get_by_role("group", name="Audience")).to_have_count(1)
    expect(page.get_by_role("button", name="Save")).to_have_count(1)
    assert console.unexpected() == []


def test_form_limits_and_choices_are_the_served_documents(new_page, live, console):
    status, document = live.api("GET", "/openapi.json")
    assert status == 200
    schemas = document["components"]["schemas"]
    fields = schemas["ActivityCreate"]["properties"]
    duration, participants = fields["duration_minutes"], fields["participant_count"]
    referral_category = fields["referral_to"]["x-required-when"]["category"]
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    page.get_by_label("School").wait_for()

    expect(page.get_by_label("Duration (minutes)")).to_have_attribute(
        "min", str(duration["minimum"])
    )
    expect(page.get_by_label("Duration (minutes)")).to_have_attribute(
        "max", str(duration["maximum"])
    )
    expect(page.get_by_label("Participants")).to_have_attribute("max", str(participants["maximum"]))
    expect(page.get_by_label("Summary")).to_have_attribute(
        "maxlength", str(fields["summary"]["maxLength"])
    )
    outcomes = (
        page.get_by_label("Outcome").locator("option").evaluate_all("os => os.map(o => o.value)")
    )
    assert outcomes == ["", *schemas["Outcome"]["enum"]]
    audience = page.locator("#audience-group input").evaluate_all("bs => bs.map(b => b.value)")
    assert audience == schemas["Audience"]["enum"]

    page.get_by_label("Category").select_option(referral_category)
    expect(page.get_by_label("Referred to")).to_be_visible()
    referrals = (
        page.get_by_label("Referred to")
        .locator("option")
        .evaluate_all("os => os.map(o => o.value)")
    )
    assert referrals == ["", *schemas["ReferralTo"]["enum"]]
    page.get_by_label("Category").select_option("education")
    expect(page.get_by_label("Referred to")).to_be_hidden()

    page.get_by_label("Duration (minutes)").fill(str(duration["maximum"] + 1))
    page.get_by_label("Participants").fill(str(participants["maximum"] + 1))
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_text(
            f"Enter whole minutes from {duration['minimum']} to {duration['maximum']}."
        )
    ).to_be_visible()
    expect(
        page.get_by_text(
            f"Enter a count from {participants['minimum']} to {participants['maximum']}."
        )
    ).to_be_visible()
    assert "0 waiting to sync" in page.locator("#sync-status").inner_text()
    assert console.unexpected() == []
