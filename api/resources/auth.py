"""Sign in, rotate tokens, sign out, and who am I."""

from flask import current_app, request
from flask.views import MethodView

from api.auth import authenticated, viewer
from api.extensions import limiter
from api.resources.common import ETAG_HEADERS, IF_MATCH_DOC, check_if_match, etag
from api.schemas.account import LoginSchema, MeSchema, TokenSchema
from api.schemas.identity import MeUpdateSchema
from api.services import accounts
from api.web import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in and tokens")


def token_response(result: dict) -> dict:
    """A sign-in's tokens as the client gets them (password or provider sign-in)."""
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {**result, "token_type": "Bearer", "expires_in": int(lifetime.total_seconds())}


def login_limit() -> str:
    """LOGIN_RATE_LIMIT, shared by both ways of signing in."""
    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/login")
class Login(MethodView):
    decorators = [limiter.limit(login_limit, methods=["POST"])]

    @blp.doc(security=[], operationId="login")
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong email or password (one message for both)")
    @blp.alt_response(429, description="Too many attempts (address or account)")
    def post(self, body):
        """Sign in with email and password."""
        return token_response(accounts.login(body["email"], body["password"], request.remote_addr))


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @authenticated(refresh=True)
    @blp.doc(
        operationId="refreshToken",
        description="Send the refresh token as the Bearer token. It is spent on use.",
    )
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Missing, expired, revoked or reused refresh token")
    def post(self):
        """Exchange a refresh token for a new access token and a rotated refresh token."""
        return token_response(accounts.refresh(viewer()))


@blp.route("/auth/logout")
class Logout(MethodView):
    @authenticated(any_token=True)
    @blp.doc(
        operationId="logout",
        description="Send either the access or the refresh token as the Bearer token.",
    )
    @blp.response(204)
    @blp.alt_response(401, description="No valid token")
    def post(self):
        """Revoke the presented token and its refresh token."""
        accounts.logout()


@blp.route("/me")
class Me(MethodView):
    @authenticated()
    @blp.doc(operationId="getMe")
    @blp.response(200, MeSchema, headers=ETAG_HEADERS)
    @blp.alt_response(401, description="No valid token")
    def get(self):
        """The signed-in user, role and schools."""
        me = viewer()
        return me, 200, etag(me.version)

    @authenticated()
    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema, headers=ETAG_HEADERS)
    @blp.alt_response(401, description="No valid token")
    @blp.alt_response(412, description="Stale If-Match")
    @blp.doc(operationId="updateMe", **IF_MATCH_DOC)
    def patch(self, body):
        """Change one's own settings: `email_reminders` (review reminders by email)."""
        check_if_match(viewer().version)
        me = accounts.update_me(viewer(), body)
        return me, 200, etag(me.version)
