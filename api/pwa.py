"""Serves the offline app in pwa/ at the site root, with a service worker Flask renders."""

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_from_directory

from api.schemas.openapi import NULL

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
WORKER_TEMPLATE = "sw.js"
STATIC_DIRS = ("js", "icons", "vendor")
STATIC_SUFFIXES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
}
# Not part of the shell a device needs offline (licences, notes, the public survey page).
NOT_PRECACHED = {WORKER_TEMPLATE, "survey.html", "survey.css", "survey.js"}

blp = Blueprint("pwa", __name__)


def shell_files() -> list[Path]:
    """Every file the service worker precaches, in a stable order."""
    return sorted(
        path
        for path in PWA_DIR.rglob("*")
        if path.is_file()
        and path.suffix in STATIC_SUFFIXES
        and path.name not in NOT_PRECACHED
        and (path.parent == PWA_DIR or path.relative_to(PWA_DIR).parts[0] in STATIC_DIRS)
    )


def shell_urls() -> list[str]:
    """The URLs to precache: the root for index.html, then each file's path."""
    urls = []
    for path in shell_files():
        relative = path.relative_to(PWA_DIR).as_posix()
        urls.append("/" if relative == "index.html" else "/" + relative)
    return urls


def shell_version() -> str:
    """A hash over every file in pwa/ (names and bytes): any deploy changes it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PWA_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(PWA_DIR).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _static(relative: str) -> Response:
    if "\x00" in relative:  # no file name holds NUL (and the OS refuses to look one up)
        abort(404)
    path = (PWA_DIR / relative).resolve()
    if PWA_DIR not in path.parents or not path.is_file() or path.suffix not in STATIC_SUFFIXES:
        abort(404)
    response = send_from_directory(PWA_DIR, relative, max_age=0)
    response.headers["Content-Type"] = STATIC_SUFFIXES[path.suffix]
    # Revalidate every time; offline copies come from the service worker's cache.
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("/")
def index():
    """The app shell."""
    return _static("index.html")


@blp.get("/survey")
def survey():
    """The anonymous survey page (no sign-in; the code comes in the address's fragment)."""
    return _static("survey.html")


@blp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest."""
    return _static("manifest.webmanifest")


@blp.get("/sw.js")
def service_worker():
    """The service worker, stamped with the shell's version and the list to precache."""
    template = (PWA_DIR / WORKER_TEMPLATE).read_text(encoding="utf-8")
    body = template.replace('"__SHELL_VERSION__"', json.dumps(shell_version())).replace(
        '"__PRECACHE__"', json.dumps(shell_urls())
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@blp.get("/app.js")
@blp.get("/app.css")
@blp.get("/survey.css")
def shell_asset():
    """The app's entry script and stylesheet."""
    return _static(request.path.lstrip("/"))


@blp.get("/<any(js, icons, vendor):folder>/<path:name>")
def static_file(folder: str, name: str):
    """A script, icon or vendored file of the app."""
    return _static(f"{folder}/{name}")


# The rules the PWA's forms check before anything is sent, generated from the OpenAPI
# document (`flask form-rules`), so the phone never keeps its own copy of a limit or a list.
FORM_RULES_FILE = PWA_DIR / "js" / "form-rules.json"
RULE_KEYS = ("minimum", "maximum", "maxLength", "maxItems", "enum", "x-required-when")


def form_rules(document: dict) -> dict:
    """The activity form's fields (those an edit may change: ActivityUpdate's, in order) with
    a new activity's bounds, choices and requirements (ActivityCreate's), and the dispute
    reason's bounds."""
    schemas = document["components"]["schemas"]
    create = schemas["ActivityCreate"]
    activity = {
        name: _field_rules(schemas, create["properties"][name], name in create["required"])
        for name in schemas["ActivityUpdate"]["properties"]
    }
    reason = schemas["Dispute"]["properties"]["reason"]
    return {
        "generated_from": "the OpenAPI document: run `flask form-rules` after changing a schema",
        "activity": activity,
        "dispute": {"reason": _field_rules(schemas, reason, True)},
    }


def _field_rules(schemas: dict, prop: dict, required: bool) -> dict:
    """One field's bounds and choices (a list's: its items'), with references followed."""
    merged = dict(prop)
    parts = [prop.get("items", {}), *prop.get("allOf", []), *prop.get("oneOf", []), prop]
    for part in parts:
        target = part.get("$ref", "").rsplit("/", 1)[-1]
        if target:
            merged |= schemas[target]
        elif part.get("enum") and part != NULL:
            merged["enum"] = part["enum"]
    rules = {
        key.removeprefix("x-").replace("-", "_"): merged[key] for key in RULE_KEYS if key in merged
    }
    return {"required": required, **rules}


def write_form_rules(document: dict) -> None:
    """Write pwa/js/form-rules.json from the document (stable bytes: sorted, indented)."""
    text = json.dumps(form_rules(document), indent=2, ensure_ascii=False) + "\n"
    FORM_RULES_FILE.write_text(text, encoding="utf-8")
