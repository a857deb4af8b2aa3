"""Issue 16, at 390x844: feedback where the person is looking, no control moving under the
thumb, errors at their field, nothing cut without a labelled scroll region, numbers formatted."""

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import (
    PHONE,
    officer_ready_offline,
    screenshot,
    sign_in,
)
from tests.browser.test_app_views import AXE_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def seed(live, team: dict, count: int, **extra) -> list[str]:
    token = live.token(team["officer"])
    started = datetime.now(UTC).replace(microsecond=0)
    ids = []
    for n in range(count):
        body = {
            "id": str(uuid.uuid4()),
            "school_id": team["school_id"],
            "category": "education",
            "started_at": (started - timedelta(hours=n + 1)).isoformat(),
            "duration_minutes": 30 + n,
            "audience": ["students"],
            "participant_count": 10,
            **extra,
        }
        status, response = live.api("POST", "/activities", token=token, body=body)
        assert status == 201, response
        ids.append(body["id"])
    return ids


def assert_axe_clean(page, name: str) -> None:
    results = Axe().run(page, options=AXE_OPTIONS).response
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], name


def in_viewport(locator, timeout: float = 5.0) -> bool:
    """Whether the element lies wholly on the phone's screen, asked until it does (for up to
    ``timeout`` seconds, as expect() asks): a list re-rendered after a sync replaces its
    cards, so one look can fall between the old card and the new."""
    deadline = time.monotonic() + timeout
    while True:
        box = locator.bounding_box()
        if box is not None and box["height"] > 0:
            if box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]:
                return True
        if time.monotonic() > deadline:
            assert box is not None, "not rendered"
            return False
        locator.page.wait_for_timeout(100)


ELEMENT_AT = """([x, y]) => {
  const el = document.elementFromPoint(x, y);
  const control = el && el.closest('button, a, input, select, textarea, label');
  if (!control) return null;
  const card = control.closest('[data-id]');
  return {
    tag: control.tagName,
    name: control.getAttribute('aria-label') || control.textContent.trim(),
    disabled: Boolean(control.disabled),
    card: card ? card.dataset.id : null,
  };
}"""


def control_at(page, x: float, y: float):
    return page.evaluate(ELEMENT_AT, [x, y])


def test_confirm_keeps_the_card_in_place_and_a_second_tap_confirms_nothing_else(
    new_page, live, console
):
    team = live.team()
    ids = seed(live, team, 3)
    page = new_page()
    sign_in(page, team["leader"])
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(3)
    first = cards.first
    confirm = first.get_by_role("button", name="Confirm", exact=True)
    confirm.scroll_into_view_if_needed()
    box = confirm.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = control_at(page, x, y)
    assert before["name"] == "Confirm" and not before["disabled"]
    # Named as the contract says, and described by its card's heading.
    heading = first.get_by_role("heading").inner_text()
    assert (
        confirm.evaluate(
            "b => document.getElementById(b.getAttribute('aria-describedby')).textContent"
        )
        == heading
    )

    page.mouse.click(x, y)
    said = first.get_by_role("status").filter(has_text="Review saved.")
    expect(said).to_be_visible()
    assert in_viewport(said), "the feedback is out of sight"
    expect(first.get_by_text("Confirmed", exact=True)).to_have_count(1)  # its state, once
    # The spent button keeps its place unseen: a second tap lands on nothing, and no other
    # control slid under the thumb.
    assert control_at(page, x, y) is None
    expect(first.get_by_role("button", name="Confirm")).to_have_count(0)
    expect(first.get_by_role("button", name="Dispute", exact=True)).to_be_visible()
    expect(cards).to_have_count(3)

    page.mouse.click(x, y)  # a double tap
    page.wait_for_timeout(300)
    token = live.token(team["leader"])
    statuses = {i: live.api("GET", f"/activities/{i}", token=token)[1]["status"] for i in ids}
    assert sorted(statuses.values()) == ["confirmed", "submitted", "submitted"]
    assert statuses[before["card"]] == "confirmed"
    assert_axe_clean(page, "review after confirm")
    assert console.unexpected() == []


