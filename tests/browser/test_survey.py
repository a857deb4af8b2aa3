"""Community voice in Chromium at phone size: a student answers in French from a QR link and
in English by typing the code; a leader prints slips; a manager reads the results and the
printable evaluation page. axe-core (WCAG 2.2 A/AA with target-size) is clean on each."""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_app_views import AXE_OPTIONS, assert_reflows, assert_thumb_sized
from tests.survey_support import answer_date

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]


def assert_accessible(page, name: str) -> None:
    results = Axe().run(page, options=AXE_OPTIONS).response
    problems = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
    ]
    assert problems == [], name
    assert_reflows(page, name)
    assert_thumb_sized(page, name)
    screenshot(page, name)


def open_round(
    live, team: dict, audiences=("students_7_9",), title="Fall climate survey"
) -> tuple[str, dict]:
    manager = live.token(live.user("program_manager"))
    today = answer_date()
    body = {
        "title": title,
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
    group = page.get_by_role("radiogroup", name="Je me sens en sécurité à l'école.", exact=True)
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
    page.get_by_role("radiogroup", name="I feel safe at school.", exact=True).get_by_label(
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


def test_a_badly_encoded_link_still_opens_the_page(new_page, live, console):
    """A slip's link mangled on the way (a cut %-escape): the page says the code is not
    known and offers the Code field, instead of stopping at "Loading"."""
    page = new_page()
    page.goto("/survey#%E0%A4%A")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("alert")).to_contain_text("could not find this code")
    expect(page.get_by_label("Code")).to_be_visible()
    assert console.unexpected(allow_network_noise=True) == []


def test_a_language_switch_keeps_the_typed_code_and_says_the_error_anew(new_page, live, console):
    """A child types a code, then picks Français: the code stays in the field, and an error
    already shown is said again in French (the page's lang and the alert's words agree)."""
    page = new_page()
    page.goto("/survey")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Code").fill("ABCDE-23456")
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_label("Code")).to_have_value("ABCDE-23456")
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("alert")).to_contain_text("could not find this code")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("alert")).to_contain_text("Nous ne trouvons pas ce code")
    assert console.unexpected(allow_network_noise=True) == []


def test_open_second_slip_link_in_same_tab_starts_its_survey(new_page, live, console):
    """Two students take turns on one Chromebook: the second opens their slip's link in the
    tab that thanked the first. The page answers for the new code and drops it from the
    address bar, as it does on a first load."""
    team = live.team()
    manager, made = open_round(live, team)
    first, second = issue(live, manager, made["id"], team["school_id"])
    page = new_page()
    page.goto(f"/survey#{first}")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Thank you").wait_for()
    page.goto(f"/survey#{second}")
    page.get_by_role("radiogroup", name="I feel safe at school.", exact=True).get_by_label(
        "Agree", exact=True
    ).check()
    assert page.evaluate("location.hash") == ""
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Thank you").wait_for()
    results = live.api("GET", f"/surveys/{made['id']}/results", token=manager)[1]
    assert results["responses"] == 2
    assert console.unexpected() == []


def test_start_with_an_empty_code_says_to_type_it(new_page, live, console):
    """WCAG 3.3.1: Start pressed with nothing typed says what is missing, in words, at the
    field, instead of doing nothing."""
    page = new_page()
    page.goto("/survey")
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("alert")).to_contain_text("Type the code from your paper slip")
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Code")).to_be_focused()
    assert console.unexpected() == []


@pytest.mark.parametrize("language", ["English", "Français"])
def test_open_survey_at_320_px_in_either_language_no_sideways_scroll(
    new_page, live, console, language
):
    """WCAG 2.2 AA reflow (1.4.10) at 320 CSS px: the header's title and language buttons
    wrap instead of pushing the page wider, also with the longer French title."""
    team = live.team()
    manager, made = open_round(live, team)
    code = issue(live, manager, made["id"], team["school_id"], count=1)[0]
    page = new_page(viewport={"width": 320, "height": 640})
    page.goto("/survey")
    page.get_by_role("button", name=language).click()
    assert_reflows(page, f"survey-code-320-{language}")
    page.goto(f"/survey#{code}")
    page.get_by_role("radiogroup").first.wait_for()
    assert_reflows(page, f"survey-questions-320-{language}")
    assert console.unexpected() == []


