"""JWT loaders, role checks and token revocation."""

import functools
import uuid
from datetime import UTC, datetime

from flask import Flask, g
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    current_user,
    verify_jwt_in_request,
)
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import lazyload

from api.errors import Forbidden, error_response
from api.extensions import db, jwt
from api.models import RevokedToken, TokenFamily, User
from api.models.types import utcnow


def _unauthorized(message: str, code: str = "unauthorized"):
    response = error_response(401, code, message)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def issue_tokens(user: User, family_id: str | None = None) -> dict:
    """A new access and refresh token pair in one token family."""
    family_id = family_id or str(uuid.uuid4())
    if db.session.get(TokenFamily, family_id) is None:
        db.session.add(TokenFamily(id=family_id, user_id=user.id))
    claims = {"fam": family_id, "gen": user.token_generation}
    identity = str(user.id)
    return {
        "access_token": create_access_token(identity=identity, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=identity, additional_claims=claims),
    }


def revoke_token(payload: dict) -> None:
    """Stop one token from being accepted again."""
    if db.session.get(RevokedToken, payload["jti"]) is None:
        db.session.add(
            RevokedToken(
                jti=payload["jti"],
                token_type=payload["type"],
                family_id=payload.get("fam"),
                user_id=int(payload["sub"]),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        )


def revoke_family(family_id: str | None, reason: str) -> None:
    """Revoke a sign-in: its access token and every refresh token in its chain."""
    family = db.session.get(TokenFamily, family_id) if family_id else None
    if family is not None and family.revoked_at is None:
        family.revoked_at = utcnow()
        family.revoked_reason = reason


def _user_id(payload: dict) -> int | None:
    """The token's subject, a user id as our tokens write it (decimal text), else None."""
    sub = payload.get("sub")
    if isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) <= 18:
        return int(sub)
    return None


def _is_revoked(payload: dict) -> bool:
    """Whether a correctly signed token is no longer good: ours in every claim we write, of
    an active user, in a live sign-in, and not itself revoked."""
    user_id, family_id = _user_id(payload), payload.get("fam")
    if user_id is None or not family_id or not payload.get("jti") or not payload.get("type"):
        return True
    user = db.session.get(User, user_id, options=_SIGNED_IN_USER)
    # The session holds loaded rows weakly: keep this one for load_user below.
    g.token_user = user
    if user is None or not user.active or payload.get("gen") != user.token_generation:
        return True
    found = db.session.execute(_SIGN_IN, {"family": family_id, "jti": payload["jti"]}).first()
    # The sign-in must be live and the signed-in user's own, whatever the token says.
    if found is None or found.revoked_at is not None or found.user_id != user.id:
        return True
    if found.token_revoked:
        if payload["type"] == "refresh":
            # A used refresh token came back: it may be stolen, so end the whole sign-in.
            revoke_family(family_id, "refresh_reuse")
            db.session.commit()
        return True
    return False


# The signed-in user's row alone: their schools load when a request reads them (most
# requests that need them ask for the ids only: schools.writable_ids).
_SIGNED_IN_USER = (lazyload(User.schools),)

# The token's sign-in (whose, and whether it was ended) and whether the token itself
# was revoked, in one read.
_SIGN_IN = select(
    TokenFamily.__table__.c.user_id,
    TokenFamily.__table__.c.revoked_at,
    exists().where(RevokedToken.__table__.c.jti == bindparam("jti")).label("token_revoked"),
).where(TokenFamily.__table__.c.id == bindparam("family"))


def register_jwt_handlers(app: Flask) -> None:
    """Make every JWT failure a 401 in our error shape; load the user from the database."""

    @jwt.user_lookup_loader
    def load_user(_header, payload):
        user, user_id = g.pop("token_user", None), _user_id(payload)
        if user is not None and user.id == user_id:
            return user
        return None if user_id is None else db.session.get(User, user_id)

    @jwt.user_lookup_error_loader
    def user_missing(_header, _payload):
        return _unauthorized("The account for this token no longer exists.", "invalid_token")

    @jwt.token_in_blocklist_loader
    def check_revoked(_header, payload):
        return _is_revoked(payload)

    @jwt.revoked_token_loader
    def revoked(_header, _payload):
        return _unauthorized("This token has been revoked; sign in again.", "token_revoked")

    @jwt.expired_token_loader
    def expired(_header, _payload):
        return _unauthorized("Your session has expired; sign in again.", "token_expired")

    @jwt.invalid_token_loader
    def invalid(reason):
        return _unauthorized(f"The token is not valid: {reason}.", "invalid_token")

    @jwt.unauthorized_loader
    def missing(reason):
        return _unauthorized("Authentication is required: send a Bearer token.")

    @jwt.needs_fresh_token_loader
    def not_fresh(_header, _payload):
        return _unauthorized("A fresh sign-in is required.")

    @jwt.token_verification_failed_loader
    def failed(_header, _payload):
        return _unauthorized("The token could not be verified.", "invalid_token")


def authenticated(*roles: str, refresh: bool = False, any_token: bool = False):
    """Require a valid token (and, if given, one of the roles, read from the database)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh, verify_type=not any_token)
            g.viewer = current_user
            # Kept apart for the request log: reading it from the user after a commit
            # would reload the row in a new (for writes: write-locking) transaction.
            g.viewer_id = current_user.id
            if roles and current_user.role not in roles:
                raise Forbidden("Your role is not allowed to do this.")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def viewer() -> User:
    """The signed-in user for this request."""
    return current_user