def test_dispute_errors_are_at_the_reason_field_and_cancel_clears_them(new_page, live, console):
    team = live.team()
    (activity_id,) = seed(live, team, 1)
    page = new_page()
    sign_in(page, team["leader"])
    card = page.locator(".cards > li").first
    card.get_by_role("button", name="Dispute", exact=True).click()
    reason = page.get_by_label("Reason for dispute")
    # While the reason is asked, the form's own Dispute is the card's only one.
    expect(card.get_by_role("button", name="Dispute")).to_have_count(1)
    card.get_by_role("button", name="Dispute", exact=True).click()

    expect(reason).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{reason.get_attribute('id')}-error")
    expect(error).to_have_text("Say why you dispute this activity.")
    assert error.get_attribute("id") in reason.get_attribute("aria-describedby").split()
    assert in_viewport(error)

    # The server's own answer for an identifier in a reason, shown at the field in words.
    text = "Call the parent at 403-555-0199 first."
    status, body = live.api(
        "POST", f"/activities/{activity_id}/dispute", live.token(team["leader"]), {"reason": text}
    )
    assert status == 422, body
    page.route(
        f"**/api/v1/activities/{activity_id}/dispute",
        lambda route: route.fulfill(
            status=422, content_type="application/json", body=json.dumps(body)
        ),
    )
    reason.fill("No visit that day; ask the office.")
    card.get_by_role("button", name="Dispute", exact=True).click()
    expect(error).to_contain_text("review notes and reasons must not contain")
    assert "reason:" not in page.inner_text("body").lower()
    expect(reason).to_have_attribute("aria-invalid", "true")
    assert in_viewport(error)
    assert_axe_clean(page, "dispute with an error")

    cancel = page.get_by_role("button", name="Cancel")
    cancel.scroll_into_view_if_needed()
    box = cancel.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    assert control_at(page, x, y) is None  # a second tap lands on nothing
    expect(page.locator("form.dispute")).to_have_count(0)
    assert page.get_by_text("must not contain").count() == 0
    assert page.get_by_text("Say why").count() == 0

    page.unroute(f"**/api/v1/activities/{activity_id}/dispute")
    card.get_by_role("button", name="Dispute", exact=True).click()
    page.get_by_label("Reason for dispute").fill("No visit took place that day.")
    send = card.get_by_role("button", name="Dispute", exact=True)
    send.scroll_into_view_if_needed()
    box = send.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    said = card.get_by_role("status").filter(has_text="Dispute sent.")
    expect(said).to_be_visible()
    assert control_at(page, x, y) is None  # the form became its receipt, same place
    expect(card).to_contain_text("Your reason: No visit took place that day.")
    assert in_viewport(said)
    expect(card.locator(".badge.disputed")).to_have_text("Disputed")
    expect(card.get_by_text("Disputed", exact=True)).to_have_count(1)  # its state, once
    expect(card.get_by_role("button", name="Dispute")).to_have_count(0)
    assert console.unexpected(allow_network_noise=True) == []


