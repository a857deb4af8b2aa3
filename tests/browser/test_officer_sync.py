"""An officer on a phone: offline logging, sync exactly once, retries, expired sessions."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    log_activity,
    officer_ready_offline,
    open_my_activities,
    screenshot,
    sign_in,
    wait_offline_ready,
)
from tests.browser.test_no_lost_edits import (
    edit_on_phone,
    logged_and_synced,
    phone,
    stored,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


READ_SESSION = """() => new Promise((resolve) => {
    const open = indexedDB.open('sro-activity-log');
    open.onsuccess = () => {
        const get = open.result.transaction('meta').objectStore('meta').get('session');
        get.onsuccess = () => { open.result.close(); resolve(get.result.value); };
    };
})"""

# Every outbox entry made to look created `ms` milliseconds ago.
AGE_OUTBOX = """(ms) => new Promise((resolve) => {
    const open = indexedDB.open('sro-activity-log');
    open.onsuccess = () => {
        const tx = open.result.transaction('outbox', 'readwrite');
        const store = tx.objectStore('outbox');
        store.getAll().onsuccess = (event) => {
            const old = new Date(Date.now() - ms).toISOString();
            for (const entry of event.target.result) store.put({...entry, created_at: old});
        };
        tx.oncomplete = () => { open.result.close(); resolve(); };
    };
})"""


def server_activities(live, email: str) -> list[dict]:
    status, body = live.api("GET", "/activities?limit=500", token=live.token(email))
    assert status == 200
    return body["items"]


def test_log_offline_after_reload_syncs_each_activity_once(new_page, live, console):
    team, page = officer_ready_offline(new_page, live)

    page.context.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Log activity").wait_for()
    log_activity(page, "Education", "45", "24", "Online safety talk to a grade 8 class.")
    log_activity(page, "Mediation", "30", "2")
    page.reload()
    page.get_by_role("heading", name="Recent on this phone").wait_for()
    cards = page.locator(".cards > li")
    cards.first.wait_for()
    assert cards.count() == 2
    assert page.get_by_text("Pending sync").count() == 2
    assert "2 waiting to sync" in page.locator("#sync-status").inner_text()
    screenshot(page, "officer-offline-pending")

    page.context.set_offline(False)
    page.get_by_text("Synced").nth(1).wait_for()
    assert page.get_by_text("Pending sync").count() == 0
    page.get_by_text("all sent to the server").wait_for()
    assert "0 waiting to sync" in page.locator("#sync-status").inner_text()
    items = server_activities(live, team["officer"])
    assert sorted(i["category"] for i in items) == ["education", "mediation"]
    assert console.unexpected(allow_network_noise=True) == []


def test_push_answered_with_server_error_is_retried_without_duplicate(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    page.get_by_label("School").wait_for()
    pushes = []

    def lose_the_first_answer(route):
        pushes.append(route.request.post_data_json)
        if len(pushes) == 1:
            route.fetch()  # the server applies it; the phone never hears back
            route.fulfill(status=500, json={"error": {"code": "internal_error", "message": "x"}})
        else:
            route.continue_()

    page.route("**/api/v1/sync/push", lose_the_first_answer)
    log_activity(page, "Counselling", "20", "1")
    page.get_by_text("sync will retry").wait_for()
    assert page.get_by_text("Pending sync").count() == 1

    page.get_by_role("button", name="Sync now").click()
    page.get_by_text("Synced").wait_for()
    assert len(pushes) == 2
    first, second = (p["mutations"][0]["mutation_id"] for p in pushes)
    assert first == second
    items = server_activities(live, team["officer"])
    assert [i["category"] for i in items] == ["counselling"]
    assert console.unexpected(allow_network_noise=True) == []


def test_expired_session_while_offline_keeps_outbox_until_signed_in(new_page, live, console):
    team, page = officer_ready_offline(new_page, live)
    page.context.set_offline(True)
    log_activity(page, "Emergency response", "90", "300")

    # The sign-in ends while the phone is offline (revoked on the server, both tokens).
    session = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open('sro-activity-log');
            open.onsuccess = () => {
                const get = open.result.transaction('meta').objectStore('meta').get('session');
                get.onsuccess = () => resolve(get.result.value);
            };
        })"""
    )
    status, _ = live.api("POST", "/auth/logout", token=session["refresh_token"])
    assert status == 204

    page.context.set_offline(False)
    page.get_by_role("heading", name="Sign in again").wait_for()
    assert "1 waiting to sync" in page.locator("#sync-status").inner_text()
    assert server_activities(live, team["officer"]) == []
    page.get_by_label("Password").fill("correct-horse-battery-9")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Log activity").wait_for()
    page.get_by_role("link", name="My activities").click()
    page.get_by_text("Synced").wait_for()
    items = server_activities(live, team["officer"])
    assert [i["category"] for i in items] == ["emergency_response"]
    assert console.unexpected(allow_network_noise=True) == []


