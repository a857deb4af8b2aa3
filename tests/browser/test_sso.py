"""From the sign-in page's provider button to the role's first view, in Chromium, through a
real OpenID provider on loopback; and the error in words when the provider's person has no
account here."""

import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from api import create_app
from tests.browser.conftest import PHONE
from tests.browser.test_app_views import AXE_OPTIONS
from tests.conftest import BASE_CONFIG
from tests.factories import PASSWORD, make_school, make_user
from tests.live_server import live_server
from tests.oidc_provider import provider_env, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


@pytest.fixture(scope="module")
def sso_live(database_template, tmp_path_factory):
    """A live server with two providers configured, a leader who exists at the board, and
    two officers at the police (one with a password, one provider-only)."""
    path = tmp_path_factory.mktemp("sso") / "live.sqlite3"
    shutil.copyfile(database_template, path)
    url = f"sqlite:///{path}"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        school = make_school()
        make_user("school_leader", [school], email="principal@board.test", password_hash=None)
        make_user("officer", [school], email="cst.first@police.test")
        make_user("officer", [school], email="cst.second@police.test", password_hash=None)
    with running_provider("sro-police") as police, running_provider("sro-board") as board:
        env = {
            "OIDC_PROVIDERS": "police,board",
            **provider_env("police", police, LABEL="Police Service"),
            **provider_env("board", board, LABEL="School Board"),
        }
        with live_server(url, workers=2, extra_env=env) as (base_url, _process):
            yield base_url, police, board
    with app.app_context():
        from api.extensions import db

        db.engine.dispose()


@pytest.fixture
def page(browser, sso_live, console):
    context = browser.new_context(viewport=PHONE, base_url=sso_live[0])
    context.set_default_timeout(15_000)
    yield console.attach(context.new_page())
    context.close()


def test_a_leader_signs_in_with_the_school_board(page, sso_live, console):
    _, _, board = sso_live
    board.sign_in_as("principal@board.test")
    page.goto("/")
    button = page.get_by_role("button", name="Sign in with School Board")
    expect(page.get_by_role("button", name="Sign in with Police Service")).to_be_visible()
    box = button.bounding_box()
    assert box["height"] >= 48
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert violations == [], [v["id"] for v in violations]
    button.click()
    page.get_by_role("heading", name="Review queue").wait_for()
    assert page.url.endswith("#/review")
    assert "grant" not in page.url
    expect(page.locator("#nav")).to_contain_text("Sign out")
    reminders = page.get_by_label("Send me a daily reminder when activities wait for my review")
    expect(reminders).to_be_checked()
    reminders.uncheck()
    page.get_by_text("Reminders off.").wait_for()
    page.reload()
    expect(
        page.get_by_label("Send me a daily reminder when activities wait for my review")
    ).not_to_be_checked()
    assert console.unexpected() == []


def test_no_account_is_said_in_words(page, sso_live, console):
    _, police, _ = sso_live
    police.sign_in_as("stranger@police.test")
    page.goto("/")
    page.get_by_role("button", name="Sign in with Police Service").click()
    expect(page.get_by_role("alert")).to_have_text(
        "No account uses this email; ask your administrator."
    )
    assert "#/login?error=sso_no_account" in page.url
    expect(page.get_by_label("Email")).to_be_visible()  # the password form is still there
    assert console.unexpected() == []


def test_another_officers_unsaved_form_is_deleted_only_when_asked(page, sso_live, console):
    """As after a password sign-in: a provider sign-in on a phone that holds the previous
    officer's unsaved form asks first, and goes on once the officer says so."""
    _, police, _ = sso_live
    page.goto("/")
    page.get_by_label("Email").fill("cst.first@police.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Summary").fill("Half-written note")
    page.wait_for_timeout(600)  # the draft autosaves
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign out anyway").click()
    police.sign_in_as("cst.second@police.test")
    page.get_by_role("button", name="Sign in with Police Service").click()
    question = page.get_by_role("alertdialog", name="Unsaved form on this phone")
    expect(question).to_contain_text("holds a form the previous officer had not saved")
    expect(page.get_by_role("button", name="Sign in and delete it")).to_be_focused()
    page.get_by_role("button", name="Sign in and delete it").click()
    page.get_by_role("heading", name="Log activity").wait_for()
    assert "grant" not in page.url
    expect(page.get_by_label("Summary")).to_have_value("")
    assert console.unexpected() == []
