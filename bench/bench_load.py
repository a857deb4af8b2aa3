"""Load: many simulated devices pushing and pulling at once against gunicorn, on SQLite and on
PostgreSQL; reports 5xx, lost and duplicated records, and p50/p95 latencies.

Each device is a thread with its own officer: it logs new activities, edits and deletes some of
its own, pushes its outbox (1-8 mutations), now and then re-sends a push whose answer it
"lost" (same mutation ids: must come back as duplicates), and pulls the change feed from its
cursor until `has_more` is false. Everything is on loopback; each run stops by itself.

At the end every device's view (what it pushed and what it pulled) is checked against the
database: each activity exactly once, at the version the device last saw, one revision per
version, one stored mutation per applied mutation; and a fresh full pull returns each of the
officer's activities exactly once.

Settings (environment): BENCH_LOAD_SECONDS (per backend, default 120), BENCH_LOAD_DEVICES
(50), BENCH_LOAD_WORKERS (gunicorn workers, 4), BENCH_LOAD_BACKENDS ("sqlite,postgresql"),
BENCH_LOAD_THINK_SECONDS (mean pause between a device's sync rounds, 1.0), BENCH_POSTGRES_URL
(use this server instead of starting a throwaway cluster).
"""

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "120"))
DEVICES = int(os.environ.get("BENCH_LOAD_DEVICES", "50"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "4"))
BACKENDS = os.environ.get("BENCH_LOAD_BACKENDS", "sqlite,postgresql").split(",")
# Mean pause between a device's sync rounds (uniform from half to one and a half times it);
# a real phone syncs every few minutes, so one second is already a heavy crowd.
THINK = float(os.environ.get("BENCH_LOAD_THINK_SECONDS", "1.0"))
SECRETS = {
    "SECRET_KEY": "bench-load-secret-0123456789-0123456789",
    "JWT_SECRET_KEY": "bench-load-jwt-secret-0123456789-0123456789",
}
SCHOOLS = 5


# --- servers -------------------------------------------------------------------------------


