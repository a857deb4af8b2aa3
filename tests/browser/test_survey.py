"""Community voice in Chromium at phone size: a student answers in French from a QR link and
in English by typing the code; a leader prints slips; a manager reads the results and the
printable evaluation page. axe-core (WCAG 2.2 A/AA with target-size) is clean on each."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from api.services.surveys import answer_date
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_app_views import AXE_OPTIONS, assert_reflows

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def assert_accessible(page, name: str) -> None:
    results = Axe().run(page, options=AXE_OPTIONS).response
    problems = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
    ]
    assert problems == [], name
    assert_reflows(page, name)
    screenshot(page, name)


def open_round(live, team: dict, audiences=("students_7_9",)) -> tuple[str, dict]:
    manager = live.token(live.user("program_manager"))
    today = answer_date()
    body = {
        "title": "Fall climate survey",
        "opens_on": (today - timedelta(days=1)).isoformat(),
        "closes_on": (today + timedelta(days=14)).isoformat(),
        "school_ids": [team["school_id"]],
        "audiences": list(audiences),
    }
    status, made = live.api("POST", "/surveys", token=manager, body=body)
    assert status == 201, made
    return manager, made


def issue(live, token: str, round_id: int, school_id: int, count: int = 2) -> list[str]:
    body = {"school_id": school_id, "audience": "students_7_9", "count": count}
    status, issued = live.api("POST", f"/surveys/{round_id}/codes", token=token, body=body)
    assert status == 201, issued
    return issued["codes"]


def test_a_student_answers_in_french_from_a_qr_link(new_page, live, console):
    team = live.team()
    manager, made = open_round(live, team)
    code = issue(live, manager, made["id"], team["school_id"])[0]
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append((request.url, request.post_data or "")))
    page.goto(f"/survey#{code}")
    page.get_by_role("button", name="Français").click()
    page.get_by_role("heading", name="Sondage sur la sécurité à l'école").wait_for()
    assert page.evaluate("location.hash") == ""  # the code leaves the address bar
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert_accessible(page, "survey-fr-phone")
    group = page.get_by_role("radiogroup", name="Je me sens en sécurité à l'école.")
    group.get_by_label("D'accord", exact=True).check()
    officer = page.get_by_role("radiogroup", name="quand l'agent de police")
    officer.get_by_label("Tout à fait d'accord").check()
    page.get_by_label("Autochtone (Premières Nations, Métis ou Inuit)").check()
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_text("Merci").wait_for()
    assert_accessible(page, "survey-thanks-fr-phone")
    # The code went only in request bodies, never in an address.
    assert not any(code in url or code.replace("-", "") in url for url, _ in requests)
    assert any(code in body for _, body in requests)
    assert console.unexpected() == []
    results = live.api("GET", f"/surveys/{made['id']}/results", token=manager)[1]
    assert results["responses"] == 1


def test_a_student_types_a_code_in_english(new_page, live, console):
    team = live.team()
    manager, made = open_round(live, team)
    code = issue(live, manager, made["id"], team["school_id"])[0]
    page = new_page()
    page.goto("/survey")
    page.get_by_role("button", name="English").click()
    assert_accessible(page, "survey-code-phone")
    page.get_by_label("Code").fill("nope")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("alert")).to_contain_text("could not find this code")
    page.get_by_label("Code").fill(code.lower())
    page.get_by_role("button", name="Start").click()
    page.get_by_role("radiogroup", name="I feel safe at school.").get_by_label(
        "Agree", exact=True
    ).check()
    assert_accessible(page, "survey-en-phone")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Thank you").wait_for()
    page.goto("/survey")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("alert")).to_contain_text("already used")
    assert console.unexpected(allow_network_noise=True) == []
