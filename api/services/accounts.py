"""Sign-in, lockout, token rotation, and managing users."""

from datetime import timedelta

from flask import current_app
from flask_jwt_extended import get_jwt
from limits import parse as parse_limit
from sqlalchemy import Select, func, select

from api.auth import issue_tokens, revoke_family, revoke_token
from api.database import begin_as_reader, start_writing
from api.errors import ApiError, Conflict, Invalid, NotFound, Unauthorized
from api.extensions import db
from api.models import LoginAttempt, School, User
from api.models.types import utcnow
from api.services import audit
from api.services.passwords import hash_password, needs_rehash, password_problems, verify_password

BAD_CREDENTIALS = "The email or password is incorrect."
SCOPED_ROLES = ("officer", "school_leader")


class AccountLocked(ApiError):
    status, code = 429, "account_locked"


class SignInsLimited(ApiError):
    status, code = 429, "rate_limited"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _since(minutes: int):
    return utcnow() - timedelta(minutes=minutes)


def _failures_since_success(email: str, remote_addr: str | None = None) -> int:
    """Failed sign-ins to this account in the lockout window since its last success; from
    one address when given, else from anywhere."""
    attempts = [LoginAttempt.email == email]
    if remote_addr is not None:
        attempts.append(LoginAttempt.remote_addr == remote_addr)
    window_start = _since(current_app.config["LOCKOUT_MINUTES"])
    last_success = select(func.max(LoginAttempt.at)).where(
        *attempts, LoginAttempt.succeeded.is_(True)
    )
    since = func.coalesce(last_success.scalar_subquery(), window_start)
    return db.session.scalar(
        select(func.count()).where(
            *attempts,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at >= window_start,
            LoginAttempt.at > since,
        )
    )


def check_address_limit(remote_addr: str | None) -> None:
    """LOGIN_RATE_LIMIT, counted in the database so that it holds across every worker."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"] or remote_addr is None:
        return
    limit = parse_limit(config["LOGIN_RATE_LIMIT"])
    window_start = utcnow() - timedelta(seconds=limit.get_expiry())
    recent = db.session.scalar(
        select(func.count()).where(
            LoginAttempt.remote_addr == remote_addr, LoginAttempt.at >= window_start
        )
    )
    if recent >= limit.amount:
        raise SignInsLimited("Too many sign-in attempts from this address. Try again shortly.")


def check_lockout(email: str, remote_addr: str | None) -> None:
    """Locked for this address after LOCKOUT_THRESHOLD failures, and everywhere after
    LOCKOUT_ACCOUNT_THRESHOLD: a stranger cannot lock a user out of their own devices."""
    config = current_app.config
    from_here = _failures_since_success(email, remote_addr) if remote_addr else 0
    if (
        from_here >= config["LOCKOUT_THRESHOLD"]
        or _failures_since_success(email) >= config["LOCKOUT_ACCOUNT_THRESHOLD"]
    ):
        raise AccountLocked(
            "Too many failed sign-ins for this account. "
            f"Try again in {config['LOCKOUT_MINUTES']} minutes."
        )


def login(email: str, password: str, remote_addr: str | None) -> dict:
    """Check credentials and open a sign-in; same answer for unknown email and bad password.
    Everything up to the password check only reads: no write lock is held while the
    password hash is computed; the attempt is then recorded in its own short write."""
    email = normalise_email(email)
    begin_as_reader(True)
    check_address_limit(remote_addr)
    user = db.session.scalar(select(User).where(User.email == email))
    try:
        check_lockout(email, remote_addr)
    except AccountLocked as refusal:  # a failed sign-in too: counted and audited
        start_writing()
        _record_failure(email, user.id if user else None, remote_addr, refusal.code)
        raise
    ok = verify_password(user.password_hash if user else None, password)
    # A hash made with older parameters is made again here, before the write, like the check.
    new_hash = hash_password(password) if ok and needs_rehash(user.password_hash) else None
    user_id = user.id if user else None
    active = bool(user and user.active)
    start_writing()
    if not ok or not active:
        _record_failure(email, user_id, remote_addr)
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    user = db.session.get(User, user_id)
    if new_hash:
        user.password_hash = new_hash
    db.session.add(
        LoginAttempt(email=email, user_id=user.id, succeeded=True, remote_addr=remote_addr)
    )
    audit.record("login", "user", user.id, actor_id=user.id)
    tokens = issue_tokens(user)
    db.session.commit()
    return {**tokens, "user": user}


def _record_failure(
    email: str, user_id: int | None, remote_addr: str | None, refused: str | None = None
) -> None:
    """A failed sign-in, in its own short write; ``refused``: the password was not even
    checked (the account is locked)."""
    db.session.add(
        LoginAttempt(email=email, user_id=user_id, succeeded=False, remote_addr=remote_addr)
    )
    changes = {"email": email, "remote_addr": remote_addr}
    audit.record(
        "login_failed", "user", user_id, changes=changes | ({"refused": refused} if refused else {})
    )
    db.session.commit()


def refresh(user: User) -> dict:
    """Rotate: the presented refresh token is spent, a new pair is issued in its family."""
    payload = get_jwt()
    revoke_token(payload)
    tokens = issue_tokens(user, family_id=payload["fam"])
    db.session.commit()
    return {**tokens, "user": user}


def logout() -> None:
    """Revoke the presented token and the sign-in (refresh chain) it belongs to."""
    payload = get_jwt()
    revoke_token(payload)
    revoke_family(payload.get("fam"), "logout")
    db.session.commit()


def all_users() -> Select:
    """Every user, for an admin's list."""
    return select(User)


