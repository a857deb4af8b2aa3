"""Clients generated from the served document work: a Python client from
openapi-python-client and TypeScript types from openapi-typescript (with openapi-fetch) each
run a whole scenario against a live server, with no hand edits or casts, and type-check
strictly (`mypy --strict`, `tsc --strict`).

Where a tool is missing the test is skipped with the reason; under CI (CI=true) it fails
instead. The npm packages are pinned in tests/clients/package.json and installed by name into
tests/clients/node_modules (no lock file is written)."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from api.extensions import db
from tests.factories import PASSWORD, make_school, make_user
from tests.live_server import live_server

CLIENTS = Path(__file__).resolve().parent / "clients"
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TIMEOUT = 600

pytestmark = pytest.mark.slow


def unavailable(reason: str) -> None:
    """Skip with the reason; under CI a missing tool is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def run(command: list, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{output}"
    return output


@contextmanager
def seeded_server(make_app, database_url):
    """A live server on this test's database, with a user of each role and two schools."""
    app = make_app()
    with app.app_context():
        north, south = make_school(name="North"), make_school(name="South")
        users = {
            "SRO_OFFICER": make_user("officer", [north]),
            "SRO_LEADER": make_user("school_leader", [north]),
            "SRO_MANAGER": make_user("program_manager"),
            "SRO_ADMIN": make_user("admin"),
        }
        env = {key: user.email for key, user in users.items()}
        env |= {"SRO_PASSWORD": PASSWORD, "SRO_OTHER_SCHOOL": str(south.id)}
        db.session.remove()
    with live_server(database_url) as (base, _):
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=30) as response:
            document = json.load(response)
        yield base, document, env


def test_generated_python_client_runs_the_scenario_and_type_checks(
    make_app, database_url, tmp_path
):
    generator, mypy = BIN / "openapi-python-client", BIN / "mypy"
    if not generator.exists() or not mypy.exists():
        unavailable("openapi-python-client or mypy is not installed (requirements-dev.txt)")
    with seeded_server(make_app, database_url) as (base, document, env):
        spec = tmp_path / "openapi.json"
        spec.write_text(json.dumps(document))
        # The generator formats its output with ruff, from PATH.
        path_env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        output = run(
            [
                generator,
                "generate",
                "--path",
                spec,
                "--meta",
                "none",
                "--output-path",
                "sro_client",
            ],
            tmp_path,
            path_env,
        )
        assert "Warning" not in output, output  # every schema and endpoint generated
        scenario = CLIENTS / "scenario.py"
        env |= {"PYTHONPATH": str(tmp_path)}
        assert "scenario passed" in run([sys.executable, scenario, base], tmp_path, env)
    run(
        [
            mypy,
            "--strict",
            "--follow-imports=silent",  # the generator's own template is not ours to type
            "--cache-dir",
            tmp_path / ".mypy_cache",
            scenario,
        ],
        tmp_path,
        {"MYPYPATH": str(tmp_path)},
    )


def npm_packages() -> Path:
    """tests/clients/node_modules, installed (by package name) when package.json changed."""
    if not shutil.which("node") or not shutil.which("npm"):
        unavailable("Node.js and npm are needed for the TypeScript client check")
    manifest = (CLIENTS / "package.json").read_bytes()
    stamp = CLIENTS / "node_modules" / f".installed-{hashlib.sha256(manifest).hexdigest()[:16]}"
    if not stamp.exists():
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock"],
            cwd=CLIENTS,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if result.returncode != 0:
            unavailable(f"npm install failed:\n{result.stdout}{result.stderr}")
        stamp.touch()
    return CLIENTS / "node_modules"


def test_typescript_types_compile_strictly_and_run_the_scenario(make_app, database_url, tmp_path):
    modules = npm_packages()
    with seeded_server(make_app, database_url) as (base, document, env):
        spec = tmp_path / "openapi.json"
        spec.write_text(json.dumps(document))
        for name in ("scenario.ts", "tsconfig.json"):
            shutil.copy(CLIENTS / name, tmp_path / name)
        (tmp_path / "package.json").write_text('{"type": "module"}')
        (tmp_path / "node_modules").symlink_to(modules)
        run([modules / ".bin" / "openapi-typescript", spec, "-o", "schema.d.ts"], tmp_path)
        run([modules / ".bin" / "tsc", "-p", "."], tmp_path)
        output = run(["node", tmp_path / "build" / "scenario.js", base], tmp_path, env)
        assert "typescript scenario passed" in output