@contextmanager
def postgres_cluster():
    """A throwaway PostgreSQL cluster on a free loopback port (as user postgres when root)."""
    from tests.live_server import free_port

    if os.environ.get("BENCH_POSTGRES_URL"):
        yield os.environ["BENCH_POSTGRES_URL"]
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        raise FileNotFoundError("no PostgreSQL binaries under /usr/lib/postgresql")
    pg_bin = bins[-1].parent
    data = Path(tempfile.mkdtemp(prefix="sro-bench-pg-"))
    port = free_port()
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(data, "postgres")

    def run(*command: str) -> None:
        line = " ".join(command)
        full = ["su", "postgres", "-s", "/bin/sh", "-c", line] if as_root else ["sh", "-c", line]
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL)

    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200 "
        "-c shared_buffers=128MB"
    )
    run(f"{pg_bin}/initdb", "-D", f"{data}/data", "-A", "trust", "-U", "postgres", "-E", "UTF8")
    run(
        f"{pg_bin}/pg_ctl",
        "-D",
        f"{data}/data",
        "-l",
        f"{data}/log",
        "-w",
        "-o",
        f"'{options}'",
        "start",
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(f"{pg_bin}/pg_ctl", "-D", f"{data}/data", "-m", "fast", "stop")
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def gunicorn(database_url: str, workers: int):
    """The app under gunicorn (the tests' live server), never recycling workers mid-run."""
    from tests.live_server import live_server

    extra = ("--max-requests", "0")
    with live_server(database_url, workers, extra_env=SECRETS, extra_args=extra) as (base, _):
        yield base


# --- the database --------------------------------------------------------------------------


def prepare(database_url: str, devices: int) -> list[dict]:
    """Migrate an empty database, add schools and one officer per device; return each
    device's officer id, school and a bearer token signed with the server's key."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from api import create_app
    from api.auth import issue_tokens
    from api.extensions import db
    from api.models import School, User
    from api.services.passwords import hash_password

    app = create_app({**SECRETS, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        schools = [
            School(name=f"Load School {n}", code=f"LOAD{n:03d}", level="junior_high")
            for n in range(SCHOOLS)
        ]
        db.session.add_all(schools)
        password = hash_password("load-test-password-2026")
        officers = [
            User(
                email=f"device{n}@example.org",
                display_name=f"Device {n}",
                role="officer",
                password_hash=password,
                schools=[schools[n % SCHOOLS]],
            )
            for n in range(devices)
        ]
        db.session.add_all(officers)
        db.session.commit()
        plans = []
        for officer in officers:
            tokens = issue_tokens(officer)
            plans.append(
                {
                    "officer_id": officer.id,
                    "school_id": officer.school_ids[0],
                    "token": tokens["access_token"],
                }
            )
        db.session.commit()
        db.engine.dispose()
    return plans


def verify(database_url: str, devices: list["Device"]) -> dict:
    """Compare what every device believes with the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    lost = duplicated = stale = missing_revisions = 0
    with engine.connect() as connection:
        for device in devices:
            rows = connection.execute(
                text("SELECT id, version FROM activity WHERE officer_id = :o"),
                {"o": device.officer_id},
            ).all()
            stored: dict[str, int] = {}
            for row_id, version in rows:
                key = str(uuid.UUID(str(row_id)))
                duplicated += key in stored
                stored[key] = version
            for activity_id, version in device.known.items():
                if activity_id not in stored:
                    lost += 1
                elif stored[activity_id] != version:
                    stale += 1
            duplicated += len(set(stored) - set(device.known))  # rows nobody asked for
        revisions = connection.execute(
            text(
                "SELECT count(*) FROM activity a WHERE (SELECT count(*) FROM activity_revision r "
                "WHERE r.activity_id = a.id) <> a.version"
            )
        ).scalar()
        missing_revisions += revisions
        applied = sum(d.applied for d in devices)
        stored_mutations = connection.execute(text("SELECT count(*) FROM sync_mutation")).scalar()
    engine.dispose()
    return {
        "lost": lost,
        "duplicated": duplicated,
        "stale": stale,
        "revision_mismatch": missing_revisions,
        "mutation_records_mismatch": stored_mutations - applied,
    }


# --- devices -------------------------------------------------------------------------------


class Device(threading.Thread):
    """One phone: an outbox, a pull cursor, and what it knows of its own activities."""

    def __init__(self, base: str, plan: dict, deadline: float, seed: int):
        super().__init__(daemon=True)
        self.base = base
        self.officer_id = plan["officer_id"]
        self.school_id = plan["school_id"]
        self.token = plan["token"]
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.device_id = str(uuid.uuid4())
        self.cursor: str | None = None
        self.known: dict[str, int] = {}  # activity id -> version (deleted ones included)
        self.deleted: set[str] = set()
        self.latency: dict[str, list[float]] = {"push": [], "pull": []}
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.applied = 0
        self.duplicates_ok = 0
        self.last_push: dict | None = None

    def call(self, kind: str, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except OSError as error:
            self.errors.append(f"{kind}: {type(error).__name__}: {error}")
            return None, None
        self.latency[kind].append(time.perf_counter() - started)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != 200:
            self.errors.append(f"{kind}: HTTP {status}: {raw[:200]!r}")
            return status, None
        return status, json.loads(raw)

    def content(self) -> dict:
        started = datetime.now(UTC).replace(microsecond=0) - timedelta(
            minutes=self.rng.randint(30, 60 * 24 * 20)
        )
        return {
            "school_id": self.school_id,
            "category": self.rng.choice(("education", "counselling", "mediation")),
            "started_at": started.isoformat(),
            "duration_minutes": self.rng.randint(10, 120),
            "audience": self.rng.sample(["students", "staff", "families"], 2),
            "participant_count": self.rng.randint(1, 60),
            "summary": "Talked with a class about online safety and where to get help.",
        }

    def outbox(self) -> list[dict]:
        mutations = []
        live = [a for a in self.known if a not in self.deleted]
        for _ in range(self.rng.randint(1, 8)):
            roll = self.rng.random()
            if live and roll < 0.2:
                target = self.rng.choice(live)
                mutations.append(
                    {
                        "mutation_id": str(uuid.uuid4()),
                        "op": "upsert",
                        "activity_id": target,
                        "base_version": self.known[target],
                        "data": {"duration_minutes": self.rng.randint(10, 120)},
                    }
                )
            elif live and roll < 0.25:
                target = self.rng.choice(live)
                live.remove(target)
                mutations.append(
                    {
                        "mutation_id": str(uuid.uuid4()),
                        "op": "delete",
                        "activity_id": target,
                        "base_version": self.known[target],
                    }
                )
            else:
                mutations.append(
                    {
                        "mutation_id": str(uuid.uuid4()),
                        "op": "upsert",
                        "activity_id": str(uuid.uuid4()),
                        "base_version": None,
                        "data": self.content(),
                    }
                )
        # One mutation a target per push keeps base versions simple for this client.
        seen, unique = set(), []
        for mutation in mutations:
            if mutation["activity_id"] not in seen:
                seen.add(mutation["activity_id"])
                unique.append(mutation)
        return unique

    def push(self) -> None:
        resend = self.last_push is not None and self.rng.random() < 0.1
        body = self.last_push if resend else {"device_id": self.device_id}
        if not resend:
            body["mutations"] = self.outbox()
        _, answer = self.call("push", "POST", "/api/v1/sync/push", body)
        if answer is None:
            return
        for mutation, result in zip(body["mutations"], answer["results"], strict=True):
            status = result["status"]
            if resend and status != "duplicate":
                self.errors.append(f"resent push gave {status}, not duplicate")
            elif not resend and status != "applied":
                self.errors.append(f"push gave {status}: {result.get('error')}")
            if status == "duplicate":
                self.duplicates_ok += 1
            if status in ("applied", "duplicate"):
                self.applied += status == "applied"
                activity = result["activity"]
                known = self.known.get(activity["id"], 0)
                self.known[activity["id"]] = max(known, activity["version"])
                if mutation["op"] == "delete":
                    self.deleted.add(mutation["activity_id"])
        self.last_push = body

    def pull(self) -> None:
        while True:
            path = "/api/v1/sync/pull?limit=200"
            if self.cursor:
                path += f"&since={self.cursor}"
            _, answer = self.call("pull", "GET", path)
            if answer is None:
                return
            if answer.get("reset"):
                self.errors.append("unexpected reset")
                self.cursor = None
                return
            for change in answer["changes"]:
                previous = self.known.get(change["id"], 0)
                if change["version"] < previous:
                    self.errors.append("pull went back in time")
                self.known[change["id"]] = change["version"]
            self.cursor = answer["cursor"]
            if not answer["has_more"]:
                return

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                self.push()
                self.pull()
                time.sleep(self.rng.uniform(0.5 * THINK, 1.5 * THINK))  # the officer
            self.pull()
        except Exception as error:  # reported, never hidden
            self.errors.append(f"crashed: {type(error).__name__}: {error}")

    def full_pull_ids(self) -> list[str]:
        ids, cursor = [], None
        while True:
            path = "/api/v1/sync/pull?limit=500" + (f"&since={cursor}" if cursor else "")
            _, answer = self.call("pull", "GET", path)
            if answer is None:
                return ids
            ids.extend(change["id"] for change in answer["changes"])
            cursor = answer["cursor"]
            if not answer["has_more"]:
                return ids


# --- one run ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_backend(name: str, database_url: str) -> dict:
    plans = prepare(database_url, DEVICES)
    load_before = os.getloadavg()[0]
    with gunicorn(database_url, WORKERS) as base:
        started = time.monotonic()
        deadline = started + SECONDS
        devices = [Device(base, plan, deadline, seed) for seed, plan in enumerate(plans)]
        for device in devices:
            device.start()
        for device in devices:
            device.join(timeout=SECONDS + 120)
        elapsed = time.monotonic() - started
        hung = sum(device.is_alive() for device in devices)
        full_pull_twice = 0
        for device in devices:
            ids = device.full_pull_ids()
            full_pull_twice += len(ids) - len(set(ids))
            device.known_from_full_pull = set(ids)
    checks = verify(database_url, devices)
    missing_from_pull = sum(len(set(d.known) - d.known_from_full_pull) for d in devices)
    statuses: dict[int, int] = {}
    for device in devices:
        for status, count in device.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    push = [x for d in devices for x in d.latency["push"]]
    pull = [x for d in devices for x in d.latency["pull"]]
    errors = [e for d in devices for e in d.errors]
    return {
        "backend": name,
        "devices": DEVICES,
        "workers": WORKERS,
        "seconds": round(elapsed, 1),
        "cpus": os.cpu_count(),
        "load_average_at_start": round(load_before, 1),
        "requests": len(push) + len(pull),
        "requests_per_second": round((len(push) + len(pull)) / elapsed, 1),
        "pushes": len(push),
        "pulls": len(pull),
        "mutations_applied": sum(d.applied for d in devices),
        "resends_answered_duplicate": sum(d.duplicates_ok for d in devices),
        "activities": sum(len(d.known) for d in devices),
        "server_errors_5xx": sum(c for s, c in statuses.items() if s >= 500),
        "other_errors": len(errors) - sum(c for s, c in statuses.items() if s >= 500),
        "hung_devices": hung,
        "returned_twice_in_full_pull": full_pull_twice,
        "missing_from_full_pull": missing_from_pull,
        **checks,
        "push_p50_ms": round(percentile(push, 50) * 1000, 1),
        "push_p95_ms": round(percentile(push, 95) * 1000, 1),
        "pull_p50_ms": round(percentile(pull, 50) * 1000, 1),
        "pull_p95_ms": round(percentile(pull, 95) * 1000, 1),
        "first_errors": errors[:5],
    }


CORRECTNESS = (
    "server_errors_5xx",
    "other_errors",
    "hung_devices",
    "lost",
    "duplicated",
    "stale",
    "revision_mismatch",
    "mutation_records_mismatch",
    "returned_twice_in_full_pull",
    "missing_from_full_pull",
)


def table(results: list[dict]) -> str:
    lines = [
        "| database | devices | workers | seconds | requests (/s) | mutations applied | 5xx "
        "| lost | duplicated | push p50 / p95 | pull p50 / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['devices']} | {r['workers']} | {r['seconds']:.0f} "
            f"| {r['requests']} ({r['requests_per_second']:.0f}) | {r['mutations_applied']} "
            f"| {r['server_errors_5xx']} | {r['lost']} | {r['duplicated']} "
            f"| {r['push_p50_ms']:.0f} / {r['push_p95_ms']:.0f} ms "
            f"| {r['pull_p50_ms']:.0f} / {r['pull_p95_ms']:.0f} ms |"
        )
    return "\n".join(lines)


def main() -> bool:
    sys.path.insert(0, str(ROOT))
    results = []
    for backend in BACKENDS:
        print(f"load: {DEVICES} devices, {SECONDS:.0f} s against {backend} ...", flush=True)
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="sro-bench-load-"))
            try:
                results.append(run_backend(backend, f"sqlite:///{folder / 'load.sqlite3'}"))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        elif backend == "postgresql":
            try:
                with postgres_cluster() as url:
                    results.append(run_backend(backend, url))
            except (FileNotFoundError, subprocess.CalledProcessError) as error:
                print(f"load: PostgreSQL skipped ({error})", flush=True)
    print(table(results))
    for result in results:
        context = (
            f"{result['cpus']} CPUs, load average {result['load_average_at_start']} at the start"
        )
        resent = result["resends_answered_duplicate"]
        print(
            f"{result['backend']}: {context}; {resent} resent mutations answered duplicate;"
            f" {result['activities']} activities"
        )
        problems = {k: result[k] for k in CORRECTNESS if result[k]}
        print(f"{result['backend']}: " + (f"PROBLEMS {problems}" if problems else "all correct"))
        for line in result["first_errors"]:
            print(f"  {line}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2))
    return all(not any(r[k] for k in CORRECTNESS) for r in results) and bool(results)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
