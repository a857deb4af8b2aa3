"""Review reminders by email, against a real SMTP server on loopback (aiosmtpd)."""

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from api.extensions import db
from api.models import Activity, ReminderSent, User
from api.models.types import utcnow
from tests.factories import auth, backdate, make_school, make_user, post_activity
from tests.live_server import free_port

SUMMARY = "Online safety presentation to a grade 8 class."


class Mailbox:
    """An SMTP handler that keeps what it is sent, or refuses it while ``refuse`` is set."""

    def __init__(self):
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def mail_app(make_app, mailbox):
    return make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=mailbox.port,
        APP_BASE_URL="https://sro.example.org",
        MAIL_FROM="reminders@sro.example.org",
    )


@pytest.fixture
def leaders(mail_app):
    """Two schools with waiting work (one of them overdue), and leaders of every kind."""
    client = mail_app.test_client()
    north, south, quiet = (make_school(name=n) for n in ("North High", "South Jr", "Quiet El"))
    officer = make_user("officer", [north, south, quiet], display_name="Cst. Morgan")
    both = make_user("school_leader", [north, south], email="both@board.test")
    make_user("school_leader", [north], email="optout@board.test", email_reminders=False)
    make_user("school_leader", [north], email="inactive@board.test", active=False)
    make_user("school_leader", [quiet], email="quiet@board.test")
    for school in (north, north, north, south):
        post_activity(client, officer, school)
    reviewed = post_activity(client, officer, south)
    leader_headers = auth(both)
    officer_email = officer.email
    with mail_app.app_context():
        old = db.session.scalars(select(Activity.id).where(Activity.school_id == north.id)).first()
        backdate(old, utcnow() - timedelta(days=10))
        db.session.commit()
    response = client.post(
        f"/api/v1/activities/{reviewed['id']}/confirm", json={}, headers=leader_headers
    )
    assert response.status_code == 200, response.json
    return {"client": client, "officer_email": officer_email}


def send(app, *args):
    return app.test_cli_runner().invoke(args=["digests", "send", *args])


def test_one_reminder_to_each_leader_with_work_waiting(mail_app, mailbox, leaders):
    result = send(mail_app)
    assert result.exit_code == 0, result.output
    assert "Sent 1 review reminders" in result.output
    assert [to for to, _ in mailbox.messages] == [["both@board.test"]]
    message = mailbox.messages[0][1]
    assert message["Subject"] == "4 activities waiting for your review"
    assert message["From"] == "reminders@sro.example.org"
    body = message.get_content()
    assert "North High: 3 waiting, 1 overdue (more than 7 days)" in body
    assert "South Jr: 1 waiting, 0 overdue" in body
    assert "https://sro.example.org/#/review" in body
    for secret in (SUMMARY, "Cst. Morgan", leaders["officer_email"], "Quiet El"):
        assert secret not in body


@pytest.mark.parametrize(("resubmitted_days_ago", "overdue"), [(0, 0), (1, 0), (8, 1)])
def test_digest_corrected_activity_is_overdue_from_its_correction(
    mail_app, mailbox, leaders, resubmitted_days_ago, overdue
):
    """South's confirmed activity, logged 20 days ago and corrected by its officer: overdue
    7 days after the correction, as the confirmation report counts it."""
    client = leaders["client"]
    with mail_app.app_context():
        officer = db.session.scalars(select(User).where(User.role == "officer")).one()
        headers = auth(officer)
        confirmed = db.session.scalars(
            select(Activity.id).where(Activity.status == "confirmed")
        ).one()
        backdate(confirmed, utcnow() - timedelta(days=20))
        db.session.commit()
    edited = client.patch(
        f"/api/v1/activities/{confirmed}", json={"participant_count": 3}, headers=headers
    )
    assert edited.status_code == 200 and edited.json["status"] == "submitted"
    if resubmitted_days_ago:
        with mail_app.app_context():
            db.session.execute(
                update(Activity)
                .where(Activity.id == confirmed)
                .values(submitted_at=utcnow() - timedelta(days=resubmitted_days_ago))
            )
            db.session.commit()
    assert send(mail_app).exit_code == 0
    body = mailbox.messages[0][1].get_content()
    assert f"South Jr: 2 waiting, {overdue} overdue" in body
    assert "North High: 3 waiting, 1 overdue" in body


def test_twice_on_one_day_sends_nothing_new(mail_app, mailbox, leaders):
    assert send(mail_app).exit_code == 0
    again = send(mail_app)
    assert again.exit_code == 0
    assert "Sent 0 review reminders; 1 already sent today" in again.output
    assert len(mailbox.messages) == 1


