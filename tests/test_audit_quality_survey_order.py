"""Audit (voice.md, privacy): the database keeps no order of the answers a school gave.

Answers are handed in one after another in a class period; a row order that follows the
order of submission ties the n-th answer to the n-th student to finish (seen by whoever was
in the room, or dated by any timed line, such as the 410 of a double-submitted form)."""

import pytest
from sqlalchemy import text

from api.extensions import db
from tests.factories import make_school, make_user
from tests.survey_support import answer, create_round, issue

SHEETS = [
    {"safe_at_school": i % 5 + 1, "safe_with_officer": i // 5 + 1, "knows_role": None}
    for i in range(15)
]


def _answered(client) -> list[str]:
    """Fifteen distinct answer sheets, sent one after another; their codes, in that order."""
    school = make_school()
    manager = make_user("program_manager")
    made = create_round(client, manager, [school])
    codes = issue(client, manager, made["id"], school, count=len(SHEETS))
    for code, sheet in zip(codes, SHEETS, strict=True):
        assert answer(client, code, answers=sheet).status_code == 201
    return codes


def _sheet(row) -> tuple:
    return (row.safe_at_school, row.safe_with_officer)


@pytest.mark.sqlite_only
def test_answers_are_stored_in_the_order_of_their_random_key_not_of_submission(client, app):
    _answered(client)
    columns = "id, safe_at_school, safe_with_officer"
    with app.app_context():
        stored = db.session.execute(text(f"SELECT {columns} FROM survey_response")).all()
        by_key = db.session.execute(text(f"SELECT {columns} FROM survey_response ORDER BY id"))
        by_key = by_key.all()
    assert [_sheet(row) for row in stored] == [_sheet(row) for row in by_key]
