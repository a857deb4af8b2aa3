"""How Flask serves the PWA: shell, manifest, the generated service worker, static files.
No browser needed: these run in every pass."""

import json
import re
import shutil
import struct

from api import pwa

# Raised from 150 KB by issue 16 (phone-first review, admin and history views: ~20 KB, mostly
# the admin search and school picker); the uncompressed shell still precaches in one go.
# The whole offline shell (every view, the privacy rules, the vendored idb): about 180 KB
# uncompressed with the survey, provider sign-in and phone-first admin views; 204 KB (73 KB
# gzipped) after the no-lost-edit fixes of 3 December (the edit form's own school, the age
# of the oldest waiting change, the ended sign-in on Sync now). Raised to 220 KB for them.
SHELL_BUDGET_BYTES = 220 * 1024


def fetch(client, path: str):
    """GET and close (a served file must not stay open)."""
    with client.get(path) as response:
        response.get_data()
        return response


def test_get_root_serves_shell_without_inline_code(client):
    response = fetch(client, "/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and " style=" not in html
    assert 'role="status"' in html and 'rel="manifest"' in html


def test_get_manifest_has_install_fields_and_type(client):
    response = fetch(client, "/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["name"] and manifest["short_name"]
    assert manifest["theme_color"].startswith("#")
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_get_icons_are_png_of_their_declared_size(client):
    manifest = json.loads(fetch(client, "/manifest.webmanifest").data)
    for icon in manifest["icons"]:
        response = fetch(client, icon["src"])
        assert response.status_code == 200
        assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", response.data[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def test_get_service_worker_is_uncached_with_root_scope_and_servable_precache(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Type"].startswith("text/javascript")
    body = response.get_data(as_text=True)
    assert "__PRECACHE__" not in body and "__SHELL_VERSION__" not in body
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    assert {"/", "/app.js", "/app.css", "/manifest.webmanifest", "/js/sync.js"} <= set(precache)
    for url in precache:
        assert fetch(client, url).status_code == 200, url


def test_service_worker_bytes_change_when_any_app_file_changes(client, tmp_path, monkeypatch):
    copy = tmp_path / "pwa"
    shutil.copytree(pwa.PWA_DIR, copy)
    monkeypatch.setattr(pwa, "PWA_DIR", copy)
    before = client.get("/sw.js").data
    assert client.get("/sw.js").data == before
    (copy / "js" / "ui.js").write_text((copy / "js" / "ui.js").read_text() + "\n// change\n")
    assert client.get("/sw.js").data != before


def test_get_file_outside_app_folders_is_404(client):
    for path in ("/js/../../api/pwa.py", "/vendor/idb.LICENSE", "/icons/nope.png", "/js/x.py"):
        assert fetch(client, path).status_code == 404, path


def test_scripts_use_no_eval_inline_styles_or_html_strings():
    for path in pwa.PWA_DIR.rglob("*.js"):
        if "vendor" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for banned in ("innerHTML", "outerHTML", "eval(", "new Function", ".style.", "cssText"):
            assert banned not in source, f"{path.name} uses {banned}"


def test_precached_shell_fits_the_weight_budget():
    total = sum(path.stat().st_size for path in pwa.shell_files())
    assert total <= SHELL_BUDGET_BYTES, f"{total / 1024:.1f} KB"
