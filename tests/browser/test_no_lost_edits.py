"""The phone never loses an edit (issue 21): each finding of the reliability run reproduced
in Chromium at 390x844, two browser contexts standing for an officer's two phones, and shown
fixed."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_activity, open_my_activities, sign_in, wait_offline_ready
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

READ_STORE = """([store, key]) => new Promise((resolve, reject) => {
    const open = indexedDB.open('sro-activity-log');
    open.onsuccess = () => {
        const objects = open.result.transaction(store).objectStore(store);
        const get = key === null ? objects.getAll() : objects.get(key);
        get.onsuccess = () => { open.result.close(); resolve(get.result ?? null); };
        get.onerror = () => reject(get.error);
    };
})"""


def stored(page, store: str, key=None):
    return page.evaluate(READ_STORE, [store, key])


def server_items(live, email: str) -> list[dict]:
    status, body = live.api("GET", "/activities?limit=500", token=live.token(email))
    assert status == 200
    return body["items"]


def wait_until(page, check, what: str, tries: int = 100) -> None:
    for _ in range(tries):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never happened: {what}")


def phone(new_page, email: str):
    page = new_page()
    sign_in(page, email)
    page.get_by_label("School").wait_for()
    return page


def logged_and_synced(page, live, email: str, **fields) -> dict:
    log_activity(page, **fields)
    wait_until(page, lambda: len(server_items(live, email)) == 1, "the activity reached the server")
    wait_until(page, lambda: stored(page, "outbox") == [], "the outbox emptied")
    return server_items(live, email)[0]


def edit_on_phone(page, activity_id: str, **fields) -> None:
    page.goto(f"/#/log/{activity_id}")
    page.get_by_role("heading", name="Edit activity").wait_for()
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My activities").wait_for()


def sync_now(page) -> None:
    page.locator("#sync-now").click()


def test_finding_1_form_open_across_a_pull_keeps_the_other_phones_change(new_page, live, console):
    """Phone B opens Edit (version 1); phone A changes duration and summary (version 2); B's
    sync pulls while the form is open; B changes only Participants and saves."""
    team = live.team()
    phone_a = phone(new_page, team["officer"])
    item = logged_and_synced(
        phone_a, live, team["officer"], duration="30", participants="10", summary="Assembly."
    )
    phone_b = phone(new_page, team["officer"])
    wait_until(phone_b, lambda: stored(phone_b, "activities", item["id"]), "B has the activity")
    phone_b.goto(f"/#/log/{item['id']}")
    phone_b.get_by_role("heading", name="Edit activity").wait_for()

    edit_on_phone(phone_a, item["id"], **{"Duration (minutes)": "90", "Summary": "Longer talk."})
    wait_until(phone_a, lambda: server_items(live, team["officer"])[0]["version"] == 2, "A synced")

    sync_now(phone_b)  # the pull lands while B's form is still open on version 1
    wait_until(
        phone_b,
        lambda: stored(phone_b, "activities", item["id"])["version"] == 2,
        "B pulled version 2",
    )
    phone_b.get_by_label("Participants").fill("25")
    phone_b.get_by_role("button", name="Save").click()
    phone_b.get_by_role("heading", name="My activities").wait_for()

    wait_until(phone_b, lambda: server_items(live, team["officer"])[0]["version"] == 3, "B synced")
    [final] = server_items(live, team["officer"])
    assert (final["duration_minutes"], final["summary"]) == (90, "Longer talk.")
    assert final["participant_count"] == 25
    phone_b.get_by_text("Synced").wait_for()
    assert phone_b.get_by_text("Needs attention", exact=True).count() == 0
    assert console.unexpected() == []


def test_finding_1_pull_never_raises_the_base_of_a_pending_edit(new_page, live, console):
    """B edits offline; a pull then brings A's newer version: the pending edit keeps base 1
    and only the changed field, and the server merges both."""
    team = live.team()
    phone_a = phone(new_page, team["officer"])
    item = logged_and_synced(phone_a, live, team["officer"], duration="30", participants="10")
    phone_b = phone(new_page, team["officer"])
    wait_until(phone_b, lambda: stored(phone_b, "activities", item["id"]), "B has the activity")
    pushes = []
    phone_b.route(
        "**/api/v1/sync/push",
        lambda route: pushes.append(route.request.post_data_json) or route.abort(),
    )
    edit_on_phone(phone_b, item["id"], Participants="25")
    wait_until(phone_b, lambda: pushes, "B tried to push")

    edit_on_phone(phone_a, item["id"], **{"Duration (minutes)": "90"})
    wait_until(phone_a, lambda: server_items(live, team["officer"])[0]["version"] == 2, "A synced")
    # A pull on B (the pull half of a sync whose push is held up) brings version 2.
    phone_b.evaluate("() => import('/js/sync.js').then((sync) => sync.pull())")
    record = stored(phone_b, "activities", item["id"])
    [entry] = stored(phone_b, "outbox")
    assert record["version"] == 1 and record["server"]["version"] == 2
    assert record["participant_count"] == 25
    assert entry["base_version"] == 1
    assert entry["data"] == {"participant_count": 25}
    assert pushes[0]["mutations"][0]["base_version"] == 1

    phone_b.unroute("**/api/v1/sync/push")
    sync_now(phone_b)
    wait_until(phone_b, lambda: server_items(live, team["officer"])[0]["version"] == 3, "merged")
    [final] = server_items(live, team["officer"])
    assert (final["duration_minutes"], final["participant_count"]) == (90, 25)
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_1_form_open_while_own_edit_is_applied_does_not_clash_with_it(
    new_page, live, console
):
    """The form is opened while the phone's own edit is on its way; that edit is applied
    (version 2) before the next save. The next save is made on what the form showed, which
    is version 2: the officer's own change is not reported as changed elsewhere."""
    team = live.team()
    page = phone(new_page, team["officer"])
    item = logged_and_synced(page, live, team["officer"], duration="30", participants="10")
    held = []
    page.route("**/api/v1/sync/push", lambda route: held.append(route))  # slow to answer
    edit_on_phone(page, item["id"], Participants="25")
    wait_until(page, lambda: held, "the edit is on its way")
    page.goto(f"/#/log/{item['id']}")
    page.get_by_role("heading", name="Edit activity").wait_for()

    held[0].continue_()
    page.unroute("**/api/v1/sync/push")
    wait_until(
        page,
        lambda: (
            stored(page, "outbox") == [] and stored(page, "activities", item["id"])["version"] == 2
        ),
        "the first edit applied",
    )
    page.get_by_label("Participants").fill("30")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My activities").wait_for()
    wait_until(page, lambda: server_items(live, team["officer"])[0]["version"] == 3, "synced")
    assert server_items(live, team["officer"])[0]["participant_count"] == 30
    page.get_by_text("Synced").wait_for()
    assert page.get_by_text("Needs attention", exact=True).count() == 0
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_1_a_later_edit_is_not_rebased_over_the_other_phones_change(
    new_page, live, console
):
    """B's first edit (Participants) is on its way when A changes the duration; B then
    changes the duration too, on its copy, which never showed A's. The server merges B's
    first edit with A's change (version 3); B's second edit must not be moved onto version 3,
    where A's duration would count as seen and be overwritten without a word: the same field
    changed on both phones is a conflict."""
    team = live.team()
    phone_a = phone(new_page, team["officer"])
    item = logged_and_synced(phone_a, live, team["officer"], duration="30", participants="10")
    phone_b = phone(new_page, team["officer"])
    wait_until(phone_b, lambda: stored(phone_b, "activities", item["id"]), "B has the activity")
    held = []
    phone_b.route("**/api/v1/sync/push", lambda route: held.append(route))
    edit_on_phone(phone_b, item["id"], Participants="25")
    wait_until(phone_b, lambda: held, "B's first edit is on its way")

    edit_on_phone(phone_a, item["id"], **{"Duration (minutes)": "90"})
    wait_until(phone_a, lambda: server_items(live, team["officer"])[0]["version"] == 2, "A synced")
    edit_on_phone(phone_b, item["id"], **{"Duration (minutes)": "45"})

    held[0].continue_()
    phone_b.unroute("**/api/v1/sync/push")
    phone_b.get_by_text("Needs attention", exact=True).wait_for()
    [final] = server_items(live, team["officer"])
    assert (final["version"], final["participant_count"]) == (3, 25)
    assert final["duration_minutes"] == 90  # A's change stands until the officer chooses
    expect(phone_b.locator("table.compare")).to_contain_text("45 minutes")
    expect(phone_b.locator("table.compare")).to_contain_text("90 minutes")
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_2_a_failed_save_says_so_at_once(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    log_activity(page, "Education", "30", "10")
    page.get_by_text("The form is ready for the next activity.").wait_for()
    # The phone's storage is full from now on: every IndexedDB write fails.
    page.evaluate(
        """() => {
            const full = () => { throw new DOMException('Quota exceeded', 'QuotaExceededError'); };
            IDBObjectStore.prototype.put = full;
            IDBObjectStore.prototype.add = full;
        }"""
    )
    page.get_by_label("Category").select_option(label="Mediation")
    page.get_by_label("Duration (minutes)").fill("15")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Not saved: this phone's storage is full.").wait_for()
    expect(page.get_by_text("The form is ready for the next activity.")).to_be_hidden()
    assert page.get_by_label("Duration (minutes)").input_value() == "15"  # nothing dropped
    assert len(stored(page, "activities")) == 1


def _conflict(page, live, team) -> dict:
    """The phone's duration edit clashes with the server's; returns the activity."""
    item = logged_and_synced(page, live, team["officer"], duration="30", participants="10")
    page.context.set_offline(True)
    edit_on_phone(page, item["id"], **{"Duration (minutes)": "99"})
    token = live.token(team["officer"])
    status, _ = live.api(
        "PATCH", f"/activities/{item['id']}", token=token, body={"duration_minutes": 11}
    )
    assert status == 200
    page.context.set_offline(False)
    page.get_by_text("Needs attention", exact=True).wait_for()
    return item


def _newer_on_server_then_pulled(page, live, team, item) -> None:
    token = live.token(team["officer"])
    status, _ = live.api(
        "PATCH",
        f"/activities/{item['id']}",
        token=token,
        body={"summary": "Newest server copy."},
    )
    assert status == 200
    sync_now(page)
    wait_until(
        page,
        lambda: (stored(page, "activities", item["id"]).get("server") or {}).get("version") == 3,
        "the phone pulled version 3",
    )


def test_finding_3_use_the_server_copy_takes_the_newest(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    item = _conflict(page, live, team)
    open_my_activities(page)
    table = page.locator("table.compare")  # finding 6: the server copy is shown
    expect(table).to_contain_text("On the server")
    expect(table).to_contain_text("11 minutes")
    expect(table).to_contain_text("99 minutes")

    _newer_on_server_then_pulled(page, live, team, item)
    page.get_by_role("button", name="Use the server copy").click()
    page.get_by_text("Newest server copy.").wait_for()
    page.get_by_text("Synced").wait_for()
    record = stored(page, "activities", item["id"])
    assert (record["version"], record["duration_minutes"]) == (3, 11)
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_3_keep_my_version_after_a_newer_pull_conflicts_once(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    item = _conflict(page, live, team)
    _newer_on_server_then_pulled(page, live, team, item)
    open_my_activities(page)
    page.get_by_role("button", name="Keep my version").click()
    wait_until(page, lambda: server_items(live, team["officer"])[0]["version"] == 4, "kept")
    [final] = server_items(live, team["officer"])
    assert (final["duration_minutes"], final["summary"]) == (99, "Newest server copy.")
    page.get_by_text("Synced").wait_for()
    assert page.get_by_text("Needs attention", exact=True).count() == 0
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_4_a_push_that_never_answers_does_not_block_later_syncs(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    page.evaluate("() => localStorage.setItem('sro-request-timeout-ms', '2000')")
    held = []
    page.route("**/api/v1/sync/push", lambda route: held.append(route))  # never answered
    log_activity(page, "Counselling", "20", "1")
    page.get_by_text("sync will retry").wait_for(timeout=10_000)  # given up after 2 s
    page.unroute("**/api/v1/sync/push")
    sync_now(page)
    page.get_by_text("Synced").wait_for()
    assert [i["category"] for i in server_items(live, team["officer"])] == ["counselling"]
    assert held


def test_finding_6_conflict_with_a_deletion_offers_to_log_it_again(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    item = logged_and_synced(page, live, team["officer"], duration="30", participants="10")
    page.context.set_offline(True)
    edit_on_phone(page, item["id"], **{"Duration (minutes)": "45"})
    token = live.token(team["officer"])
    assert live.api("DELETE", f"/activities/{item['id']}", token=token)[0] == 204
    page.context.set_offline(False)
    page.get_by_text("Deleted elsewhere.").wait_for()
    assert page.get_by_text("Changed elsewhere.").count() == 0
    page.get_by_role("button", name="Log mine as a new activity").click()
    wait_until(page, lambda: len(server_items(live, team["officer"])) == 1, "logged again")
    [again] = server_items(live, team["officer"])
    assert again["id"] != item["id"]
    assert again["duration_minutes"] == 45
    page.get_by_text("Synced").wait_for()
    assert console.unexpected(allow_network_noise=True) == []


def _deleted_offline_while(page, live, team, change_elsewhere) -> dict:
    """The phone deletes a synced activity offline while ``change_elsewhere(item, token)``
    happens on the server; back online, the delete is set aside."""
    item = logged_and_synced(page, live, team["officer"], duration="30", participants="10")
    page.context.set_offline(True)
    open_my_activities(page)
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.get_by_text("Nothing logged on this phone yet.").wait_for()
    change_elsewhere(item)
    page.context.set_offline(False)
    sync_now(page)
    page.get_by_text("Needs attention", exact=True).wait_for()  # listed, not out of sight
    return item


@pytest.mark.parametrize(
    ("choice", "on_server"),
    [("Delete it anyway", None), ("Keep the server copy", 11)],
)
def test_finding_6_a_delete_changed_elsewhere_is_shown_and_settled(
    new_page, live, console, choice, on_server
):
    """The other phone changed the duration after this phone's copy; this phone's delete,
    made on the older copy, is a conflict: shown with the server copy, and either way out
    works."""
    team = live.team()
    page = phone(new_page, team["officer"])
    token = live.token(team["officer"])

    def edited(item):
        body = {"duration_minutes": 11}
        assert live.api("PATCH", f"/activities/{item['id']}", token=token, body=body)[0] == 200

    item = _deleted_offline_while(page, live, team, edited)
    page.get_by_text("Changed elsewhere, not deleted.").wait_for()
    expect(page.locator("table.compare")).to_contain_text("11 minutes")
    assert page.get_by_role("link", name="Edit").count() == 0  # settled in the box first
    page.get_by_role("button", name=choice).click()
    if on_server is None:
        wait_until(page, lambda: server_items(live, team["officer"]) == [], "deleted")
        page.get_by_text("Nothing logged on this phone yet.").wait_for()
    else:
        page.get_by_text("Synced").wait_for()
        [kept] = server_items(live, team["officer"])
        assert (kept["id"], kept["duration_minutes"], kept["version"]) == (item["id"], 11, 2)
        expect(page.locator("main")).to_contain_text("11 minutes")
    wait_until(page, lambda: stored(page, "outbox") == [], "nothing left waiting")
    assert "needs attention" not in page.locator("#sync-status").inner_text()
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_6_a_refused_delete_is_shown_with_the_reason(new_page, live, console):
    """The school confirmed the activity while the phone's delete waited: the server refuses
    it, and the phone says so instead of hiding the activity."""
    team = live.team()
    page = phone(new_page, team["officer"])
    leader = live.token(team["leader"])

    def confirmed(item):
        path = f"/activities/{item['id']}/confirm"
        assert live.api("POST", path, token=leader, body={})[0] == 200

    _deleted_offline_while(page, live, team, confirmed)
    page.get_by_text("Not deleted.").wait_for()
    expect(page.locator("main")).to_contain_text("A confirmed activity cannot be deleted")
    page.get_by_role("button", name="Keep the activity").click()
    page.get_by_text("Synced").wait_for()
    page.get_by_text("Confirmed", exact=True).wait_for()
    wait_until(page, lambda: stored(page, "outbox") == [], "nothing left waiting")
    assert [i["status"] for i in server_items(live, team["officer"])] == ["confirmed"]
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_7_413_splits_the_batch_and_names_an_entry_too_large(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    wait_offline_ready(page)
    sizes = []

    def small_proxy(route):
        mutations = route.request.post_data_json["mutations"]
        sizes.append(len(mutations))
        too_large = len(mutations) > 1 or "Too long" in json.dumps(mutations)
        if too_large:
            route.fulfill(status=413, content_type="text/html", body="<h1>413</h1>")
        else:
            route.continue_()

    page.context.set_offline(True)
    for minutes in ("10", "20", "30"):
        log_activity(page, "Education", minutes, "5")
    log_activity(page, "Mediation", "40", "2", summary="Too long for the proxy.")
    page.route("**/api/v1/sync/push", small_proxy)
    page.context.set_offline(False)
    sync_now(page)
    wait_until(page, lambda: len(server_items(live, team["officer"])) == 3, "three got through")
    open_my_activities(page)
    page.get_by_text("This entry is too large to send, even on its own.").wait_for()
    assert sizes[0] == 4 and 1 in sizes
    assert console.unexpected(allow_network_noise=True) == []


def test_finding_8_sign_out_warns_and_another_officer_does_not_drop_the_draft_silently(
    new_page, live, console
):
    team = live.team()
    other = live.team()
    page = phone(new_page, team["officer"])
    page.context.set_offline(True)
    page.get_by_label("Summary").fill("Half-written note")
    page.wait_for_timeout(600)  # the draft autosaves
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("a form you have not saved").wait_for()
    page.get_by_role("button", name="Stay signed in").click()
    expect(page.get_by_label("Summary")).to_have_value("Half-written note")

    page.context.set_offline(False)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign out anyway").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Email").fill(other["officer"])
    page.get_by_label("Password").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("holds a form the previous officer had not saved").wait_for()
    assert len(stored(page, "drafts")) == 1  # nothing deleted without a word
    page.get_by_role("button", name="Sign in and delete it").click()
    page.get_by_role("heading", name="Log activity").wait_for()
    assert stored(page, "drafts") == []
    expect(page.get_by_label("Summary")).to_have_value("")


def test_finding_8_sign_out_with_waiting_entries_warns_and_keeps_them(new_page, live, console):
    team = live.team()
    other = live.team()
    page = phone(new_page, team["officer"])
    page.context.set_offline(True)
    log_activity(page, "Mediation", "25", "2")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("1 activity not yet on the server").wait_for()
    page.get_by_role("button", name="Sign out anyway").click()
    page.get_by_role("heading", name="Sign in").wait_for()

    page.context.set_offline(False)
    page.get_by_label("Email").fill(other["officer"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("another officer has not synced yet").wait_for()  # refused, nothing dropped
    assert len(stored(page, "outbox")) == 1

    sign_in(page, team["officer"])
    wait_until(page, lambda: len(server_items(live, team["officer"])) == 1, "sent once back")
    assert server_items(live, other["officer"]) == []
    assert console.unexpected(allow_network_noise=True) == []


@pytest.mark.parametrize(("days", "words"), [(-365, "behind the server"), (365, "ahead of")])
def test_finding_9_a_clock_far_off_is_pointed_out(new_page, live, console, days, words):
    """A year behind, the entry is accepted with a year-old date; a year ahead, refused as
    too far in the future. Either way the officer is told the phone's clock is off."""
    team = live.team()
    page = new_page()
    page.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=days))
    sign_in(page, team["officer"])
    page.get_by_label("School").wait_for()
    log_activity(page, "Education", "30", "10")
    page.get_by_text("This phone's clock is").wait_for()
    assert words in page.locator("#sync-warning").inner_text()


def _assign(live, email: str, school_ids: list[int]) -> None:
    admin = live.token(live.user("admin"))
    status, users = live.api("GET", "/users?limit=500", token=admin)
    officer = next(u for u in users["items"] if u["email"] == email)
    status, _ = live.api(
        "PATCH", f"/users/{officer['id']}", token=admin, body={"school_ids": school_ids}
    )
    assert status == 200


def test_edit_of_an_activity_at_a_school_the_phone_does_not_list_keeps_its_school(
    new_page, live, console
):
    """The officer is given a second school; another phone logs there. This phone's school
    list may lack it when the pull brings the activity (refreshed hourly; here the refresh is
    held back). Editing only Participants must not move it to the phone's first school."""
    team = live.team()
    other = live.team()
    page = phone(new_page, team["officer"])
    _assign(live, team["officer"], [team["school_id"], other["school_id"]])

    stale = [True]

    def stale_schools(route):
        if not stale[0]:
            route.continue_()
            return
        response = route.fetch()
        body = response.json()
        body["items"] = [s for s in body["items"] if s["id"] != other["school_id"]]
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/schools?*", stale_schools)
    token = live.token(team["officer"])
    status, created = live.api(
        "POST",
        "/activities",
        token=token,
        body={
            "school_id": other["school_id"],
            "category": "education",
            "started_at": datetime.now(UTC).isoformat(),
            "duration_minutes": 30,
            "audience": ["students"],
            "participant_count": 10,
        },
    )
    assert status == 201, created
    sync_now(page)
    wait_until(page, lambda: stored(page, "activities", created["id"]), "pulled")
    page.goto(f"/#/log/{created['id']}")
    page.get_by_role("heading", name="Edit activity").wait_for()
    school = page.get_by_label("School")
    assert school.input_value() == str(other["school_id"])
    expect(school.locator("option:checked")).to_have_text(f"School {other['school_id']}")
    edit_on_phone(page, created["id"], Participants="12")
    wait_until(page, lambda: stored(page, "outbox") == [], "synced")
    [item] = [i for i in server_items(live, team["officer"]) if i["id"] == created["id"]]
    assert item["participant_count"] == 12
    assert item["school_id"] == other["school_id"]  # not moved to the phone's first school

    # With the school list served in full again, the next pull that brings an activity of a
    # school the phone does not list refreshes the list at once (not an hour later).
    stale[0] = False
    status, _ = live.api(
        "PATCH", f"/activities/{created['id']}", token=token, body={"duration_minutes": 40}
    )
    assert status == 200
    sync_now(page)
    wait_until(
        page,
        lambda: (
            other["school_id"] in [s["id"] for s in stored(page, "refdata", "schools")["value"]]
        ),
        "the school list was refreshed",
    )
    page.goto(f"/#/log/{created['id']}")
    page.get_by_role("heading", name="Edit activity").wait_for()
    assert school.input_value() == str(other["school_id"])
    expect(school.locator("option:checked")).not_to_have_text(f"School {other['school_id']}")
    assert console.unexpected(allow_network_noise=True) == []


def test_cancel_on_the_edit_form_drops_what_was_typed(new_page, live, console):
    team = live.team()
    page = phone(new_page, team["officer"])
    item = logged_and_synced(page, live, team["officer"], duration="30", participants="10")
    page.goto(f"/#/log/{item['id']}")
    page.get_by_role("heading", name="Edit activity").wait_for()
    page.get_by_label("Participants").fill("99")
    wait_until(page, lambda: stored(page, "drafts", f"edit:{item['id']}"), "the draft was kept")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("heading", name="My activities").wait_for()
    wait_until(page, lambda: stored(page, "drafts") == [], "the draft was dropped")
    page.get_by_role("button", name="Sign out").click()  # no unsaved form to warn about
    page.get_by_label("Email").wait_for()
    sign_in(page, team["officer"])
    page.goto(f"/#/log/{item['id']}")
    page.get_by_role("heading", name="Edit activity").wait_for()
    expect(page.get_by_label("Participants")).to_have_value("10")
    assert page.get_by_text("A draft you had not saved was restored.").count() == 0
    assert console.unexpected(allow_network_noise=True) == []
