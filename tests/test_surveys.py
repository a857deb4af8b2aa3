"""Community voice API (voice.md): rounds, codes, checking, answering, results."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.extensions import db
from api.models import AuditEvent
from api.models.survey import SurveyCode, SurveyResponse
from tests.factories import auth, make_school, make_user
from tests.survey_support import ALL_FIVE, answer, answer_date, create_round, issue, round_body

CHECK = "/api/v1/survey-codes/check"


@pytest.fixture
def world(app):
    a, b, other = make_school(name="Aspen"), make_school(name="Birch"), make_school(name="Cedar")
    return {
        "a": a,
        "b": b,
        "other": other,
        "manager": make_user("program_manager"),
        "admin": make_user("admin"),
        "leader": make_user("school_leader", schools=[a]),
        "stranger": make_user("school_leader", schools=[other]),
        "officer": make_user("officer", schools=[a]),
    }


# --- rounds ------------------------------------------------------------------------------


def test_manager_creates_a_round(client, world):
    body = round_body([world["a"], world["b"]])
    response = client.post("/api/v1/surveys", json=body, headers=auth(world["manager"]))
    assert response.status_code == 201
    made = response.get_json()
    assert made["instrument"] == "sro-climate-v1"
    assert made["status"] == "open"
    assert made["school_ids"] == [world["a"].id, world["b"].id]
    assert made["audiences"] == ["students_7_9", "staff"]
    assert response.headers["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("shift_open", "shift_close", "status"),
    [(1, 5, "scheduled"), (0, 0, "open"), (-5, -1, "closed"), (-5, 0, "open")],
)
def test_status_follows_the_dates(client, world, shift_open, shift_close, status):
    today = answer_date()
    made = create_round(
        client,
        world["admin"],
        [world["a"]],
        opens_on=(today + timedelta(days=shift_open)).isoformat(),
        closes_on=(today + timedelta(days=shift_close)).isoformat(),
    )
    assert made["status"] == status


def test_round_creation_refuses_others_and_bad_input(client, world):
    body = round_body([world["a"]])
    assert client.post("/api/v1/surveys", json=body).status_code == 401
    for role in ("leader", "officer"):
        refused = client.post("/api/v1/surveys", json=body, headers=auth(world[role]))
        assert refused.status_code == 403
    bad = [
        body | {"closes_on": "2020-01-01", "opens_on": "2020-02-01"},
        body | {"audiences": ["pupils"]},
        body | {"school_ids": []},
        body | {"school_ids": [999999]},
        body | {"title": ""},
        body | {"status": "open"},
        {k: v for k, v in body.items() if k != "title"},
    ]
    for payload in bad:
        response = client.post("/api/v1/surveys", json=payload, headers=auth(world["manager"]))
        assert response.status_code == 422, payload
        assert response.get_json()["error"]["code"] == "validation_error"


def test_leaders_see_rounds_of_their_schools_only(client, world):
    mine = create_round(client, world["manager"], [world["a"]])
    theirs = create_round(client, world["manager"], [world["other"]])
    listed = client.get("/api/v1/surveys", headers=auth(world["leader"])).get_json()
    assert [r["id"] for r in listed["items"]] == [mine["id"]]
    assert (
        client.get(f"/api/v1/surveys/{theirs['id']}", headers=auth(world["leader"])).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/surveys/{mine['id']}", headers=auth(world["leader"])).status_code
        == 200
    )
    everything = client.get("/api/v1/surveys", headers=auth(world["manager"])).get_json()
    assert len(everything["items"]) == 2
    assert client.get("/api/v1/surveys", headers=auth(world["officer"])).status_code == 403
    assert client.get("/api/v1/surveys").status_code == 401
    assert client.get("/api/v1/surveys/999", headers=auth(world["manager"])).status_code == 404


def test_patch_changes_title_and_dates_with_if_match(client, world):
    made = create_round(client, world["manager"], [world["a"]])
    url = f"/api/v1/surveys/{made['id']}"
    headers = auth(world["manager"]) | {"If-Match": '"1"'}
    changed = client.patch(url, json={"title": "Fall survey"}, headers=headers)
    assert changed.status_code == 200
    assert changed.get_json()["title"] == "Fall survey"
    assert changed.headers["ETag"] == '"2"'
    stale = client.patch(url, json={"title": "Again"}, headers=headers)
    assert stale.status_code == 412
    backwards = client.patch(url, json={"closes_on": "2000-01-01"}, headers=auth(world["manager"]))
    assert backwards.status_code == 422
    assert (
        client.patch(url, json={"audiences": ["staff"]}, headers=auth(world["manager"])).status_code
        == 422
    )
    assert client.patch(url, json={"title": "x"}, headers=auth(world["leader"])).status_code == 403
    assert (
        client.patch(
            "/api/v1/surveys/999", json={"title": "x"}, headers=auth(world["admin"])
        ).status_code
        == 404
    )


def test_round_reads_and_changes_refuse_anonymous_callers_and_bad_queries(client, world):
    made = create_round(client, world["manager"], [world["a"]])
    url = f"/api/v1/surveys/{made['id']}"
    assert client.get(url).status_code == 401
    assert client.patch(url, json={"title": "x"}).status_code == 401
    assert client.get(url, headers=auth(world["officer"])).status_code == 403
    bad_queries = (
        "/api/v1/surveys?limit=0",
        f"{url}/results?school_id=0",
        f"{url}/results?audience=pupils",
        f"{url}/results?format=xml",
    )
    for bad in bad_queries:
        response = client.get(bad, headers=auth(world["manager"]))
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["code"] == "validation_error"


# --- codes -------------------------------------------------------------------------------


def test_codes_are_random_shown_once_and_stored_as_hashes(client, world, app):
    made = create_round(client, world["manager"], [world["a"]])
    response = client.post(
        f"/api/v1/surveys/{made['id']}/codes",
        json={"school_id": world["a"].id, "audience": "staff", "count": 25},
        headers=auth(world["manager"]),
    )
    assert response.status_code == 201
    body = response.get_json()
    codes = body["codes"]
    assert len(set(codes)) == 25
    assert all(len(code.replace("-", "")) == 10 for code in codes)
    assert not set("".join(codes)) & set("01OIL")
    assert body["slips"][0]["url"].endswith(f"/survey#{codes[0]}")
    assert body["slips"][0]["qr"].startswith("data:image/svg+xml")
    with app.app_context():
        stored = list(db.session.scalars(select(SurveyCode.code_hash)))
    assert len(stored) == 25
    assert not any(
        code in hashed or code.replace("-", "") in hashed for code in codes for hashed in stored
    )


def test_issue_codes_behind_a_proxy_prints_the_public_address_of_app_base_url(client, world, app):
    """Without SURVEY_BASE_URL, slips carry APP_BASE_URL (the public address, identity.md),
    not the address the request reached the app by (an internal one behind a proxy)."""
    app.config.update(APP_BASE_URL="https://sro.example.org", SURVEY_BASE_URL="")
    made = create_round(client, world["manager"], [world["a"]])
    response = client.post(
        f"/api/v1/surveys/{made['id']}/codes",
        json={"school_id": world["a"].id, "audience": "staff", "count": 1},
        headers=auth(world["manager"]),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["address"] == "https://sro.example.org/survey"
    assert body["slips"][0]["url"] == f"https://sro.example.org/survey#{body['codes'][0]}"


def test_leaders_issue_codes_for_their_own_schools_only(client, world):
    made = create_round(client, world["manager"], [world["a"], world["b"]])
    url = f"/api/v1/surveys/{made['id']}/codes"
    body = {"school_id": world["a"].id, "audience": "students_7_9", "count": 2}
    assert client.post(url, json=body, headers=auth(world["leader"])).status_code == 201
    other = body | {"school_id": world["b"].id}
    assert client.post(url, json=other, headers=auth(world["leader"])).status_code == 404
    not_in_round = body | {"school_id": world["other"].id}
    assert client.post(url, json=not_in_round, headers=auth(world["manager"])).status_code == 404
    assert client.post(url, json=body, headers=auth(world["stranger"])).status_code == 404
    assert client.post(url, json=body, headers=auth(world["officer"])).status_code == 403
    assert client.post(url, json=body).status_code == 401
    for bad in ({"count": 0}, {"count": 1001}, {"audience": "families"}, {"audience": "x"}):
        response = client.post(url, json=body | bad, headers=auth(world["manager"]))
        assert response.status_code == 422, bad


def test_issuing_is_audited_without_the_codes(client, world, app):
    made = create_round(client, world["manager"], [world["a"]])
    codes = issue(client, world["manager"], made["id"], world["a"], count=4)
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    actions = [event.action for event in events]
    assert "survey_round_create" in actions
    issued = next(event for event in events if event.action == "survey_codes_issue")
    assert issued.changes == {"school_id": world["a"].id, "audience": "students_7_9", "count": 4}
    text = repr([(event.changes, event.target_id) for event in events])
    assert not any(code in text or code.replace("-", "") in text for code in codes)


# --- checking and answering ----------------------------------------------------------------


def test_check_ignores_case_and_dashes_and_gives_the_instrument(client, world):
    made = create_round(client, world["manager"], [world["a"]])
    code = issue(client, world["manager"], made["id"], world["a"], count=1)[0]
    response = client.post(CHECK, json={"code": " " + code.replace("-", "").lower()})
    assert response.status_code == 200
    body = response.get_json()
    assert body["school_name"] == "Aspen"
    assert body["audience"] == "students_7_9"
    assert [item["key"] for item in body["items"]] == list(ALL_FIVE)
    assert body["items"][0]["text"] == {
        "en": "I feel safe at school.",
        "fr": "Je me sens en sécurité à l'école.",
    }
    assert [step["value"] for step in body["scale"]] == [1, 2, 3, 4, 5]
    assert body["identity_options"][-1]["key"] == "prefer_not_to_say"
    assert body["survey"]["title"] == "Spring climate survey"


@pytest.mark.parametrize("dash", ["\u2013", "\u2010", "\u2011", "\u2014", " - ", "\t", "\n"])
def test_check_takes_a_code_typed_with_any_dash_or_white_space(client, world, dash):
    made = create_round(client, world["manager"], [world["a"]])
    code = issue(client, world["manager"], made["id"], world["a"], count=1)[0]
    response = client.post(CHECK, json={"code": code.replace("-", dash)})
    assert response.status_code == 200, response.get_json()


def test_staff_wording_asks_about_students(client, world):
    made = create_round(client, world["manager"], [world["a"]])
    code = issue(client, world["manager"], made["id"], world["a"], count=1, audience="staff")[0]
    body = client.post(CHECK, json={"code": code}).get_json()
    assert body["items"][0]["text"]["en"].startswith("Students at this school")


@pytest.mark.parametrize("body", [{}, {"code": 5}, {"code": None}, {"code": "AAAAA-AAAAA", "x": 1}])
def test_check_without_a_code_string_is_422(client, body):
    response = client.post(CHECK, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_codes_for_an_unknown_round_are_404(client, world):
    body = {"school_id": world["a"].id, "audience": "staff", "count": 1}
    response = client.post("/api/v1/surveys/999/codes", json=body, headers=auth(world["admin"]))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("code", ["", "K7QM-4XPA", "AAAAA-AAAAA", "0OIL1-0OIL1", "é" * 10])
def test_unknown_or_malformed_codes_are_404(client, world, code):
    for url in (CHECK, "/api/v1/survey-responses"):
        payload = {"code": code, "language": "en", "answers": {}}
        response = client.post(url, json=payload if "responses" in url else {"code": code})
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_an_evening_answer_is_dated_on_the_program_date(client, world, app, program_clock):
    """20:00 on 31 October in Edmonton is 1 November in UTC: the answer is dated 31 October."""
    program_clock(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    made = create_round(client, world["manager"], [world["a"]])
    code = issue(client, world["manager"], made["id"], world["a"], count=1)[0]
    assert answer(client, code).status_code == 201
    with app.app_context():
        assert list(db.session.scalars(select(SurveyResponse.answered_on))) == [date(2026, 10, 31)]


def test_answer_is_stored_and_code_used_up(client, world, app):
    made = create_round(client, world["manager"], [world["a"]])
    code = issue(client, world["manager"], made["id"], world["a"], count=1)[0]
    first = answer(client, code, identity=["indigenous", "2slgbtq"], language="fr")
    assert (first.status_code, first.get_json()) == (201, {"received": True})
    again = answer(client, code)
    assert again.status_code == 410
    assert again.get_json()["error"]["code"] == "code_used"
    checked = client.post(CHECK, json={"code": code})
    assert (checked.status_code, checked.get_json()["error"]["code"]) == (410, "code_used")
    with app.app_context():
        rows = list(db.session.scalars(select(SurveyResponse)))
    assert len(rows) == 1
    assert rows[0].safe_at_school == 4 and rows[0].knows_role is None
    assert rows[0].identity == ["2slgbtq", "indigenous"]
    assert rows[0].answered_on == answer_date()


def test_closed_and_not_yet_open_rounds_refuse_codes(client, world):
    today = answer_date()
    closed = create_round(
        client,
        world["manager"],
        [world["a"]],
        opens_on=(today - timedelta(days=9)).isoformat(),
        closes_on=(today - timedelta(days=1)).isoformat(),
    )
    later = create_round(
        client,
        world["manager"],
        [world["a"]],
        opens_on=(today + timedelta(days=2)).isoformat(),
        closes_on=(today + timedelta(days=9)).isoformat(),
    )
    for made, reason in ((closed, "survey_closed"), (later, "survey_not_open")):
        code = issue(client, world["manager"], made["id"], world["a"], count=1)[0]
        for response in (client.post(CHECK, json={"code": code}), answer(client, code)):
            assert response.status_code == 410
            assert response.get_json()["error"]["code"] == reason


@pytest.mark.parametrize(
    "change",
    [
        {"answers": {"safe_at_school": 6}},
        {"answers": {"safe_at_school": 0}},
        {"answers": {"safe_at_school": "4"}},
        {"answers": {"safe_at_school": True}},
        {"answers": {"safe_at_school": 2.5}},
        {"answers": {"how_are_you": 3}},
        {"answers": []},
        {"identity": ["martian"]},
        {"identity": ["prefer_not_to_say", "black"]},
        {"language": "de"},
        {"comment": "hello"},
    ],
)
def test_bad_answer_sheets_are_422_and_leave_the_code(client, world, app, change):
    made = create_round(client, world["manager"], [world["a"]])
    code = issue(client, world["manager"], made["id"], world["a"], count=1)[0]
    body = {"code": code, "language": "en", "answers": ALL_FIVE, "identity": []} | change
    response = client.post("/api/v1/survey-responses", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert answer(client, code).status_code == 201


def test_prefer_not_to_say_alone_is_fine(client, world):
    made = create_round(client, world["manager"], [world["a"]])
    code = issue(client, world["manager"], made["id"], world["a"], count=1)[0]
    assert answer(client, code, identity=["prefer_not_to_say"]).status_code == 201


def test_answering_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SURVEY_RATE_LIMIT="3 per minute")
    client = app.test_client()
    here = {"REMOTE_ADDR": "10.9.8.7"}
    statuses = [
        client.post(CHECK, json={"code": "AAAAA-AAAAA"}, environ_base=here).status_code
        for _ in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    refused = client.post("/api/v1/survey-responses", json={}, environ_base=here)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    elsewhere = client.post(
        CHECK, json={"code": "AAAAA-AAAAA"}, environ_base={"REMOTE_ADDR": "10.9.8.6"}
    )
    assert elsewhere.status_code == 404


def test_two_concurrent_submissions_one_201_one_410(make_app):
    app = make_app()
    school = make_school()
    manager = make_user("program_manager")
    made = create_round(app.test_client(), manager, [school])
    code = issue(app.test_client(), manager, made["id"], school, count=1)[0]
    barrier = threading.Barrier(2)
    statuses = []

    def submit():
        client = app.test_client()
        barrier.wait()
        statuses.append(answer(client, code).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 410]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


def test_first_codes_of_a_school_issued_twice_at_once_both_201(make_app):
    """Two people issue the first codes of one school and audience at the same moment: each
    gets its codes (on PostgreSQL both used to add the tally rows, and one failed with 409)."""
    app = make_app()
    school = make_school()
    manager = make_user("program_manager")
    leader = make_user("school_leader", schools=[school])
    statuses = []
    for _ in range(3):  # the race is on the first issue of a round only
        made = create_round(app.test_client(), manager, [school])
        barrier = threading.Barrier(2)

        def issue_at_once(user, round_id=made["id"], barrier=barrier):
            client = app.test_client()
            barrier.wait()
            body = {"school_id": school.id, "audience": "staff", "count": 5}
            response = client.post(
                f"/api/v1/surveys/{round_id}/codes", json=body, headers=auth(user)
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=issue_at_once, args=(u,)) for u in (manager, leader)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [201] * 6


# --- results -------------------------------------------------------------------------------


def _answer_many(client, user, round_id, school, sheets, audience="students_7_9"):
    codes = issue(client, user, round_id, school, count=len(sheets), audience=audience)
    for code, (answers, identity) in zip(codes, sheets, strict=True):
        assert answer(client, code, answers, identity).status_code == 201


def test_results_show_shares_means_and_gaps(client, world):
    made = create_round(client, world["manager"], [world["a"], world["b"]])
    agree = {key: 5 for key in ALL_FIVE}
    disagree = {key: 1 for key in ALL_FIVE}
    sheets = [(agree, []) for _ in range(12)] + [(disagree, ["black"]) for _ in range(10)]
    _answer_many(client, world["manager"], made["id"], world["a"], sheets)
    issue(client, world["manager"], made["id"], world["b"], count=5)
    response = client.get(f"/api/v1/surveys/{made['id']}/results", headers=auth(world["manager"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["responses"] == 22 and body["suppress_below"] == 10
    participation = {(p["school_id"], p["audience"]): p for p in body["participation"]}
    assert participation[(world["a"].id, "students_7_9")]["response_rate"] == 100.0
    assert participation[(world["b"].id, "students_7_9")] == {
        "school_id": world["b"].id,
        "audience": "students_7_9",
        "issued": 5,
        "responses": 0,
        "response_rate": 0.0,
    }
    item = body["items"][0]
    assert item["overall"] == {"n": 22, "agree_pct": 54.5, "disagree_pct": 45.5, "mean": 3.18}
    groups = {group["group"]: group for group in item["groups"]}
    assert groups["black"] == {
        "group": "black",
        "n": 10,
        "agree_pct": 0.0,
        "disagree_pct": 100.0,
        "mean": 1.0,
        "gap_pts": -100.0,
        "suppressed": False,
    }
    assert groups["indigenous"]["suppressed"] is True and groups["indigenous"]["n"] is None


def test_results_by_audience_list_groups_in_the_audiences_order(client, world):
    """Grades 4-6 before grades 10-12, students before staff: the vocabulary's order (as a
    board reads a table), not the alphabet's ("students_10_12" < "students_4_6")."""
    audiences = ["staff", "students_10_12", "students_4_6"]
    made = create_round(client, world["manager"], [world["a"]], audiences=audiences)
    for audience in audiences:
        sheets = [(ALL_FIVE, []) for _ in range(10)]
        _answer_many(client, world["manager"], made["id"], world["a"], sheets, audience)
    response = client.get(
        f"/api/v1/surveys/{made['id']}/results?group_by=audience", headers=auth(world["manager"])
    )
    assert response.status_code == 200
    groups = [group["group"] for group in response.get_json()["items"][0]["groups"]]
    assert groups == ["students_4_6", "students_10_12", "staff"]


