"""A small, real OpenID Connect provider on loopback, for tests: discovery, JWKS with a real
RSA key, an authorization endpoint that signs the queued person in and redirects with a code,
and a token endpoint that checks the client's secret, the redirect URI and the PKCE verifier
(S256) before it returns an id token signed with that key. Tests queue who signs in next, and
how the provider should misbehave (a wrong nonce, audience or issuer, an expired or badly
signed id token)."""

import base64
import hashlib
import secrets
import threading
import time
from contextlib import contextmanager
from functools import cache
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

CLIENT_SECRET = "provider-test-secret"


class Provider:
    """One identity provider; ``base_url`` is its issuer."""

    def __init__(self, client_id: str):
        self.client_id = client_id
        self.key, self.other_key = _keys(client_id)
        self.codes: dict[str, dict] = {}
        self.next_person: dict = {}
        self.tamper: dict = {}
        self.authorize_requests: list[dict] = []
        self.discovery_drops: set[str] = set()  # keys a broken discovery document leaves out
        self.discovery_odd: dict = {}  # values a broken discovery document has instead
        self.jwks_odd: object = None  # a broken key set's body, served instead of the keys
        self.token_requests: list[dict] = []
        self.base_url = ""

    # What the next sign-in will be.
    def sign_in_as(self, email: str, verified: bool | None = True, **tamper) -> None:
        self.next_person = {"email": email}
        if verified is not None:
            self.next_person["email_verified"] = verified
        self.tamper = tamper

    def __call__(self, environ, start_response):
        request = Request(environ)
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
        }
        handler = routes.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def discovery(self, _request) -> Response:
        document = {
            "issuer": self.base_url,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }
        document |= self.discovery_odd
        return _json({k: v for k, v in document.items() if k not in self.discovery_drops})

    def jwks(self, _request) -> Response:
        if self.jwks_odd is not None:
            return _json(self.jwks_odd)
        return _json({"keys": [self.key.as_dict(private=False) | {"use": "sig", "alg": "RS256"}]})

    def authorize(self, request) -> Response:
        args = request.args.to_dict()
        self.authorize_requests.append(args)
        problem = _authorize_problem(args, self.client_id)
        if problem:
            return Response(problem, status=400)
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "redirect_uri": args["redirect_uri"],
            "challenge": args["code_challenge"],
            "nonce": args.get("nonce"),
            "person": dict(self.next_person),
            "tamper": dict(self.tamper),
        }
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def token(self, request) -> Response:
        form = request.form.to_dict()
        self.token_requests.append(form)
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.client_id, CLIENT_SECRET):
            return _json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(form.get("code", ""), None)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect_uri"]
            or _s256(form.get("code_verifier", "")) != grant["challenge"]
        ):
            return _json({"error": "invalid_grant"}, 400)
        return _json(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(grant),
            }
        )

    def id_token(self, grant: dict) -> str:
        tamper, now = grant["tamper"], int(time.time())
        claims = {
            "iss": tamper.get("iss", self.base_url),
            "aud": tamper.get("aud", self.client_id),
            "sub": "subject-" + grant["person"].get("email", "none"),
            "iat": now - tamper.get("age", 0),
            "exp": now + 300 - tamper.get("age", 0),
            "nonce": tamper.get("nonce", grant["nonce"]),
            **grant["person"],
        }
        key = self.other_key if tamper.get("bad_signature") else self.key
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)


@cache
def _keys(client_id: str) -> tuple[RSAKey, RSAKey]:
    """A signing key, and a stranger's key with the same kid (for a forged signature)."""
    key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4)})
    return key, RSAKey.generate_key(2048, parameters={"kid": key.kid})


def _authorize_problem(args: dict, client_id: str) -> str | None:
    if args.get("client_id") != client_id or args.get("response_type") != "code":
        return "unknown client or response type"
    if "openid" not in args.get("scope", "").split():
        return "scope must include openid"
    if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
        return "PKCE S256 is required"
    if not args.get("state") or not args.get("nonce") or not args.get("redirect_uri"):
        return "state, nonce and redirect_uri are required"
    return None


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _json(body: dict, status: int = 200) -> Response:
    import json

    return Response(json.dumps(body), status=status, mimetype="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@contextmanager
def running_provider(client_id: str = "sro-app"):
    """A Provider served on a free loopback port in a thread, for the test's duration."""
    from api.services import identity

    # A port the OS hands out again must not find an earlier provider's cached discovery.
    identity._cache.clear()
    provider = Provider(client_id)
    server = make_server("127.0.0.1", 0, provider, threaded=True, request_handler=_QuietHandler)
    provider.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)


def provider_env(name: str, provider: Provider, **extra: str) -> dict:
    """The OIDC_<NAME>_* settings that point the app at this provider."""
    prefix = f"OIDC_{name.upper()}_"
    values = {
        "ISSUER": provider.base_url,
        "CLIENT_ID": provider.client_id,
        "CLIENT_SECRET": CLIENT_SECRET,
        "LABEL": name.title(),
    } | extra
    return {prefix + key: value for key, value in values.items()}