def test_admin_messages_at_the_form_a_paged_user_search_and_a_school_picker(
    new_page, live, console
):
    with live.app.app_context():
        from tests.factories import make_school, make_user

        many = [make_school(name=f"Prairie School {n:02d}") for n in range(40)]
        taken_code = many[0].code
        officer = make_user("officer", [many[3]], display_name="Cst. Robin Okafor")
        officer_email = officer.email
        for n in range(22):
            make_user("officer", display_name=f"Cst. Filler {n:02d}")
        admin = make_user("admin").email
    page = new_page()
    sign_in(page, admin)

    form = page.locator("form", has=page.get_by_role("button", name="Add school"))
    form.get_by_label("School name").fill("Aspen Heights")
    form.get_by_label("Code").fill(taken_code)
    form.get_by_role("button", name="Add school").click()
    code = form.get_by_label("Code")
    expect(code).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{code.get_attribute('id')}-error")
    expect(error).to_contain_text("already exists")
    assert in_viewport(error)
    assert "code:" not in page.inner_text("body").lower()

    code.fill("ASPEN-H")
    form.get_by_role("button", name="Add school").click()
    said = form.get_by_role("status")
    expect(said).to_have_text("School added: Aspen Heights.")
    assert in_viewport(said)
    expect(code).not_to_have_attribute("aria-invalid", "true")

    # The user list: a page at a time, searchable.
    cards = page.locator("li[data-user]")
    expect(cards).to_have_count(20)
    expect(page.get_by_role("button", name="Show more users")).to_be_visible()
    page.get_by_label("Search users").fill("Robin Okafor")
    expect(cards).to_have_count(1)
    expect(page.get_by_text("Showing 1 of 1 user matching")).to_be_visible()
    assert re.search(r"\bnull\b|undefined|NaN", page.locator("main").inner_text()) is None
    card = cards.first
    assert officer_email in card.inner_text()

    # The school picker: selected first, a handful of others, a filter for the rest.
    height = page.evaluate("document.documentElement.scrollHeight")
    card.get_by_role("button", name="Edit").click()
    picker = card.locator("fieldset.picker")
    boxes = picker.get_by_role("checkbox")
    expect(boxes).to_have_count(9)
    expect(boxes.first).to_be_checked()
    assert picker.get_by_role("checkbox").first.evaluate("b => b.parentElement.textContent") == (
        "Prairie School 03"
    )
    assert page.evaluate("document.documentElement.scrollHeight") - height < 800
    picker.get_by_label("Find a school").fill("Aspen")
    expect(boxes).to_have_count(2)
    picker.get_by_label("Aspen Heights").check()
    save = card.get_by_role("button", name="Save assignments")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    said = card.get_by_role("status").last
    expect(said).to_have_text("User updated: Cst. Robin Okafor.")
    assert in_viewport(said)
    assert control_at(page, x, y)["name"] == "Save assignments"
    expect(card.get_by_text("Schools: ")).to_contain_text("Aspen Heights")
    assert "Prairie School 03" in card.get_by_text("Schools: ").inner_text()
    expect(picker.get_by_role("status")).to_have_text("2 selected.")
    assert_axe_clean(page, "admin on a phone")
    assert console.unexpected(allow_network_noise=True) == []  # the 409 asked for above


def test_history_shows_names_labels_and_local_times_in_words(new_page, live, console):
    team = live.team()
    (activity_id,) = seed(live, team, 1, referral_to="housing", category="community_referral")
    status, body = live.api(
        "POST", f"/activities/{activity_id}/confirm", live.token(team["leader"]), {}
    )
    assert status == 200, body
    page = new_page()
    sign_in(page, team["officer"])
    page.goto(f"/#/history/{activity_id}")
    page.get_by_text("Version 2: Confirmed").wait_for()
    text = page.locator(".cards").inner_text()
    assert f"School\n{team['school_name']}" in text
    assert "Category\nCommunity referral" in text
    assert "Referred to\nHousing" in text
    assert "Audience\nStudents" in text
    assert "Review state\nSubmitted → Confirmed" in text
    assert "by Dana Whitford" in text
    for raw in ("(none)", "school id", "school_id", "community_referral", "T0", "+00:00", "user #"):
        assert raw not in text, raw
    assert_axe_clean(page, "history")
    assert console.unexpected() == []


CHART_TEXT_PX = """() => [...document.querySelectorAll('svg.chart')].flatMap((svg) => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].map(
    (t) => parseFloat(getComputedStyle(t).fontSize) * scale);
})"""

TABLES = """() => [...document.querySelectorAll('table')].map((table) => {
  const region = table.closest('.table-wrap');
  const cue = region && region.parentElement.querySelector('.scroll-cue');
  return {
    caption: table.caption ? table.caption.textContent : '',
    overflows: region
      ? region.scrollWidth > region.clientWidth + 1 : table.scrollWidth > innerWidth,
    region: Boolean(region && region.getAttribute('role') === 'region'
      && region.getAttribute('aria-label') && region.tabIndex === 0),
    cue: Boolean(cue && !cue.hidden && cue.getBoundingClientRect().height > 0),
    right: (region || table).getBoundingClientRect().right,
  };
})"""


