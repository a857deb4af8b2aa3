"""Sign-in through an OpenID Connect provider: authorization code with PKCE (S256), state
and nonce (Authlib), the id token verified by the provider's JWKS (joserfc), then a one-time
grant the PWA exchanges for our usual token pair."""

import hashlib
import logging
import secrets
import time
from datetime import timedelta

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select, update

from api.auth import issue_tokens
from api.errors import NotFound, Unauthorized
from api.extensions import db
from api.models import LoginAttempt, OidcLogin, SignInGrant, User
from api.models.types import utcnow
from api.services import audit
from api.services.accounts import (
    AccountLocked,
    check_address_limit,
    check_lockout,
    normalise_email,
)

log = logging.getLogger(__name__)

SCOPES = "openid email profile"
LOGIN_TTL = timedelta(minutes=10)
CLIENT_AUTH = ("client_secret_basic", "client_secret_post")  # how we prove who we are
BROWSER_COOKIE = "sro_sign_in"  # ties a provider sign-in to the browser that started it
GRANT_TTL = timedelta(seconds=60)
METADATA_TTL = 3600  # seconds a provider's discovery document and keys are reused
HTTP_TIMEOUT = 10
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
CLOCK_LEEWAY = 60
GRANT_REFUSED = "This sign-in has expired or was already used; sign in again."

_cache: dict[str, tuple[float, dict]] = {}


class SignInRefused(Exception):
    """A provider sign-in that ends at the sign-in page with ``code``; ``reason`` is logged."""

    def __init__(self, code: str, reason: str, email: str | None = None):
        super().__init__(reason)
        self.code, self.reason, self.email = code, reason, email


def providers() -> dict[str, dict]:
    return current_app.config["OIDC_PROVIDERS"]


def provider(name: str) -> dict:
    found = providers().get(name)
    if found is None:
        raise NotFound("No such sign-in provider.")
    return found


def listing() -> list[dict]:
    return [
        {"name": name, "label": p["label"], "start_url": f"/auth/oidc/{name}/start"}
        for name, p in providers().items()
    ]


def _get_json(url: str, fresh: bool = False) -> dict:
    cached = _cache.get(url)
    if cached and not fresh and time.monotonic() - cached[0] < METADATA_TTL:
        return cached[1]
    response = requests.get(url, timeout=HTTP_TIMEOUT)
    response.raise_for_status()
    document = response.json()
    _cache[url] = (time.monotonic(), document)
    return document


# What sign-in reads from a provider's discovery document.
DISCOVERED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


def metadata(settings: dict) -> dict:
    """The provider's discovery document, which must name the configured issuer."""
    try:
        document = _get_json(f"{settings['issuer']}/.well-known/openid-configuration")
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused("sso_failed", f"provider unreachable: {error}") from error
    named = [document.get(key) for key in DISCOVERED] if isinstance(document, dict) else []
    if not named or not all(isinstance(value, str) and value for value in named):
        raise SignInRefused("sso_failed", f"discovery document lacks one of {DISCOVERED}")
    if document["issuer"].rstrip("/") != settings["issuer"]:
        raise SignInRefused("sso_failed", "discovery names another issuer")
    methods = document.get("token_endpoint_auth_methods_supported", [])
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        raise SignInRefused("sso_failed", "discovery lists token endpoint methods oddly")
    if methods and not set(methods) & set(CLIENT_AUTH):
        raise SignInRefused("sso_failed", "no token endpoint method we can use (a client secret)")
    return document


def base_url() -> str:
    return current_app.config["APP_BASE_URL"] or request.host_url.rstrip("/")


def redirect_uri(name: str) -> str:
    return f"{base_url()}/auth/oidc/{name}/callback"


def _client(name: str, settings: dict, document: dict) -> OAuth2Session:
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = next(method for method in CLIENT_AUTH if method in methods)
    return OAuth2Session(
        settings["client_id"],
        settings["client_secret"],
        scope=SCOPES,
        redirect_uri=redirect_uri(name),
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    )


