"""Community voice privacy: nothing stored or logged links an answer to a code, an address,
a device or a time of day; suppression hides every small cell for any group sizes."""

import logging
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, DateTime, inspect, select, text

from api.extensions import db
from api.models.survey import ITEM_KEYS, SurveyResponse
from api.services import survey_results
from tests.factories import make_school, make_user
from tests.survey_support import answer, create_round, issue

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) Chromebook-test-agent"


def _every_value(app) -> list[tuple[str, str, object]]:
    with app.app_context():
        names = inspect(db.engine).get_table_names()
        values = []
        for name in names:
            for row in db.session.execute(text(f"SELECT * FROM {name}")).mappings():
                values.extend((name, column, value) for column, value in row.items())
    return values


def test_no_table_holds_a_plain_code_address_agent_or_time_with_answers(client, app, caplog):
    school = make_school()
    manager = make_user("program_manager")
    made = create_round(client, manager, [school])
    codes = issue(client, manager, made["id"], school, count=5)
    environ = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT}
    with caplog.at_level(logging.INFO):
        for code in codes[:3]:
            client.post("/api/v1/survey-codes/check", json={"code": code}, environ_base=environ)
            response = client.post(
                "/api/v1/survey-responses",
                json={"code": code, "language": "fr", "answers": {"safe_at_school": 5}},
                environ_base=environ,
            )
            assert response.status_code == 201
    stored = _every_value(app)
    for table, column, value in stored:
        shown = str(value)
        for code in codes:
            assert code not in shown and code.replace("-", "") not in shown, (table, column)
        assert ADDRESS not in shown, (table, column)
        assert "Chromebook-test-agent" not in shown, (table, column)
    logged = caplog.text
    assert not any(code in logged or code.replace("-", "") in logged for code in codes)
    assert ADDRESS not in logged


def test_accepted_answers_leave_no_timed_line_in_the_request_log(client, caplog):
    school = make_school()
    manager = make_user("program_manager")
    made = create_round(client, manager, [school])
    code = issue(client, manager, made["id"], school, count=1)[0]
    with caplog.at_level(logging.INFO, logger="api.request"):
        assert client.post("/api/v1/survey-codes/check", json={"code": code}).status_code == 200
        assert answer(client, code).status_code == 201
        assert answer(client, code).status_code == 410
    paths = [
        (record.fields["path"], record.fields["status"])
        for record in caplog.records
        if record.name == "api.request"
    ]
    # The rows' write order and a timed line for each accepted answer would date them.
    assert paths == [("/api/v1/survey-responses", 410)]


def test_an_answer_row_has_a_date_and_no_time_no_code_link_and_no_order(app):
    table = SurveyResponse.__table__
    kinds = {column.name: column.type for column in table.columns}
    assert not any(isinstance(kind, DateTime) for kind in kinds.values())
    assert isinstance(kinds["answered_on"], Date)
    assert not any("code" in name or "user" in name or "addr" in name for name in kinds)
    assert not [key for key in table.foreign_keys if key.column.table.name == "survey_code"]
    # A random key: the key says nothing about the order of the answers.
    assert str(table.c.id.type).startswith("VARCHAR")


def test_stored_answers_read_back_as_dates_only(client, app):
    school = make_school()
    manager = make_user("program_manager")
    made = create_round(client, manager, [school])
    for code in issue(client, manager, made["id"], school, count=2):
        assert answer(client, code).status_code == 201
    with app.app_context():
        days = list(db.session.scalars(select(SurveyResponse.answered_on)))
    assert all(type(day) is date and not isinstance(day, datetime) for day in days)


# --- suppression, for any group sizes --------------------------------------------------------


def _cell(n: int, agree: int) -> dict:
    counts = {key: {"n": 0, "agree": 0, "disagree": 0, "total": 0} for key in ITEM_KEYS}
    counts["safe_at_school"] = {"n": n, "agree": agree, "disagree": n - agree, "total": 0}
    return counts


groups_strategy = st.lists(
    st.integers(min_value=0, max_value=40).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n))
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(groups=groups_strategy, k=st.integers(min_value=1, max_value=15))
def test_partition_groups_never_give_away_a_hidden_group(groups, k):
    counts = {f"g{i}": _cell(n, agree) for i, (n, agree) in enumerate(groups)}
    overall = survey_results._empty()
    for cell in counts.values():
        survey_results._add(overall, cell)
    total = overall["safe_at_school"]["n"]
    shown = total >= k
    rows = survey_results._group_rows("safe_at_school", counts, overall, k, True, shown)
    sizes = dict(zip(counts, (n for n, _ in groups), strict=True))
    hidden = [row["group"] for row in rows if row["suppressed"]]
    for row in rows:
        if row["suppressed"]:
            assert row["n"] is row["agree_pct"] is row["gap_pts"] is row["mean"] is None
        else:
            assert row["n"] >= k and total - row["n"] >= k
    nonzero_hidden = [g for g in hidden if sizes[g] > 0]
    visible_nonzero = [row for row in rows if not row["suppressed"] and row["n"] > 0]
    if shown and len(nonzero_hidden) == 1:
        # Overall minus the visible groups would give it away: allowed only when nothing is
        # visible, that is when the hidden group is the whole selection (shown as overall).
        assert not visible_nonzero
        assert sizes[nonzero_hidden[0]] == total >= k


@settings(max_examples=300, deadline=None)
@given(
    everyone=st.integers(min_value=0, max_value=60),
    sizes=st.lists(st.integers(min_value=0, max_value=60), min_size=6, max_size=6),
    k=st.integers(min_value=1, max_value=15),
)
def test_identity_groups_show_only_groups_and_rests_at_the_threshold(everyone, sizes, k):
    counts = {
        name: _cell(min(size, everyone), 0)
        for name, size in zip(survey_results.IDENTITY_GROUPS, sizes, strict=True)
    }
    overall = survey_results._empty()
    survey_results._add(overall, _cell(everyone, everyone // 2))
    shown = everyone >= k
    rows = survey_results._group_rows("safe_at_school", counts, overall, k, False, shown)
    for row in rows:
        n = counts[row["group"]]["safe_at_school"]["n"]
        visible = shown and n >= k and everyone - n >= k
        assert row["suppressed"] is not visible
        if not visible:
            assert (row["n"], row["agree_pct"], row["gap_pts"]) == (None, None, None)
