"""Audit (quality.md, Audit): `audit verify` notices rows cut off the end of the chain."""

from sqlalchemy import delete, select

from api.extensions import db
from api.models import AuditEvent
from tests.factories import app_context, auth, make_school, make_user, post_activity


def test_audit_verify_notices_the_last_rows_deleted(client, runner):
    school = make_school()
    officer = make_user("officer", [school])
    leader = make_user("school_leader", [school])
    created = post_activity(client, officer, school)
    client.post(f"/api/v1/activities/{created['id']}/confirm", json={}, headers=auth(leader))
    with app_context():
        last = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()))
        db.session.execute(delete(AuditEvent).where(AuditEvent.seq == last))  # the confirm
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"seq {last}" in result.output


def test_audit_verify_notices_every_row_deleted(client, runner):
    make_user("officer")
    school = make_school()
    post_activity(client, make_user("officer", [school]), school)
    with app_context():
        db.session.execute(delete(AuditEvent))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "seq 1 to" in result.output
