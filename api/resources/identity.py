"""Sign-in through the organisation's identity providers (OpenID Connect)."""

import logging
from urllib.parse import quote

from flask import after_this_request, redirect, request
from flask.views import MethodView

from api.extensions import limiter
from api.resources.auth import login_limit, token_response
from api.schemas.account import TokenSchema
from api.schemas.identity import GrantSchema, ProviderSchema
from api.services import identity
from api.web import Blueprint

log = logging.getLogger(__name__)
blp = Blueprint(
    "identity", __name__, url_prefix="/api/v1", description="Sign-in through identity providers"
)
# The browser's own round trip through the provider: redirects, not JSON.
flow = Blueprint("oidc", __name__, url_prefix="/auth/oidc", description="The browser's round trip")
REDIRECT = {
    "Location": {"description": "Where the browser goes next", "schema": {"type": "string"}}
}


@blp.route("/auth/providers")
class Providers(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ProviderSchema(many=True))
    @blp.doc(operationId="listIdentityProviders")
    def get(self):
        """The identity providers a user may sign in with (empty when none are configured)."""
        return identity.listing()


@blp.route("/auth/oidc/exchange")
class Exchange(MethodView):
    decorators = [limiter.limit(login_limit, methods=["POST"])]

    @blp.doc(security=[])
    @blp.arguments(GrantSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Unknown, used or expired grant, or inactive user")
    @blp.alt_response(429, description="The account is locked after failed sign-ins")
    @blp.doc(operationId="exchangeSignInGrant")
    def post(self, body):
        """Exchange a one-time grant (from a provider sign-in) for a token pair."""
        browser = request.cookies.get(identity.BROWSER_COOKIE)
        result = identity.exchange(body["grant"], request.remote_addr, browser)

        @after_this_request
        def _forget_browser(response):
            response.delete_cookie(identity.BROWSER_COOKIE, path="/")  # its sign-in is done
            return response

        return token_response(result)


@flow.route("/<name>/start")
@flow.doc(security=[], operationId="startProviderSignIn")
@flow.response(
    302,
    description="To the provider's sign-in page; on a failure to /#/login?error=sso_failed",
    headers=REDIRECT,
)
def start(name: str):
    """Off to the provider's sign-in page, with state, nonce and a PKCE challenge."""
    try:
        url, browser = identity.start(name)
    except identity.SignInRefused as refusal:
        identity.record_refusal(name, refusal)
        return _to_login(refusal.code)
    response = redirect(url, 302)
    # Sent back on the provider's redirect to the callback (a top-level GET: SameSite=Lax)
    # and on the PWA's exchange of the grant; never readable by scripts.
    response.set_cookie(
        identity.BROWSER_COOKIE,
        browser,
        max_age=int(identity.LOGIN_TTL.total_seconds()),
        path="/",
        secure=request.is_secure or identity.base_url().startswith("https:"),
        httponly=True,
        samesite="Lax",
    )
    return response


@flow.route("/<name>/callback")
@flow.doc(security=[], operationId="finishProviderSignIn")
@flow.response(
    302,
    description="To /#/sso?grant=<one-time grant> (exchange it at /api/v1/auth/oidc/exchange), "
    "or to /#/login?error=<sso_no_account | sso_failed>",
    headers=REDIRECT,
)
def callback(name: str):
    """Back from the provider: a one-time grant for the PWA, or the sign-in page with why."""
    try:
        grant = identity.finish(name, request.args, request.cookies.get(identity.BROWSER_COOKIE))
    except identity.SignInRefused as refusal:
        identity.record_refusal(name, refusal)
        return _to_login(refusal.code)
    except Exception as error:  # an answer no check foresaw: still a failed sign-in, not a 500
        log.exception("provider sign-in %s failed unexpectedly", name)
        refusal = identity.SignInRefused("sso_failed", f"unexpected {type(error).__name__}")
        identity.record_refusal(name, refusal)
        return _to_login(refusal.code)
    return redirect(f"/#/sso?grant={quote(grant)}", 302)


@flow.after_request
def _no_store(response):
    # A grant, a state or a code passes through these responses: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _to_login(code: str):
    return redirect(f"/#/login?error={code}", 302)