def test_small_selections_are_suppressed_and_no_parameter_turns_it_off(client, world):
    made = create_round(client, world["manager"], [world["a"]])
    _answer_many(client, world["manager"], made["id"], world["a"], [(ALL_FIVE, [])] * 9)
    url = f"/api/v1/surveys/{made['id']}/results"
    body = client.get(url, headers=auth(world["manager"])).get_json()
    assert body["responses"] == 9
    assert all(item["overall"]["n"] is None for item in body["items"])
    for extra in ("?suppress_below=1", "?public=false&suppress_below=0", "?k=1"):
        again = client.get(url + extra, headers=auth(world["manager"])).get_json()
        assert again["suppress_below"] == 10
        assert all(item["overall"]["n"] is None for item in again["items"])


def test_results_csv_has_suppressed_cells_empty_and_is_audited(client, world, app):
    made = create_round(client, world["manager"], [world["a"]])
    _answer_many(client, world["manager"], made["id"], world["a"], [(ALL_FIVE, [])] * 10)
    url = f"/api/v1/surveys/{made['id']}/results?format=csv"
    response = client.get(url, headers=auth(world["manager"]))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.data.decode().splitlines()
    assert lines[0] == "item,group,n,agree_pct,disagree_pct,mean,gap_pts,suppressed"
    assert lines[1] == "safe_at_school,overall,10,100.0,0.0,4.0,,false"
    assert lines[2] == "safe_at_school,indigenous,,,,,,true"
    with app.app_context():
        export = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report_export"))
    assert export.changes["report"] == "survey-results"
    assert export.changes["format"] == "csv"


