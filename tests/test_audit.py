"""The append-only, hash-chained audit log and `flask audit verify`."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete, select, text, update

from api.extensions import db
from api.models import AuditEvent, LoginAttempt
from api.services import accounts
from api.services.audit import GENESIS, chain_hash
from tests.factories import PASSWORD, app_context, auth, make_school, make_user, post_activity

ROOT = Path(__file__).resolve().parent.parent


def _events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action:
        query = query.where(AuditEvent.action == action)
    with app_context():
        return list(db.session.scalars(query))


def test_activity_lifecycle_writes_one_audit_row_per_write(client):
    school = make_school()
    officer = make_user("officer", [school])
    leader = make_user("school_leader", [school])
    created = post_activity(client, officer, school)
    url = f"/api/v1/activities/{created['id']}"
    client.post(url + "/confirm", json={}, headers=auth(leader))
    client.patch(url, json={"duration_minutes": 20}, headers=auth(officer))
    client.post(url + "/dispute", json={"reason": "No."}, headers=auth(leader))
    client.delete(url, headers=auth(officer))
    rows = [e for e in _events() if e.target_type == "activity"]
    assert [e.action for e in rows] == [
        "activity_create",
        "activity_confirm",
        "activity_edit",
        "activity_dispute",
        "activity_delete",
    ]
    assert [e.actor_id for e in rows] == [officer.id, leader.id, officer.id, leader.id, officer.id]
    assert {e.target_id for e in rows} == {created["id"]}
    assert rows[2].changes["fields"] == ["duration_minutes", "status"]
    assert [e.changes["version"] for e in rows] == [1, 2, 3, 4, 5]


def test_refused_write_leaves_no_audit_row(client):
    school = make_school()
    officer = make_user("officer", [school])
    created = post_activity(client, officer, school)
    before = len(_events())
    stranger = make_user("school_leader", [make_school()])
    url = f"/api/v1/activities/{created['id']}"
    assert client.post(url + "/confirm", json={}, headers=auth(stranger)).status_code == 404
    assert client.patch(url, json={"duration_minutes": 0}, headers=auth(officer)).status_code == 422
    assert len(_events()) == before


def test_login_and_failed_login_are_audited(client):
    officer = make_user("officer")
    client.post("/api/v1/auth/login", json={"email": officer.email, "password": PASSWORD})
    client.post("/api/v1/auth/login", json={"email": officer.email, "password": "wrong-one-1"})
    client.post("/api/v1/auth/login", json={"email": "ghost@example.org", "password": "x"})
    (login,) = _events("login")
    assert login.actor_id == officer.id
    assert login.target_id == str(officer.id)
    failed = _events("login_failed")
    assert [e.target_id for e in failed] == [str(officer.id), None]
    assert failed[1].changes["email"] == "ghost@example.org"
    for event in failed:
        assert "wrong-one-1" not in str(event.changes)


def test_user_create_and_change_are_audited(client):
    admin = make_user("admin")
    body = {
        "email": "audited@example.org",
        "display_name": "Audited",
        "role": "program_manager",
        "password": "a-long-enough-passphrase-7",
    }
    created = client.post("/api/v1/users", json=body, headers=auth(admin)).json
    client.patch(f"/api/v1/users/{created['id']}", json={"active": False}, headers=auth(admin))
    (create,) = _events("user_create")
    (change,) = _events("user_update")
    assert create.actor_id == change.actor_id == admin.id
    assert create.target_id == change.target_id == str(created["id"])
    assert change.changes == {"active": [True, False]}
    assert "a-long-enough-passphrase-7" not in str(create.changes)


def _row(event: AuditEvent) -> tuple:
    return (event.action, event.target_type, event.target_id, event.actor_id, event.changes)


def test_sign_in_events_name_the_user_the_email_and_the_address(client):
    officer = make_user("officer")
    address = {"REMOTE_ADDR": "198.51.100.7"}
    for email, password in (
        (officer.email, PASSWORD),
        (officer.email, "wrong-one-1"),
        ("ghost@example.org", "wrong-one-1"),
    ):
        body = {"email": email, "password": password}
        client.post("/api/v1/auth/login", json=body, environ_base=address)
    assert [_row(e) for e in _events() if e.action.startswith("login")] == [
        ("login", "user", str(officer.id), officer.id, {}),
        (
            "login_failed",
            "user",
            str(officer.id),
            None,
            {"email": officer.email, "remote_addr": "198.51.100.7"},
        ),
        (
            "login_failed",
            "user",
            None,
            None,
            {"email": "ghost@example.org", "remote_addr": "198.51.100.7"},
        ),
    ]
    with app_context():
        attempts = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(a.user_id, a.succeeded, a.remote_addr) for a in attempts] == [
            (officer.id, True, "198.51.100.7"),
            (officer.id, False, "198.51.100.7"),
            (None, False, "198.51.100.7"),
        ]


def test_user_create_event_holds_what_was_set_never_the_password(client):
    admin = make_user("admin")
    school = make_school()
    body = {
        "email": "New.Officer@Example.org",
        "display_name": "Cst. New",
        "role": "officer",
        "password": "a-long-enough-passphrase-7",
        "school_ids": [school.id],
    }
    created = client.post("/api/v1/users", json=body, headers=auth(admin)).json
    (event,) = _events("user_create")
    assert _row(event) == (
        "user_create",
        "user",
        str(created["id"]),
        admin.id,
        {
            "email": "new.officer@example.org",
            "role": "officer",
            "school_ids": [school.id],
            "password": "set",
        },
    )


def test_user_created_without_a_password_is_audited_as_such(app):
    app.config["OIDC_PROVIDERS"] = {"police": {"label": "Police"}}
    data = {"email": "sso@example.org", "display_name": "SSO", "role": "program_manager"}
    with app.app_context():
        user = accounts.create_user(data, actor=None)
        assert (user.active, user.password_hash, user.school_ids) == (True, None, [])
    (event,) = _events("user_create")
    assert _row(event) == (
        "user_create",
        "user",
        str(user.id),
        None,
        {
            "email": "sso@example.org",
            "role": "program_manager",
            "school_ids": [],
            "password": "none",
        },
    )


def test_user_update_event_holds_each_change_from_and_to(client):
    admin = make_user("admin")
    first, second = make_school(), make_school()
    officer = make_user("officer", [first], email="old@example.org", display_name="Old")
    changes = {
        "email": "New@Example.org",
        "display_name": "New",
        "school_ids": [second.id, first.id],
        "password": "a-long-enough-passphrase-7",
    }
    response = client.patch(f"/api/v1/users/{officer.id}", json=changes, headers=auth(admin))
    assert response.status_code == 200
    assert response.json["version"] == officer.version + 1
    (event,) = _events("user_update")
    assert _row(event) == (
        "user_update",
        "user",
        str(officer.id),
        admin.id,
        {
            "email": ["old@example.org", "new@example.org"],
            "display_name": ["Old", "New"],
            "school_ids": [[first.id], sorted([first.id, second.id])],
            "password": "reset",
        },
    )


def test_user_role_change_event(client):
    admin = make_user("admin")
    manager = make_user("program_manager")
    url = f"/api/v1/users/{manager.id}"
    client.patch(url, json={"role": "admin"}, headers=auth(admin))
    (event,) = _events("user_update")
    assert event.changes == {"role": ["program_manager", "admin"]}


def test_own_reminder_setting_is_audited_and_versioned(client):
    leader = make_user("school_leader")
    before = client.get("/api/v1/me", headers=auth(leader)).json["version"]
    off = client.patch("/api/v1/me", json={"email_reminders": False}, headers=auth(leader))
    again = client.patch("/api/v1/me", json={"email_reminders": False}, headers=auth(leader))
    assert (off.json["email_reminders"], off.json["version"]) == (False, before + 1)
    assert again.json["version"] == before + 1  # nothing changed, nothing recorded
    (event,) = _events("user_update")
    assert _row(event) == (
        "user_update",
        "user",
        str(leader.id),
        leader.id,
        {"email_reminders": [True, False]},
    )


def test_audit_rows_form_an_unbroken_hash_chain(client):
    school = make_school()
    officer = make_user("officer", [school])
    for _ in range(3):
        post_activity(client, officer, school)
    rows = _events()
    assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
    previous = GENESIS
    for event in rows:
        assert event.prev_hash == previous
        assert event.hash == chain_hash(previous, event)
        assert len(event.hash) == 64
        assert event.at.tzinfo is not None
        previous = event.hash


def _some_history(client) -> list[AuditEvent]:
    school = make_school()
    officer = make_user("officer", [school])
    leader = make_user("school_leader", [school])
    created = post_activity(client, officer, school)
    client.post(f"/api/v1/activities/{created['id']}/confirm", json={}, headers=auth(leader))
    post_activity(client, officer, school)
    return _events()


def test_audit_verify_intact_chain_passes(client, runner):
    rows = _some_history(client)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} rows verified" in result.output


def test_audit_verify_empty_log_passes(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "0 rows verified" in result.output


def test_audit_verify_names_first_edited_row(client, runner):
    rows = _some_history(client)
    target = rows[1]
    with app_context():
        db.session.execute(
            text("UPDATE audit_event SET actor_id = :actor WHERE id = :id"),
            {"actor": 999, "id": target.id},
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row id {target.id} (seq {target.seq})" in result.output
    assert "hash does not match" in result.output


def test_audit_verify_names_row_after_a_deleted_one(client, runner):
    rows = _some_history(client)
    with app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == rows[1].id))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row id {rows[2].id} (seq {rows[2].seq})" in result.output


def test_audit_verify_detects_rehashed_row_by_its_successor(client, runner):
    rows = _some_history(client)
    with app_context():
        target = db.session.get(AuditEvent, rows[0].id)
        target.action = "school_create"
        target.hash = chain_hash(target.prev_hash, target)
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row id {rows[1].id} (seq {rows[1].seq})" in result.output
    assert "prev_hash" in result.output


def test_flask_audit_verify_command_through_wsgi(client, database_url):
    rows = _some_history(client)
    env = os.environ | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"]
    intact = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert intact.returncode == 0, intact.stderr
    assert f"{len(rows)} rows verified" in intact.stdout
    with app_context():
        db.session.execute(
            update(AuditEvent).where(AuditEvent.id == rows[2].id).values(target_id="tampered")
        )
        db.session.commit()
    broken = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert f"row id {rows[2].id}" in broken.stderr + broken.stdout
