"""Review reminders: one email a day at most to each school leader with activities waiting,
with counts per school and a link; never a summary, a student or an officer."""

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from api import dates
from api.extensions import db
from api.models import Activity, ReminderSent, School, User, school_assignment
from api.models.types import utcnow
from api.services.reports import overdue_since

log = logging.getLogger(__name__)

# A claim older than this whose send never finished (a killed run) is tried again.
STALE_CLAIM = timedelta(minutes=30)
SMTP_TIMEOUT = 30


def today() -> date:
    """The program's calendar date (PROGRAM_TIMEZONE): reminders go out once a day of it."""
    return dates.today()


@dataclass
class Reminder:
    user_id: int
    email: str
    schools: list[tuple[str, int, int]] = field(default_factory=list)  # name, waiting, overdue

    @property
    def waiting(self) -> int:
        return sum(waiting for _, waiting, _ in self.schools)


def due(now: datetime | None = None) -> list[Reminder]:
    """Active leaders who want reminders, with per-school counts where any are waiting."""
    now = now or utcnow()
    # The confirmation report's rule: submitted before the program date REVIEW_OVERDUE_DAYS ago.
    overdue_before = overdue_since(current_app.config["REVIEW_OVERDUE_DAYS"], now)
    query = (
        select(
            User.id,
            User.email,
            School.name,
            func.count(Activity.id),
            func.sum(case((Activity.submitted_at < overdue_before, 1), else_=0)),
        )
        .join(school_assignment, school_assignment.c.user_id == User.id)
        .join(School, School.id == school_assignment.c.school_id)
        .join(Activity, Activity.school_id == School.id)
        .where(
            User.role == "school_leader",
            User.active.is_(True),
            User.email_reminders.is_(True),
            Activity.status == "submitted",
            Activity.deleted_at.is_(None),
        )
        .group_by(User.id, User.email, School.id, School.name)
        .order_by(User.id, School.name)
    )
    reminders: dict[int, Reminder] = {}
    for user_id, email, school, waiting, overdue in db.session.execute(query):
        reminder = reminders.setdefault(user_id, Reminder(user_id, email))
        reminder.schools.append((school, int(waiting), int(overdue or 0)))
    return list(reminders.values())


def compose(reminder: Reminder) -> EmailMessage:
    config = current_app.config
    days = config["REVIEW_OVERDUE_DAYS"]
    message = EmailMessage()
    count = reminder.waiting
    noun = "activity" if count == 1 else "activities"
    # The subject's words are fixed by the contract (identity.md), whatever the count.
    message["Subject"] = f"{count} activities waiting for your review"
    message["From"] = config["MAIL_FROM"]
    message["To"] = reminder.email
    message["Date"] = formatdate(localtime=False)  # both required by RFC 5322
    message["Message-ID"] = make_msgid(domain=parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2])
    lines = [f"Waiting for your review: {count} {noun} logged by school resource officers.", ""]
    for school, waiting, overdue in reminder.schools:
        lines.append(f"{school}: {waiting} waiting, {overdue} overdue (more than {days} days)")
    lines += [
        "",
        f"Review them here: {config['APP_BASE_URL']}/#/review",
        "",
        "You get this email at most once a day while activities wait. "
        "To stop it, sign in and turn off review reminders.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def _claim(user_id: int, day: date) -> bool:
    """Take this leader's reminder for the day, unless sent or being sent by another run."""
    db.session.execute(
        delete(ReminderSent).where(
            ReminderSent.user_id == user_id,
            ReminderSent.day == day,
            ReminderSent.sent_at.is_(None),
            ReminderSent.claimed_at < utcnow() - STALE_CLAIM,
        )
    )
    taken = db.session.scalar(
        select(func.count()).where(ReminderSent.user_id == user_id, ReminderSent.day == day)
    )
    if taken:
        db.session.commit()
        return False
    db.session.add(ReminderSent(user_id=user_id, day=day))
    try:
        db.session.commit()
    except IntegrityError:  # another run claimed it a moment ago
        db.session.rollback()
        return False
    return True


def _settle(user_id: int, day: date, sent: bool) -> None:
    """Mark the claim sent, or drop it so that the next run tries again."""
    mine = (ReminderSent.user_id == user_id, ReminderSent.day == day)
    if sent:
        db.session.execute(update(ReminderSent).where(*mine).values(sent_at=utcnow()))
    else:
        db.session.execute(delete(ReminderSent).where(*mine))
    db.session.commit()


def _smtp() -> smtplib.SMTP:
    config = current_app.config
    connection = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT)
    if config["SMTP_STARTTLS"]:
        # The server's certificate is checked (name and trust) before the password goes out.
        trusted = ssl.create_default_context(cafile=config["SMTP_CA_FILE"] or None)
        connection.starttls(context=trusted)
    if config["SMTP_USERNAME"]:
        connection.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    return connection


def send_all(dry_run: bool = False) -> dict:
    """Send today's reminders; a failure is logged, its claim dropped, and retried next run."""
    day, result = today(), {"sent": 0, "failed": 0, "skipped": 0, "would_send": []}
    reminders = due()
    db.session.commit()
    if dry_run:
        done = set(db.session.scalars(select(ReminderSent.user_id).where(ReminderSent.day == day)))
        result["would_send"] = [(r.email, r.waiting) for r in reminders if r.user_id not in done]
        result["skipped"] = len(reminders) - len(result["would_send"])
        return result
    connection = None
    for reminder in reminders:
        if not _claim(reminder.user_id, day):
            result["skipped"] += 1
            continue
        try:
            connection = connection or _smtp()
            connection.send_message(compose(reminder))
        except (OSError, smtplib.SMTPException) as error:
            log.warning("review reminder to user %s not sent: %s", reminder.user_id, _why(error))
            _settle(reminder.user_id, day, sent=False)
            result["failed"] += 1
            connection = _close(connection)
            continue
        _settle(reminder.user_id, day, sent=True)
        result["sent"] += 1
    _close(connection)
    return result


def _why(error: Exception) -> str:
    """A failed send, for the log: what failed and the server's reply codes, never its text
    (a server's refusal names the recipient's address)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"{type(error).__name__} {', '.join(map(str, codes))}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} {error.smtp_code}"
    if isinstance(error, smtplib.SMTPException):
        return type(error).__name__
    return f"{type(error).__name__}: {error}"  # a connection failure names the host only


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