def test_results_csv_path_answers_the_same_csv(client, world, app):
    made = create_round(client, world["manager"], [world["a"], world["b"]])
    _answer_many(client, world["manager"], made["id"], world["a"], [(ALL_FIVE, [])] * 10)
    base = f"/api/v1/surveys/{made['id']}/results"
    headers = auth(world["manager"])
    response = client.get(f"{base}.csv?group_by=school", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    same = client.get(f"{base}?group_by=school&format=csv", headers=headers)
    assert response.data == same.data
    assert client.get(f"{base}.csv?format=json", headers=headers).mimetype == "text/csv"
    assert client.get(f"{base}.csv", headers=auth(world["officer"])).status_code == 403
    leader_other = f"{base}.csv?school_id={world['b'].id}"
    assert client.get(leader_other, headers=auth(world["leader"])).status_code == 404


def test_results_access(client, world):
    made = create_round(client, world["manager"], [world["a"], world["b"]])
    url = f"/api/v1/surveys/{made['id']}/results"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth(world["officer"])).status_code == 403
    assert client.get(url, headers=auth(world["stranger"])).status_code == 404
    assert client.get(url, headers=auth(world["leader"])).status_code == 200
    other = f"{url}?school_id={world['b'].id}"
    assert client.get(other, headers=auth(world["leader"])).status_code == 404
    assert client.get(other, headers=auth(world["manager"])).status_code == 200
    assert client.get(f"{url}?group_by=mood", headers=auth(world["manager"])).status_code == 422
    assert (
        client.get("/api/v1/surveys/999/results", headers=auth(world["manager"])).status_code == 404
    )