def start(name: str) -> tuple[str, str]:
    """Remember a new state, nonce and PKCE verifier, tied to this browser: the provider's
    authorization URL, and the value for the browser's cookie (BROWSER_COOKIE)."""
    settings = provider(name)
    document = metadata(settings)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    url, _ = _client(name, settings, document).create_authorization_url(
        document["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
    )
    db.session.execute(delete(OidcLogin).where(OidcLogin.created_at < utcnow() - LOGIN_TTL))
    browser = secrets.token_urlsafe(32)
    db.session.add(
        OidcLogin(
            state=state,
            provider=name,
            nonce=nonce,
            code_verifier=verifier,
            browser_hash=_digest(browser),
        )
    )
    db.session.commit()
    return url, browser


def _take_login(name: str, state: str | None, browser: str | None) -> tuple:
    """The sign-in this state started in this browser, spent at once (one statement, so two
    workers cannot both spend it): a state works once, for its own provider, in the browser
    that started it (a link to the callback opened elsewhere finds nothing), within LOGIN_TTL."""
    found = None
    if state and browser:
        found = db.session.execute(
            delete(OidcLogin)
            .where(OidcLogin.state == state[:64], OidcLogin.browser_hash == _digest(browser))
            .returning(
                OidcLogin.provider,
                OidcLogin.nonce,
                OidcLogin.code_verifier,
                OidcLogin.created_at,
                OidcLogin.browser_hash,
            )
        ).first()
        db.session.commit()
    if found is None or found.provider != name:
        raise SignInRefused("sso_failed", "unknown or reused state")
    if found.created_at < utcnow() - LOGIN_TTL:
        raise SignInRefused("sso_failed", "sign-in took too long")
    return found


def _keys(document: dict, fresh: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_get_json(document["jwks_uri"], fresh=fresh))
    except (requests.RequestException, ValueError, KeyError, TypeError, JoseError) as error:
        raise SignInRefused("sso_failed", f"provider keys unavailable: {error}") from error


def _decode(id_token: str, document: dict):
    """Check the signature with the provider's keys (fetched again once for a new key)."""
    try:
        return jwt.decode(id_token, _keys(document), algorithms=ID_TOKEN_ALGORITHMS)
    except JoseError:
        return jwt.decode(id_token, _keys(document, fresh=True), algorithms=ID_TOKEN_ALGORITHMS)


def verify_id_token(id_token: str, settings: dict, nonce: str) -> dict:
    """Signature by JWKS, then iss, aud (and azp), nonce, exp and iat."""
    document = metadata(settings)
    try:
        claims = _decode(id_token, document).claims
        jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY,
            # As the discovery document (checked against the setting) spells it.
            iss={"essential": True, "value": document["issuer"]},
            aud={"essential": True, "value": settings["client_id"]},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(claims)
    except (JoseError, ValueError) as error:
        raise SignInRefused("sso_failed", f"id token refused: {error}") from error
    audience = claims["aud"]
    if (
        isinstance(audience, list)
        and len(audience) > 1
        and claims.get("azp") != settings["client_id"]
    ):
        raise SignInRefused("sso_failed", "id token issued to another party (azp)")
    return claims


def _email(claims: dict, settings: dict) -> str:
    """The verified (or, for a trusting provider, given) email within the allowed domains."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused("sso_failed", "no email in the id token")
    email = normalise_email(email)
    # A trusting provider may leave email_verified out; none may say it is false.
    stated = claims.get("email_verified")
    verified = stated in (True, "true") or (stated is None and settings["trust_email"])
    if not verified:
        raise SignInRefused("sso_failed", "email not verified by the provider", email)
    domains = settings["email_domains"]
    if domains and email.rsplit("@", 1)[1] not in domains:
        raise SignInRefused("sso_failed", "email domain not allowed for this provider", email)
    return email


def _code_for_claims(name: str, code: str, login) -> dict:
    settings = provider(name)
    document = metadata(settings)
    client = _client(name, settings, document)
    try:
        token = client.fetch_token(
            document["token_endpoint"], code=code, code_verifier=login.code_verifier
        )
    except (AuthlibBaseError, requests.RequestException, ValueError) as error:
        raise SignInRefused("sso_failed", f"code exchange refused: {error}") from error
    if not isinstance(token.get("id_token"), str) or not token["id_token"]:
        raise SignInRefused("sso_failed", "no id token (text) from the provider")
    return verify_id_token(token["id_token"], settings, login.nonce)


def finish(name: str, args: dict, browser: str | None) -> str:
    """The callback: spend the state, trade the code, check the id token and the email,
    find the active user; a one-time grant for the PWA, for this browser only."""
    if name not in providers():
        raise SignInRefused("sso_failed", "unknown provider")
    login = _take_login(name, args.get("state"), browser)
    if args.get("error") or not args.get("code"):
        raise SignInRefused("sso_failed", f"provider said {args.get('error', 'no code')!r}")
    claims = _code_for_claims(name, args["code"], login)
    email = _email(claims, provider(name))
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        raise SignInRefused("sso_no_account", "no active user with this email", email)
    user_id = user.id
    db.session.commit()
    grant = secrets.token_urlsafe(32)
    # Spent and expired grants are refused alike: none needs keeping past its minute.
    db.session.execute(delete(SignInGrant).where(SignInGrant.created_at < utcnow() - LOGIN_TTL))
    db.session.add(
        SignInGrant(
            grant_hash=_digest(grant),
            user_id=user_id,
            provider=name,
            browser_hash=login.browser_hash,
        )
    )
    db.session.commit()
    return grant


def _digest(grant: str) -> str:
    return hashlib.sha256(grant.encode()).hexdigest()


def record_refusal(name: str, refusal: SignInRefused) -> None:
    """A refused provider sign-in: logged and audited with its reason (never a token)."""
    db.session.rollback()
    log.info("provider sign-in refused (%s): %s", name, refusal.reason)
    audit.record(
        "login_failed",
        "user",
        None,
        changes={"provider": name, "reason": refusal.reason, "email": refusal.email},
    )
    db.session.commit()


def exchange(grant: str, remote_addr: str | None, browser: str | None) -> dict:
    """A grant works once, within GRANT_TTL, in the browser whose sign-in made it, for a
    user still active: then as a password sign-in (lockout, a sign-in recorded, audit naming
    the provider, a token pair)."""
    check_address_limit(remote_addr)  # LOGIN_RATE_LIMIT, shared with password sign-ins
    digest = _digest(grant)
    found = db.session.get(SignInGrant, digest)
    spent = db.session.execute(
        update(SignInGrant)
        .where(
            SignInGrant.grant_hash == digest,
            SignInGrant.used_at.is_(None),
            SignInGrant.created_at >= utcnow() - GRANT_TTL,
            SignInGrant.browser_hash == _digest(browser or ""),
        )
        .values(used_at=utcnow())
    ).rowcount
    user = db.session.get(User, found.user_id) if found else None
    if not spent or user is None or not user.active:
        reason = "unknown grant"
        if found:
            fresh = found.used_at is None and found.created_at >= utcnow() - GRANT_TTL
            reason = "grant made in another browser" if fresh else "grant expired or reused"
        if found:
            audit.record(
                "login_failed",
                "user",
                found.user_id,
                changes={"provider": found.provider, "reason": reason},
            )
        # Counted against the address (LOGIN_RATE_LIMIT), not against an account's lockout:
        # a grant is guessed or replayed, no password of anyone's was tried.
        db.session.add(LoginAttempt(email="", succeeded=False, remote_addr=remote_addr))
        db.session.commit()
        raise Unauthorized(GRANT_REFUSED, code="invalid_grant")
    try:
        check_lockout(user.email, remote_addr)
    except AccountLocked:
        db.session.commit()  # the grant stays spent
        raise
    db.session.add(
        LoginAttempt(email=user.email, user_id=user.id, succeeded=True, remote_addr=remote_addr)
    )
    audit.record("login", "user", user.id, actor_id=user.id, changes={"provider": found.provider})
    tokens = issue_tokens(user)
    db.session.commit()
    return {**tokens, "user": user}