def test_the_day_of_once_a_day_is_the_program_date(mail_app, mailbox, leaders, program_clock):
    """At 20:00 on 31 October in Edmonton (1 November in UTC) the reminder counts for
    31 October: once a day means once a program day."""
    program_clock(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    assert send(mail_app).exit_code == 0
    with mail_app.app_context():
        assert db.session.scalars(select(ReminderSent.day)).all() == [date(2026, 10, 31)]
    program_clock(datetime(2026, 11, 1, 5, 59, tzinfo=UTC))  # 23:59 the same evening
    assert "1 already sent today" in send(mail_app).output
    program_clock(datetime(2026, 11, 1, 6, 0, tzinfo=UTC))  # midnight in Edmonton
    assert "Sent 1 review reminders" in send(mail_app).output
    assert len(mailbox.messages) == 2


def test_the_next_day_brings_the_next_reminder(mail_app, mailbox, leaders, monkeypatch):
    from api.services import reminders

    assert send(mail_app).exit_code == 0
    with mail_app.app_context():
        tomorrow = reminders.today() + timedelta(days=1)
    monkeypatch.setattr(reminders, "today", lambda: tomorrow)
    again = send(mail_app)
    assert "Sent 1 review reminders; 0 already sent today" in again.output
    assert [to for to, _ in mailbox.messages] == [["both@board.test"]] * 2


def test_a_failed_send_is_retried_on_the_next_run(mail_app, mailbox, leaders):
    mailbox.refuse = True
    failed = send(mail_app)
    assert failed.exit_code == 1
    assert "1 failed" in failed.output
    with mail_app.app_context():
        assert db.session.scalars(select(ReminderSent)).all() == []
    mailbox.refuse = False
    retried = send(mail_app)
    assert retried.exit_code == 0
    assert [to for to, _ in mailbox.messages] == [["both@board.test"]]


def test_an_unreachable_mail_server_is_retried_later(make_app, leaders, mailbox):
    down = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), APP_BASE_URL="https://x.test")
    assert send(down).exit_code == 1
    with down.app_context():
        assert db.session.scalars(select(ReminderSent)).all() == []


def test_without_app_base_url_nothing_is_sent(make_app, leaders, mailbox):
    unset = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port, APP_BASE_URL="")
    result = send(unset)
    assert result.exit_code == 1
    assert "Set APP_BASE_URL" in result.output
    assert mailbox.messages == []
    assert send(unset, "--dry-run").exit_code == 0


def test_dry_run_sends_and_records_nothing(mail_app, mailbox, leaders):
    result = send(mail_app, "--dry-run")
    assert result.exit_code == 0
    assert "Would remind both@board.test: 4 waiting." in result.output
    assert mailbox.messages == []
    assert "Sent 1" in send(mail_app).output


def test_a_leader_turns_reminders_off_and_on(mail_app, mailbox, leaders):
    client = leaders["client"]
    with mail_app.app_context():
        leader = db.session.scalars(select(User).where(User.email == "both@board.test")).one()
        headers = auth(leader)
    assert client.get("/api/v1/me", headers=headers).json["email_reminders"] is True
    off = client.patch("/api/v1/me", json={"email_reminders": False}, headers=headers)
    assert off.status_code == 200
    assert off.json["email_reminders"] is False
    assert client.get("/api/v1/me", headers=headers).json["email_reminders"] is False
    send(mail_app)
    assert mailbox.messages == []
    on = client.patch("/api/v1/me", json={"email_reminders": True}, headers=headers)
    assert on.json["email_reminders"] is True
    send(mail_app)
    assert len(mailbox.messages) == 1


def test_me_carries_its_version_as_an_etag_and_a_stale_if_match_is_412(mail_app, leaders):
    client = leaders["client"]
    with mail_app.app_context():
        leader = db.session.scalars(select(User).where(User.email == "both@board.test")).one()
        headers = auth(leader)
    read = client.get("/api/v1/me", headers=headers)
    assert read.headers["ETag"] == f'"{read.json["version"]}"'

    def reminders(on: bool):  # sent with the ETag first read
        body = {"email_reminders": on}
        return client.patch(
            "/api/v1/me", json=body, headers=headers | {"If-Match": read.headers["ETag"]}
        )

    changed = reminders(False)
    assert changed.status_code == 200
    assert changed.headers["ETag"] == f'"{read.json["version"] + 1}"'
    stale = reminders(True)
    assert stale.status_code == 412
    assert stale.json["error"]["code"] == "precondition_failed"
    assert client.get("/api/v1/me", headers=headers).json["email_reminders"] is False


@pytest.mark.parametrize(
    "body",
    [{}, {"email_reminders": "maybe"}, {"email_reminders": None}, {"role": "admin"}],
)
def test_me_accepts_only_email_reminders(mail_app, leaders, body):
    client = leaders["client"]
    with mail_app.app_context():
        leader = db.session.scalars(select(User).where(User.email == "both@board.test")).one()
        headers = auth(leader)
    response = client.patch("/api/v1/me", json=body, headers=headers)
    assert response.status_code == 422
    assert client.get("/api/v1/me", headers=headers).json["role"] == "school_leader"


def test_me_needs_a_token(mail_app):
    response = mail_app.test_client().patch("/api/v1/me", json={"email_reminders": False})
    assert response.status_code == 401


def test_dry_run_leaves_out_a_leader_already_reminded_today(mail_app, mailbox, leaders):
    assert "Sent 1 review reminders" in send(mail_app).output
    dry = send(mail_app, "--dry-run")
    assert dry.exit_code == 0
    assert "both@board.test" not in dry.output
    assert "0 reminders would be sent (dry run); 1 already sent today." in dry.output
    assert len(mailbox.messages) == 1


def test_a_reminder_carries_the_date_and_message_id_rfc_5322_asks_for(mail_app, mailbox, leaders):
    assert send(mail_app).exit_code == 0
    message = mailbox.messages[0][1]
    assert message["Date"] is not None
    assert message["Message-ID"].endswith(">")