def test_leader_review_reaches_officer_phone_on_next_pull(new_page, live, console):
    team = live.team()
    officer = new_page()
    sign_in(officer, team["officer"])
    officer.get_by_label("School").wait_for()
    log_activity(officer, "Education", "50", "28")
    log_activity(officer, "Mediation", "25", "3")
    officer.get_by_text("Synced").nth(1).wait_for()

    leader = new_page()
    sign_in(leader, team["leader"])
    leader.get_by_role("heading", name="Review queue").wait_for()
    queue = leader.locator(".cards > li")
    queue.nth(1).wait_for()
    assert queue.count() == 2
    screenshot(leader, "leader-queue")
    leader.locator("li", has_text="Education").get_by_role("button", name="Confirm").click()
    leader.get_by_text("Review saved.").wait_for()
    mediation_card = leader.locator(".cards > li", has_text="Mediation")
    mediation_card.get_by_role("button", name="Dispute").click()
    leader.get_by_label("Reason for dispute").fill("No mediation took place that day.")
    mediation_card.get_by_role("button", name="Dispute").click()  # the form's, which sends it
    leader.get_by_text("Dispute sent.").wait_for()

    officer.get_by_role("button", name="Sync now").click()
    education = officer.locator(".cards > li", has_text="Education")
    mediation = officer.locator(".cards > li", has_text="Mediation")
    education.get_by_text("Confirmed").wait_for()  # the Log view's recent list, live
    mediation.get_by_text("Disputed").wait_for()
    open_my_activities(officer)
    mediation.get_by_text("Disputed").wait_for()
    assert "No mediation took place that day." in mediation.inner_text()
    assert education.get_by_role("button", name="Delete").count() == 0
    screenshot(officer, "officer-reviewed")
    assert console.unexpected() == []


READ_DRAFT = """async (key) => {
  const opened = indexedDB.open('sro-activity-log');
  const db = await new Promise((ok, fail) => {
    opened.onsuccess = () => ok(opened.result);
    opened.onerror = () => fail(opened.error);
  });
  try {
    const read = db.transaction('drafts').objectStore('drafts').get(key);
    const row = await new Promise((ok, fail) => {
      read.onsuccess = () => ok(read.result);
      read.onerror = () => fail(read.error);
    });
    return row ? row.value : null;
  } finally {
    db.close();
  }
}"""


def wait_for_draft(page, summary: str, key: str = "new") -> None:
    """The form's draft is in IndexedDB with this summary (it autosaves after typing)."""
    for _ in range(100):
        draft = page.evaluate(READ_DRAFT, key)
        if draft and draft.get("summary") == summary:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"no draft saved with the summary {summary!r}")


def test_a_reload_right_after_typing_keeps_the_draft(new_page, live, console):
    """pwa.md: autosave on input, so an interrupted officer loses nothing (no pause needed)."""
    page = new_page()
    sign_in(page, live.team()["officer"])
    page.get_by_label("Category").select_option("education")
    page.get_by_label("Duration (minutes)").fill("33")
    page.get_by_label("Summary").fill("Talk on online safety")
    page.reload()
    page.get_by_text("A draft you had not saved was restored.").wait_for()
    expect(page.get_by_label("Summary")).to_have_value("Talk on online safety")
    expect(page.get_by_label("Duration (minutes)")).to_have_value("33")
    assert page.get_by_label("Category").input_value() == "education"
    assert console.unexpected() == []