def get_user(user_id: int) -> User:
    """One user by id; 404 when there is none."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def _schools_for(ids: list[int]) -> list[School]:
    schools = db.session.scalars(select(School).where(School.id.in_(ids))).all() if ids else []
    missing = sorted(set(ids) - {s.id for s in schools})
    if missing:
        raise Invalid(
            "Some schools do not exist.",
            details={"school_ids": [f"No school with id {i}." for i in missing]},
        )
    return list(schools)


def _check_password(password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise Invalid("The password is not acceptable.", details={"password": problems})


def _check_assignment(role: str, school_ids: list[int]) -> None:
    if school_ids and role not in SCOPED_ROLES:
        raise Invalid(
            "Only officers and school leaders are assigned to schools.",
            details={"school_ids": ["Must be empty for this role."]},
        )


def _email_free(email: str, user_id: int | None = None) -> None:
    existing = db.session.scalar(select(User.id).where(User.email == email))
    if existing is not None and existing != user_id:
        raise Conflict("A user with this email already exists.", code="email_taken")


def _admin_remains(user: User) -> None:
    """Refuse a change that leaves no active admin: nobody could then manage accounts."""
    if user.role != "admin" or not user.active:
        return
    others = select(func.count()).where(User.role == "admin", User.active, User.id != user.id)
    if not db.session.scalar(others):
        raise Conflict(
            "This is the last active admin; make another user an admin first.", code="last_admin"
        )


def create_user(data: dict, actor: User | None) -> User:
    email = normalise_email(data["email"])
    school_ids = sorted(set(data.get("school_ids", [])))
    password = data.get("password")
    if password is not None:
        _check_password(password)
    elif not current_app.config["OIDC_PROVIDERS"]:
        # Without a provider, a user with no password could never sign in.
        raise Invalid(
            "Give a password: no identity provider is configured to sign this user in.",
            details={"password": ["Missing data for required field."]},
        )
    _check_assignment(data["role"], school_ids)
    _email_free(email)
    user = User(
        email=email,
        display_name=data["display_name"],
        role=data["role"],
        active=data.get("active", True),
        password_hash=hash_password(password) if password is not None else None,
        schools=_schools_for(school_ids),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user_create",
        "user",
        user.id,
        actor_id=actor.id if actor else None,
        changes={
            "email": email,
            "role": user.role,
            "school_ids": school_ids,
            "password": "set" if password is not None else "none",
        },
    )
    db.session.commit()
    return user


def update_me(user: User, data: dict) -> User:
    """The signed-in user's own settings: review reminders on or off."""
    if data["email_reminders"] != user.email_reminders:
        changes = {"email_reminders": [user.email_reminders, data["email_reminders"]]}
        user.email_reminders = data["email_reminders"]
        user.version += 1
        audit.record("user_update", "user", user.id, actor_id=user.id, changes=changes)
    db.session.commit()
    return user


def update_user(user: User, data: dict, actor: User) -> User:
    """Apply an admin's changes; deactivation and password resets revoke every token."""
    changes: dict = {}
    role = data.get("role", user.role)
    school_ids = data.get("school_ids", user.school_ids if role in SCOPED_ROLES else [])
    _check_assignment(role, school_ids)
    if role != "admin" or not data.get("active", user.active):
        _admin_remains(user)
    if "email" in data and normalise_email(data["email"]) != user.email:
        email = normalise_email(data["email"])
        _email_free(email, user.id)
        changes["email"] = [user.email, email]
        user.email = email
    for field in ("display_name", "role", "active"):
        if field in data and data[field] != getattr(user, field):
            changes[field] = [getattr(user, field), data[field]]
            setattr(user, field, data[field])
    school_ids = sorted(set(school_ids))  # a school named twice is assigned once
    if school_ids != user.school_ids:
        changes["school_ids"] = [user.school_ids, school_ids]
        user.schools = _schools_for(school_ids)
    if "password" in data:  # an empty one is refused, never taken for "not sent"
        _check_password(data["password"])
        user.password_hash = hash_password(data["password"])
        changes["password"] = "reset"
    if "password" in changes or changes.get("active") == [True, False]:
        user.token_generation += 1
    if changes:
        user.version += 1
        audit.record("user_update", "user", user.id, actor_id=actor.id, changes=changes)
    db.session.commit()
    return user