def test_leaders_results_cover_their_schools_only(client, world):
    made = create_round(client, world["manager"], [world["a"], world["b"]])
    _answer_many(client, world["manager"], made["id"], world["a"], [(ALL_FIVE, [])] * 3)
    _answer_many(client, world["manager"], made["id"], world["b"], [(ALL_FIVE, [])] * 4)
    url = f"/api/v1/surveys/{made['id']}/results"
    mine = client.get(url, headers=auth(world["leader"])).get_json()
    assert mine["responses"] == 3
    assert {p["school_id"] for p in mine["participation"]} == {world["a"].id}
    everything = client.get(url, headers=auth(world["manager"])).get_json()
    assert everything["responses"] == 7


def test_group_by_school_hides_a_complement(client, world):
    made = create_round(client, world["manager"], [world["a"], world["b"], world["other"]])
    for school, count in ((world["a"], 12), (world["b"], 15), (world["other"], 3)):
        _answer_many(client, world["manager"], made["id"], school, [(ALL_FIVE, [])] * count)
    url = f"/api/v1/surveys/{made['id']}/results?group_by=school"
    item = client.get(url, headers=auth(world["manager"])).get_json()["items"][0]
    hidden = {group["group"] for group in item["groups"] if group["suppressed"]}
    assert hidden == {world["other"].id, world["a"].id}
    assert item["overall"]["n"] == 30


@pytest.mark.parametrize(
    "code", ["", "K7QM", "K7QMX-4PAB9-EXTRA", "x" * 300, "x" * 20_000, "!!!!!-?????"]
)
def test_check_malformed_code_of_any_length_is_404_not_found(client, code):
    response = client.post("/api/v1/survey-codes/check", json={"code": code})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