def test_draft_survives_reload_then_edit_and_delete_before_review(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    page.get_by_label("Category").select_option("counselling")
    page.get_by_label("Summary").fill("Check-in, call 780-555-0142 later")
    wait_for_draft(page, "Check-in, call 780-555-0142 later")
    page.reload()
    page.get_by_text("A draft you had not saved was restored.").wait_for()
    assert page.get_by_label("Category").input_value() == "counselling"
    page.get_by_label("Duration (minutes)").fill("20")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Remove a phone number").wait_for()  # screened before it leaves the phone
    page.get_by_label("Summary").fill("Check-in after lunch.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Synced").wait_for()
    expect(page.get_by_label("Summary")).to_have_value("")
    page.reload()  # the saved draft is gone with the save
    page.get_by_label("Category").wait_for()
    assert page.get_by_text("A draft you had not saved was restored.").count() == 0

    open_my_activities(page)
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Duration (minutes)").fill("15")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("15 minutes").wait_for()
    page.get_by_text("Synced").wait_for()
    [item] = server_activities(live, team["officer"])
    assert (item["duration_minutes"], item["version"]) == (15, 2)

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.get_by_text("Nothing logged on this phone yet.").wait_for()
    for _ in range(50):
        if not server_activities(live, team["officer"]):
            break
        page.wait_for_timeout(100)
    assert server_activities(live, team["officer"]) == []
    assert console.unexpected() == []


def test_leader_confirms_all_selected_at_once(new_page, live, console):
    team = live.team()
    token = live.token(team["officer"])
    for minutes in (10, 20):
        body = {
            "school_id": team["school_id"],
            "category": "education",
            "started_at": "2026-01-15T10:00:00+00:00",
            "duration_minutes": minutes,
        }
        assert live.api("POST", "/activities", token=token, body=body)[0] == 201
    leader = new_page()
    sign_in(leader, team["leader"])
    leader.locator(".cards > li").nth(1).wait_for()
    leader.get_by_label("Select all").check()
    leader.get_by_role("button", name="Confirm selected").click()
    leader.get_by_text("Review saved for 2 activities.").wait_for()
    assert {i["status"] for i in server_activities(live, team["officer"])} == {"confirmed"}
    assert console.unexpected() == []


def test_entry_waiting_more_than_three_days_shows_warning(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    page.get_by_label("School").wait_for()
    page.context.set_offline(True)
    log_activity(page, "Education", "30", "10")
    page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open('sro-activity-log');
            open.onsuccess = () => {
                const tx = open.result.transaction('outbox', 'readwrite');
                const store = tx.objectStore('outbox');
                store.getAll().onsuccess = (event) => {
                    const old = new Date(Date.now() - 4 * 86400000).toISOString();
                    for (const entry of event.target.result) store.put({...entry, created_at: old});
                };
                tx.oncomplete = () => resolve();
            };
        })"""
    )
    page.reload()
    page.get_by_text("Something has waited more than 3 days to sync").wait_for()
    assert console.unexpected(allow_network_noise=True) == []


def test_conflict_needs_attention_until_officer_keeps_their_version(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    log_activity(page, "Education", "30", "10")
    page.get_by_text("Synced").wait_for()
    page.context.set_offline(True)
    open_my_activities(page)
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Duration (minutes)").fill("99")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Pending sync").wait_for()

    token = live.token(team["officer"])
    [item] = server_activities(live, team["officer"])
    status, _ = live.api(
        "PATCH", f"/activities/{item['id']}", token=token, body={"duration_minutes": 11}
    )  # the same field as the phone's edit: a conflict (other fields would merge)
    assert status == 200

    page.context.set_offline(False)
    page.get_by_text("Needs attention", exact=True).wait_for()
    assert "1 needs attention" in page.locator("#sync-status").inner_text()
    page.get_by_role("button", name="Keep my version").click()
    page.get_by_text("Synced").wait_for()
    [item] = server_activities(live, team["officer"])
    assert (item["duration_minutes"], item["version"]) == (99, 3)
    assert console.unexpected(allow_network_noise=True) == []


def test_rejected_change_says_why_and_can_be_discarded(new_page, live, console):
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    page.get_by_label("School").wait_for()
    page.context.set_offline(True)
    log_activity(page, "Mediation", "15", "2")

    admin = live.token(live.user("admin"))
    status, users = live.api("GET", "/users?limit=500", token=admin)
    officer = next(u for u in users["items"] if u["email"] == team["officer"])
    status, _ = live.api("PATCH", f"/users/{officer['id']}", token=admin, body={"school_ids": []})
    assert status == 200

    page.context.set_offline(False)
    page.get_by_text("Needs attention", exact=True).wait_for()  # on the Log view's recent list
    open_my_activities(page)
    page.get_by_text("Not accepted by the server.").wait_for()
    assert page.get_by_text("Needs attention", exact=True).count() == 1
    page.get_by_role("button", name="Discard the change").click()
    page.get_by_text("Discarding deletes it from this phone").wait_for()  # never on the server
    page.get_by_role("button", name="Yes, discard it").click()
    page.get_by_text("Nothing logged on this phone yet.").wait_for()
    assert "0 waiting to sync" in page.locator("#sync-status").inner_text()
    assert server_activities(live, team["officer"]) == []
    assert console.unexpected(allow_network_noise=True) == []


def test_background_sync_after_offline_save_asks_page_to_push_once(new_page, live, console):
    team, page = officer_ready_offline(new_page, live)
    pushes = []
    page.route("**/api/v1/sync/push", lambda route: (pushes.append(1), route.continue_()))
    # Only the worker's message may start the sync: the page's own `online` handlers are held
    # back, and the worker's messages are counted.
    page.evaluate(
        """() => {
            const hold = (event) => event.stopImmediatePropagation();
            window.addEventListener('online', hold, { capture: true });
            window.workerSyncMessages = 0;
            navigator.serviceWorker.addEventListener('message', (event) => {
                if (event.data?.type === 'sync') window.workerSyncMessages += 1;
            });
        }"""
    )

    page.context.set_offline(True)
    log_activity(page, "Mediation", "30", "2")
    assert page.get_by_text("Pending sync").count() == 1
    page.context.set_offline(False)  # Chromium fires the Background Sync it was asked for
    page.get_by_text("Synced").wait_for()
    assert page.evaluate("window.workerSyncMessages") >= 1
    assert [i["category"] for i in server_activities(live, team["officer"])] == ["mediation"]
    assert len(pushes) == 1
    assert console.unexpected(allow_network_noise=True) == []


def test_status_line_with_an_entry_waiting_a_day_says_how_old_it_is(new_page, live, console):
    """pwa.md: 'show the count of unsynced entries and the age of the oldest' (from an hour)."""
    team = live.team()
    page = phone(new_page, team["officer"])
    status = page.locator("#sync-status")
    page.context.set_offline(True)
    log_activity(page, "Education", "30", "10")
    expect(status).to_have_text("Saved on this phone · 1 waiting to sync · offline")
    page.evaluate(AGE_OUTBOX, 26 * 3600 * 1000)  # logged 26 hours ago
    page.reload()
    page.get_by_label("Category").wait_for()
    expect(status).to_contain_text("oldest 1 day ago")
    assert status.inner_text() == (
        "Saved on this phone · 1 waiting to sync · oldest 1 day ago · offline"
    )
    assert status.bounding_box()["height"] <= 32, "the sync line is still one short line"
    page.evaluate(AGE_OUTBOX, 3 * 3600 * 1000 + 60_000)
    page.reload()
    page.get_by_label("Category").wait_for()
    expect(status).to_contain_text("oldest 3 hours ago")
    page.context.set_offline(False)
    page.get_by_text("all sent").wait_for()
    assert "oldest" not in status.text_content()
    assert console.unexpected(allow_network_noise=True) == []


def test_change_needing_attention_for_more_than_three_days_shows_warning(new_page, live, console):
    """A conflict left for days is still not on the server: the 3-day warning applies."""
    team = live.team()
    page = phone(new_page, team["officer"])
    item = logged_and_synced(page, live, team["officer"], duration="30", participants="10")
    page.context.set_offline(True)
    edit_on_phone(page, item["id"], **{"Duration (minutes)": "99"})
    status, _ = live.api(
        "PATCH",
        f"/activities/{item['id']}",
        token=live.token(team["officer"]),
        body={"duration_minutes": 11},
    )
    assert status == 200
    page.context.set_offline(False)
    page.get_by_text("Needs attention", exact=True).wait_for()
    page.evaluate(AGE_OUTBOX, 4 * 86400 * 1000)  # set aside 4 days ago
    page.reload()
    page.get_by_role("heading", name="My activities").wait_for()
    expect(page.locator("#sync-status")).to_contain_text("1 needs attention")
    expect(page.locator("#sync-status")).to_contain_text("oldest 4 days ago")
    page.get_by_text("Something has waited more than 3 days to sync").wait_for(timeout=5000)
    assert console.unexpected(allow_network_noise=True) == []


def logged_then_signed_out_elsewhere(new_page, live, activity: tuple[str, str, str]):
    """An officer logs an activity offline, the sign-in ends meanwhile (signed out from another
    device), and they go back to the form and reload: (team, page)."""
    team = live.team()
    page = phone(new_page, team["officer"])
    wait_offline_ready(page)
    page.context.set_offline(True)
    log_activity(page, *activity)
    session = page.evaluate(READ_SESSION)
    status, _ = live.api("POST", "/auth/logout", token=session["refresh_token"])
    assert status == 204
    page.context.set_offline(False)
    page.get_by_role("heading", name="Sign in again").wait_for()
    page.goto("/#/log")  # the officer goes back to the form (allowed: signed in on this phone)
    page.reload()
    page.get_by_label("Category").wait_for()
    return team, page


def test_sync_now_after_a_reload_with_an_ended_session_says_sign_in_again(new_page, live, console):
    """phone-ux.md: Sync now says how it ended (... sign in again). After a reload with an
    ended sign-in, nothing can be sent: it must not say 'Sync finished'."""
    activity = ("Emergency response", "90", "300")
    team, page = logged_then_signed_out_elsewhere(new_page, live, activity)
    expect(page.locator("#sync-status")).to_contain_text("sign in again")
    page.get_by_role("button", name="Sync now").click()
    said = page.locator("#sync-said")
    expect(said).not_to_have_text("Syncing…")
    expect(said).not_to_be_empty()
    text = said.inner_text()
    assert "Sign in again" in text, text
    assert "finished" not in text
    assert server_activities(live, team["officer"]) == []
    assert console.unexpected(allow_network_noise=True) == []


def test_backoff_retry_when_its_timer_fires_early_still_runs(new_page, live, console):
    """After a 5xx the retry is set for nextAt = now + base/2 + random*base/2, a time with a
    fraction of a millisecond, and the timer for nextAt - now ms. setTimeout counts whole
    milliseconds (WebIDL long), so it may fire in the millisecond before nextAt; a retry that
    then found Date.now() < nextAt skipped itself and waited for the 60-s interval (about one
    retry in three in plain Chromium). Here the timer fires on the first whole millisecond the
    spec allows, so that skip would happen every time (Background Sync, which forces a sync,
    is turned off so that it cannot run the retry instead)."""
    team = live.team()
    page = new_page()
    page.add_init_script("""(() => {
        const real = window.setTimeout.bind(window);
        window.setTimeout = (fn, delay, ...rest) => {
            if (!(delay > 2000 && delay < 50000)) return real(fn, delay, ...rest);
            const due = Date.now() + Math.trunc(delay);
            const poll = () => {
                while (Date.now() < due) { /* the last few ms */ }
                fn(...rest);
            };
            return real(poll, Math.trunc(delay) - 20);
        };
        Math.random = () => 0.30001;
        // No Background Sync: its event would ask for a forced sync, and hide the skip.
        if (window.ServiceWorkerRegistration) {
            Object.defineProperty(ServiceWorkerRegistration.prototype, 'sync', {
                get: () => undefined,
            });
        }
    })()""")
    sign_in(page, team["officer"])
    page.get_by_label("School").wait_for()
    calls = []

    def fail_once(route):
        calls.append(route.request.post_data_json)
        if len(calls) == 1:
            route.fulfill(status=503, json={"error": {"code": "unavailable", "message": "x"}})
        else:
            route.continue_()

    page.route("**/api/v1/sync/push", fail_once)
    log_activity(page, "Counselling", "20", "1")
    wait_until(page, lambda: calls, "first push")
    # The retry is due 3.25 s later (2.5 s + 0.30001 * 2.5 s); give it 15 s, well before the
    # 60-s interval.
    wait_until(page, lambda: stored(page, "outbox") == [], "retried after backoff", tries=150)
    assert len(calls) == 2
    assert console.unexpected(allow_network_noise=True) == []
