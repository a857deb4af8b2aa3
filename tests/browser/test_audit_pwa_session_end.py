"""A leader's or manager's session that ends (tokens revoked, refresh refused) is a request to
sign in again (pwa.md: "401: ... ask to sign in again"), not a dead end that reads
"Sign in again to sync." under the view's heading with no way to do it."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

# The stored sign-in's tokens replaced by ones the server refuses (as after a revocation).
END_SESSION = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open('sro-activity-log');
  opening.onerror = reject;
  opening.onsuccess = () => {
    const tx = opening.result.transaction('meta', 'readwrite');
    const store = tx.objectStore('meta');
    const read = store.get('session');
    read.onsuccess = () => {
      const row = read.result;
      row.value = { ...row.value, access_token: 'not.a.token', refresh_token: 'not.a.token' };
      store.put(row);
    };
    tx.oncomplete = () => resolve(true);
  };
})"""


@pytest.mark.parametrize(
    ("role", "route", "heading"),
    [("school_leader", "review", "Review queue"), ("program_manager", "dashboard", "Dashboard")],
)
def test_an_ended_session_asks_to_sign_in_again(new_page, live, console, role, route, heading):
    email = live.team()["leader"] if role == "school_leader" else live.user(role)
    page = new_page()
    sign_in(page, email)
    page.get_by_role("heading", name=heading).wait_for()
    page.evaluate(END_SESSION)
    page.reload()
    page.get_by_role("heading", name="Sign in again").wait_for()
    expect(page.get_by_label("Email")).to_have_value(email)
    assert "to sync" not in page.locator("main").inner_text()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=heading).wait_for()
    assert page.url.endswith(f"#/{route}")
    assert console.unexpected(allow_network_noise=True) == []