def test_dashboard_on_a_phone_formats_numbers_and_never_cuts_a_table(new_page, live, console):
    team = live.team()
    seed(live, team, 40)  # 40 activities of 30..69 minutes: 1,980 minutes
    page = new_page()
    sign_in(page, live.user("program_manager"))
    page.get_by_label("School", exact=True).select_option(label=team["school_name"])
    page.get_by_role("button", name="Show").click()
    page.get_by_text("40 activities, 1,980 minutes in total.").wait_for()

    month_table = page.locator("table", has=page.locator("caption", has_text="by month"))
    months = [m.replace("\xa0", " ") for m in month_table.locator("tbody th").all_inner_texts()]
    assert months and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", m) for m in months), months
    by_category = page.locator("table", has_text="Activities by category")
    assert "1,980" in by_category.inner_text()
    shares = by_category.locator("tbody tr td:last-child")
    assert all(re.fullmatch(r"\d{1,3}\.\d%", s) for s in shares.all_inner_texts())
    assert "2026-" not in page.locator("main").inner_text()

    sizes = page.evaluate(CHART_TEXT_PX)
    assert sizes and min(sizes) >= 12, min(sizes)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
    tables = page.evaluate(TABLES)
    screenshot(page, "issue16-dashboard-phone")
    for table in tables:
        assert table["region"], table
        assert table["right"] <= PHONE["width"] + 1, table
        if table["overflows"]:
            assert table["cue"], f"{table['caption']} scrolls with no visible cue"
    # The confirmation table is wide: it scrolls in its labelled, focusable region, with a cue.
    wide = page.get_by_role("region", name="Confirmation by school: table")
    wide.focus()
    expect(wide).to_be_focused()
    assert_axe_clean(page, "dashboard on a phone")
    assert console.unexpected() == []


def test_bulk_confirm_keeps_every_card_in_place_and_says_so_at_its_button(new_page, live, console):
    team = live.team()
    seed(live, team, 3)
    page = new_page()
    sign_in(page, team["leader"])
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(3)
    # Until something is selected, each card's Confirm is the only one on the screen.
    expect(page.get_by_role("button", name="Confirm")).to_have_count(3)
    # The Show filter's states are named for assistive technology, and are not page text.
    expect(page.get_by_role("option", name="Disputed", exact=True)).to_have_count(1)
    expect(page.get_by_text("Disputed", exact=True)).to_have_count(0)
    # A selected card confirmed on its own leaves nothing selected: the bulk button goes.
    cards.first.get_by_text("Select", exact=False).click()
    bulk = page.get_by_role("button", name="Confirm selected")
    expect(bulk).to_be_visible()
    cards.first.get_by_role("button", name="Confirm", exact=True).click()
    expect(bulk).to_be_hidden()
    expect(cards.first.get_by_role("button", name="Dispute", exact=True)).to_be_focused()
    page.get_by_label("Select all").check()
    box = bulk.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    said = page.get_by_role("status").filter(has_text="Review saved for 2 activities.")
    expect(said).to_be_visible()
    assert in_viewport(said)
    # Nothing is selected any more: the button is spent in place, a second tap lands on nothing.
    assert control_at(page, x, y) is None
    expect(bulk).to_be_hidden()
    expect(cards).to_have_count(3)
    expect(page.locator(".badge.confirmed")).to_have_count(3)
    assert console.unexpected() == []


ROWS = """(selector) => {
  const middles = new Set([...document.querySelectorAll(selector)]
    .filter((e) => e.getBoundingClientRect().width > 1)
    .map((e) => e.getBoundingClientRect())
    .map((box) => Math.round((box.top + box.height / 2) / 8)));
  return middles.size;
}"""


def rows_of(page, selector: str) -> int:
    """How many rows the visible elements matching the selector sit on."""
    return page.evaluate(ROWS, selector)


