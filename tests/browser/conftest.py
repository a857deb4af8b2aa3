"""Real-browser fixtures: one live server on a migrated SQLite file, headless Chromium
(Debian's /usr/bin/chromium, never a downloaded one), and helpers to sign in and read state."""

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from api import create_app
from tests.conftest import BASE_CONFIG
from tests.factories import PASSWORD, make_school, make_user
from tests.live_server import live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Network failures a test causes on purpose show up as console errors of this form.
EXPECTED_NETWORK_NOISE = ("Failed to load resource",)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    if CHROMIUM.exists():
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        return  # the fixtures fail loudly instead
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords and here in Path(item.fspath).parents:
            item.add_marker(skip)


@dataclass
class Live:
    url: str
    app: object

    def team(self, level: str = "junior_high") -> dict:
        """A fresh school with its own officer and leader (tests never share records)."""
        with self.app.app_context():
            school = make_school(level=level)
            officer = make_user("officer", [school], display_name="Cst. Alex Morgan")
            leader = make_user("school_leader", [school], display_name="Dana Whitford")
            return {
                "school_id": school.id,
                "school_name": school.name,
                "officer": officer.email,
                "leader": leader.email,
            }

    def user(self, role: str) -> str:
        with self.app.app_context():
            return make_user(role).email

    def api(self, method: str, path: str, token: str | None = None, body=None):
        request = urllib.request.Request(
            self.url + "/api/v1" + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                data = response.read()
                return response.status, json.loads(data) if data else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def token(self, email: str) -> str:
        status, body = self.api("POST", "/auth/login", body={"email": email, "password": PASSWORD})
        assert status == 200, body
        return body["access_token"]


@contextmanager
def serving(database_template: Path, directory: Path) -> Iterator[Live]:
    """A live server (gunicorn, two workers) on a copy of the migrated database."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("browser tests run on the SQLite pass only")
    path = directory / "live.sqlite3"
    shutil.copyfile(database_template, path)
    url = f"sqlite:///{path}"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with live_server(url, workers=2) as (base_url, _process):
        yield Live(base_url, app)
    with app.app_context():
        from api.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def live(database_template, tmp_path_factory):
    with serving(database_template, tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance():
    if not CHROMIUM.exists():
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


class Console:
    """Console errors, page errors and CSP violations seen by a page."""

    def __init__(self):
        self.errors: list[str] = []

    def attach(self, page):
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        return page

    def unexpected(self, allow_network_noise: bool = False) -> list[str]:
        return [
            e
            for e in self.errors
            if not (allow_network_noise and e.startswith(EXPECTED_NETWORK_NOISE))
        ]


@pytest.fixture
def console():
    return Console()


@pytest.fixture
def new_page(browser, live, console):
    """Open a fresh browser context (its own storage and service worker) at a viewport."""
    contexts = []

    def open_page(viewport=PHONE):
        context = browser.new_context(viewport=viewport, base_url=live.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return console.attach(context.new_page())

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#nav").wait_for()


def wait_offline_ready(page) -> None:
    """The service worker is active and controls the page, so the shell works offline."""
    # Polled from here: wait_for_function evaluates a string, which the strict CSP refuses.
    for _ in range(150):
        ready = page.evaluate(
            "document.documentElement.dataset.offlineReady === 'true'"
            " && navigator.serviceWorker.controller !== null"
        )
        if ready:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker never took control of the page")


def officer_ready_offline(new_page, live):
    """A new team's officer signed in on a phone whose shell works offline: (team, page)."""
    team = live.team()
    page = new_page()
    sign_in(page, team["officer"])
    page.get_by_label("Category").wait_for()
    wait_offline_ready(page)
    return team, page


def log_activity(page, category="Education", duration="45", participants="20", summary=""):
    """Log one activity the way an officer does: the Log view stays open for the next one."""
    if not page.url.endswith("#/log"):
        page.goto("/#/log")
    page.get_by_label("Category").select_option(label=category)
    page.get_by_label("Duration (minutes)").fill(duration)
    page.get_by_label("Participants").fill(participants)
    if summary:
        page.get_by_label("Summary").fill(summary)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Category")).to_have_value("")  # the form is fresh again
    page.get_by_text("The form is ready for the next activity.").wait_for()


def open_my_activities(page) -> None:
    page.get_by_role("link", name="My activities").click()
    page.get_by_role("heading", name="My activities").wait_for()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