def test_open_survey_in_a_browser_preferring_german_then_french_starts_in_french(
    new_page, live, console
):
    """The default language is the browser's first preference the survey speaks, not English
    whenever the very first one is neither (a family whose browser lists de-DE, then fr-CA)."""
    page = new_page()
    page.add_init_script(
        "Object.defineProperty(navigator, 'language', {get: () => 'de-DE'});"
        "Object.defineProperty(navigator, 'languages', {get: () => ['de-DE', 'fr-CA', 'en']});"
    )
    page.goto("/survey")
    expect(page.get_by_role("button", name="Commencer")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert console.unexpected() == []


def test_a_leader_prints_slips(new_page, live, console):
    team = live.team()
    _manager, made = open_round(live, team, audiences=("students_7_9", "families"))
    page = new_page()
    sign_in(page, team["leader"])
    page.get_by_role("link", name="Community voice").click()
    page.get_by_role("heading", name="Latest results for your schools").wait_for()
    assert_accessible(page, "voice-leader-rounds-phone")
    page.get_by_role("link", name="Fall climate survey").first.click()
    page.get_by_role("heading", name="Fall climate survey").wait_for()
    page.get_by_label("Audience").select_option(label="Families")
    page.get_by_label("How many codes").fill("4")
    page.get_by_role("button", name="Make codes").click()
    page.get_by_role("heading", name="4 new codes").wait_for()
    # The results below count the new codes at once.
    expect(page.locator(".participation")).to_have_text(
        "0 answers from 4 codes issued (response rate 0%)."
    )
    slips = page.locator(".slip")
    expect(slips).to_have_count(4)
    expect(slips.first).to_contain_text("Scanne le code")
    codes = [text.strip() for text in page.locator(".slip-code").all_inner_texts()]
    assert all(len(code) == 11 for code in codes)
    expect(slips.first.get_by_role("img")).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml")
    )
    assert_accessible(page, "voice-slips-phone")
    page.emulate_media(media="print")
    expect(slips.first).to_be_visible()
    expect(page.get_by_role("heading", name="Fall climate survey")).to_be_hidden()
    expect(page.get_by_role("button", name="Make codes")).to_be_hidden()
    expect(page.locator("header.bar")).to_be_hidden()
    page.emulate_media(media="screen")
    # A code from a slip works on the survey page.
    status, checked = live.api("POST", "/survey-codes/check", body={"code": codes[0]})
    assert status == 200 and checked["audience"] == "families"
    assert console.unexpected() == []


def answer_many(live, manager, made, school_id, count, identity=(), safe=4):
    for code in issue(live, manager, made["id"], school_id, count=count):
        body = {
            "code": code,
            "language": "en",
            "answers": {"safe_at_school": safe, "safe_with_officer": 2, "knows_role": None},
            "identity": list(identity),
        }
        assert live.api("POST", "/survey-responses", body=body)[0] == 201


def test_a_manager_reads_the_section_and_the_printable_page(new_page, live, console):
    team = live.team()
    manager, made = open_round(live, team)
    answer_many(live, manager, made, team["school_id"], 12)
    answer_many(live, manager, made, team["school_id"], 11, identity=["black"], safe=2)
    page = new_page()
    sign_in(page, live.user("program_manager"))
    section = page.locator("section", has=page.get_by_role("heading", name="Community voice"))
    section.get_by_text("answers from").first.wait_for()
    expect(section.get_by_text("Trend across rounds")).to_be_visible()
    expect(section.get_by_text("Hidden: fewer than 10 answers").first).to_be_visible()
    expect(section.get_by_text("points").first).to_be_visible()
    page.goto(f"/#/voice/{made['id']}/report")
    page.get_by_role("heading", name="Evaluation: Fall climate survey").wait_for()
    page.get_by_text("Activities by category (numbers)").wait_for()
    expect(page.get_by_text("Activities the schools confirmed")).to_be_visible()
    expect(
        page.get_by_text("23 answers from 23 codes issued (response rate 100%).")
    ).to_be_visible()
    assert_accessible(page, "voice-evaluation-phone")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
    expect(page.get_by_role("heading", name="Evaluation: Fall climate survey")).to_be_visible()
    page.emulate_media(media="screen")
    page.goto("/#/dashboard")
    page.get_by_role("heading", name="Dashboard").wait_for()
    section.get_by_text("answers from").first.wait_for()
    assert_accessible(page, "voice-dashboard-phone")
    assert console.unexpected() == []


def test_last_finished_round_stays_in_view_while_a_new_one_is_open(new_page, live, console):
    team = live.team()
    manager, finished = open_round(live, team, title="Winter climate survey")
    answer_many(live, manager, finished, team["school_id"], 12)
    today = answer_date()
    dates = {
        "opens_on": (today - timedelta(days=20)).isoformat(),
        "closes_on": (today - timedelta(days=1)).isoformat(),
    }
    assert live.api("PATCH", f"/surveys/{finished['id']}", token=manager, body=dates)[0] == 200
    _manager, current = open_round(live, team, title="Spring climate survey")
    answer_many(live, manager, current, team["school_id"], 2)
    page = new_page()
    sign_in(page, team["leader"])
    page.get_by_role("link", name="Community voice").click()
    section = page.locator(
        "section", has=page.get_by_role("heading", name="Latest results for your schools")
    )
    expect(section.get_by_text("Open now:")).to_contain_text("Spring climate survey (until")
    expect(section.get_by_text("Open now:")).to_contain_text("2 answers from 2 codes issued")
    expect(section.get_by_text("Last finished round:")).to_contain_text("Winter climate survey")
    expect(section.locator(".participation")).to_have_text(
        "12 answers from 12 codes issued (response rate 100%)."
    )
    expect(section.get_by_role("img", name=re.compile("round by round"))).to_be_visible()
    assert_accessible(page, "voice-leader-open-round-phone")
    assert console.unexpected() == []