def test_officer_header_is_one_row_and_the_form_starts_high(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    category = page.get_by_label("Category")
    category.wait_for()
    page.get_by_text("all sent", exact=False).first.wait_for()

    assert rows_of(page, ".bar img, #nav > a, #nav > button") == 1
    header = page.locator(".bar").bounding_box()["height"]
    syncbar = page.locator("#syncbar").bounding_box()["height"]
    assert header <= 64 and syncbar <= 64, (header, syncbar)
    # Was 305 px of 844 before the form's first field (36 %); now under an eighth.
    assert header + syncbar <= 844 / 8, (header, syncbar)
    assert category.bounding_box()["y"] < 240
    status = page.locator("#sync-status")
    assert status.bounding_box()["height"] <= 32, "the sync line is one short line"
    assert status.inner_text() == "Saved on this phone · 0 waiting to sync · all sent to the server"
    assert in_viewport(page.get_by_role("button", name="Sync now"))
    assert_axe_clean(page, "officer log with the compact header")
    screenshot(page, "issue16-officer-header-phone")
    assert console.unexpected() == []


@pytest.mark.parametrize(
    ("role", "rows"), [("school_leader", 1), ("program_manager", 1), ("admin", 2)]
)
def test_leader_manager_and_admin_headers_never_wrap_to_three_rows(
    new_page, live, console, role, rows
):
    page = new_page()
    sign_in(page, live.user(role))
    page.get_by_role("heading", level=1).first.wait_for()

    assert rows_of(page, ".bar img, #nav > a, #nav > button") <= rows
    assert page.locator(".bar").bounding_box()["height"] <= 48 * rows + 16
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert "(" in page.locator("#nav .who").text_content(), "the name is still said"
    assert_axe_clean(page, f"{role} header")
    assert console.unexpected() == []


def test_sync_now_offline_says_it_will_send_when_back_online(new_page, live, console):
    team, page = officer_ready_offline(new_page, live)
    page.context.set_offline(True)
    page.get_by_label("Category").select_option(label="Education")
    page.get_by_label("Duration (minutes)").fill("30")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The form is ready for the next activity.").wait_for()

    page.get_by_role("button", name="Sync now").click()
    said = page.locator("#sync-said")
    expect(said).to_have_text(
        "You are offline. 1 activity will be sent when this phone is back online."
    )
    assert in_viewport(said), "the answer is out of sight"
    # A polite live region, not a second role="status": the sync line stays the page's one.
    expect(said).to_have_attribute("aria-live", "polite")
    assert_axe_clean(page, "sync now offline")

    page.context.set_offline(False)
    expect(said).to_have_text("")
    page.get_by_text("all sent", exact=False).first.wait_for()
    page.get_by_role("button", name="Sync now").click()
    expect(said).to_have_text("Sync finished. Everything is on the server.")
    assert in_viewport(said)
    assert console.unexpected(allow_network_noise=True) == []


def test_edit_after_the_school_confirmed_is_told_to_officer_and_leader(new_page, live, console):
    team, page = officer_ready_offline(new_page, live)
    page.get_by_label("Category").select_option(label="Education")
    page.get_by_label("Duration (minutes)").fill("30")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("all sent", exact=False).first.wait_for()
    leader_token = live.token(team["leader"])
    status, items = live.api("GET", "/activities", token=leader_token)
    [item] = items["items"]

    page.context.set_offline(True)  # the confirmation never reaches this phone before the edit
    status, confirmed = live.api(
        "POST", f"/activities/{item['id']}/confirm", token=leader_token, body={}
    )
    assert (status, confirmed["status"]) == (200, "confirmed")
    page.goto(f"/#/log/{item['id']}")
    page.get_by_role("heading", name="Edit activity").wait_for()
    page.get_by_label("Participants").fill("12")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My activities").wait_for()
    page.context.set_offline(False)

    note = page.locator(".card .reopened")
    expect(note).to_have_text(
        "The school had confirmed this activity. Your change sent it back to the school for review."
    )
    assert in_viewport(note), "the officer does not see it"
    card = page.locator(".cards > li").first
    expect(card.locator(".badge.submitted")).to_have_text("Submitted")
    expect(card.locator(".badge.synced")).to_have_text("Synced")
    assert_axe_clean(page, "my activities after a reopened review")

    leader = new_page()
    sign_in(leader, team["leader"])
    queued = leader.locator(f'.cards > li[data-id="{item["id"]}"]')
    mark = queued.locator(".badge.changed")
    expect(mark).to_have_text("Changed after you confirmed")
    assert in_viewport(mark)
    assert_axe_clean(leader, "review queue with a changed activity")
    screenshot(leader, "issue16-changed-after-confirmed-phone")

    queued.get_by_role("button", name="Confirm", exact=True).click()
    expect(queued.get_by_role("status").filter(has_text="Review saved.")).to_be_visible()
    expect(mark).to_have_count(0)
    assert console.unexpected(allow_network_noise=True) == []
