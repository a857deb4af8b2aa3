"""Sync ingest: items per second through gunicorn next to raw sqlite3 and Kinto.

Three numbers from the same run on the same machine:

1. Our push endpoint: new activities sent as 500-mutation pushes over HTTP to gunicorn
   (``WORKERS`` workers, as many concurrent clients), SQLite file in WAL mode. Every item is
   validated, checked against what is stored, versioned, given a change sequence, a revision,
   an audit-chain row, its report-rollup update and its stored mutation result.
2. Raw ``sqlite3`` ``executemany`` of the very rows run 1 stored (read back from its
   database) into a fresh copy of the same migrated schema: per item one activity, one
   revision, one audit event and one sync-mutation row, a transaction per 500 items, the same
   pragmas (WAL, synchronous=NORMAL, foreign keys). Rows are read before the clock starts, so
   this is the pure insert rate. (The rollup updates are work ours does on top.)
3. Kinto (PyPI ``kinto``, memory backend) ingesting the same records through its batch
   endpoint, 500 requests a batch, installed into its own venv (bench/.kinto-venv) so it never
   touches this project's requirements.

The three take turns: ours is sent ``TURN`` batches a client, then the raw insert writes the
rows those batches stored, then Kinto ingests the same records, and so on to the end; five
rounds on fresh databases, and the verdicts use the median of the rounds' ratios. A shared
machine's speed drifts over seconds; measured one after the other, each would see a different
machine, and their ratios would move with it. Taking turns, each is measured across the run.
"""

import base64
import http.client
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
KINTO_VENV = ROOT / "bench" / ".kinto-venv"
BATCH = 500
BATCHES = int(os.environ.get("BENCH_SYNC_BATCHES", "12"))
ROUNDS = int(os.environ.get("BENCH_SYNC_ROUNDS", "5"))
WORKERS = int(os.environ.get("BENCH_SYNC_WORKERS", "2"))
SECRETS = {
    "SECRET_KEY": "bench-secret-0123456789-0123456789",
    "JWT_SECRET_KEY": "bench-jwt-secret-0123456789-0123456789",
}
TARGET_KINTO_SPEEDUP = 10.0  # issue 14's bar: at least ten times Kinto's batch endpoint
SETTLE = 0.1  # seconds after each turn for work a server does after its responses
TURN = int(os.environ.get("BENCH_SYNC_TURN", "3"))  # batches a client sends in a turn
# The load generator shares the machine, so it does little (for both servers alike): the
# bodies are serialized before the clock, it speaks HTTP through http.client (Client) and
# reads the answers with orjson.
JSON = {"Content-Type": "application/json"}
dumps = orjson.dumps


# --- records -----------------------------------------------------------------------------


def make_records(count: int, school_id: int) -> list[dict]:
    """Realistic, varied activity content (each with its client-chosen id)."""
    latest = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    spread = 200 * 24 * 60  # minutes: the records fall over the last 200 days
    categories = ("education", "counselling", "mediation", "emergency_response")
    records = []
    for n in range(count):
        records.append(
            {
                "id": str(uuid.uuid4()),
                "school_id": school_id,
                "category": categories[n % len(categories)],
                "started_at": (latest - timedelta(minutes=37 * n % spread)).isoformat(),
                "duration_minutes": 15 + n % 90,
                "audience": ["students", "staff"] if n % 3 else ["students"],
                "participant_count": n % 40,
                "summary": f"Session {n} on online safety and healthy relationships.",
                "outcome": "none" if n % 2 else None,
            }
        )
    return records


def mutations_for(records: list[dict]) -> list[dict]:
    return [
        {
            "mutation_id": str(uuid.uuid4()),
            "op": "upsert",
            "activity_id": record["id"],
            "base_version": None,
            "data": {k: v for k, v in record.items() if k != "id"},
        }
        for record in records
    ]


def batches_of(items: list, size: int = BATCH) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (Linux /proc)."""
    pids, index = [pid], 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*/children"):
            pids.extend(int(child) for child in task.read_text().split())
        index += 1
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class Client:
    """One keep-alive HTTP/1.1 connection (http.client): the load generator shares the
    machine with the server, so it does as little as it can (requests took twice the CPU)."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict) -> bytes:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        self.connection.request("POST", self.prefix + path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {content[:300]!r}")
        return content

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


@dataclass
class Target:
    """A server taking part in the turns: its request bodies, serialized before the clock
    (one a batch), how to send one, and its clients."""

    pid: int
    bodies: list[bytes]
    send: Callable[[Client, bytes], None]
    clients: list[Client]


def push_concurrently(bodies: list[bytes], send, clients: list[Client]) -> float:
    """Send every body, one client a thread; return the wall time in seconds."""
    queue = list(bodies)
    lock = threading.Lock()
    failures: list[str] = []

    def work(client: Client):
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop(0)
            try:
                send(client, body)
            except Exception as error:  # reported below, the run is then invalid
                failures.append(repr(error))
                return

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"ingest failed: {failures[0]}")
    return elapsed


def turn(target: Target, first: int, count: int) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) for the target's bodies [first, first + count)."""
    pids = process_tree(target.pid)
    cpu_before = cpu_seconds(pids)
    elapsed = push_concurrently(target.bodies[first : first + count], target.send, target.clients)
    # Work a server leaves for after its responses (our WAL folds) finishes before the next
    # turn starts: its CPU counts for it, and it does not slow the other down.
    time.sleep(SETTLE)
    return elapsed, cpu_seconds(pids) - cpu_before


# --- ours --------------------------------------------------------------------------------


def prepare_database(url: str) -> tuple[int, str]:
    """Migrate, add a school and an officer; return (school id, access token)."""
    from flask_migrate import upgrade

    from api import create_app
    from api.auth import issue_tokens
    from api.extensions import db
    from api.models import School, User
    from api.services.passwords import hash_password

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING", **SECRETS})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        school = School(name="Bench School", code="BENCH1", level="junior_high")
        officer = User(
            email="bench.officer@example.org",
            display_name="Bench Officer",
            role="officer",
            password_hash=hash_password("bench-password-0123"),
            schools=[school],
        )
        db.session.add_all([school, officer])
        db.session.commit()
        token = issue_tokens(officer)["access_token"]
        db.session.commit()
        school_id = school.id
        db.session.remove()
        db.engine.dispose()
    return school_id, token


@contextmanager
def our_server(workdir: Path, count: int) -> Iterator[tuple[Target, list[dict]]]:
    """Our push endpoint on a fresh database, warmed up: (its Target, the records it will
    be sent). On a clean exit, checks that every one of them was stored."""
    from tests.live_server import live_server

    path = workdir / "sync.sqlite3"
    url = f"sqlite:///{path}"
    school_id, token = prepare_database(url)
    shutil.copyfile(path, workdir / "empty.sqlite3")  # the raw baseline starts from here
    records = make_records(count, school_id)
    device = str(uuid.uuid4())

    def bodies(items: list[dict], size: int = BATCH) -> list[bytes]:
        return [
            dumps({"device_id": device, "mutations": batch})
            for batch in batches_of(mutations_for(items), size)
        ]

    headers = {"Authorization": f"Bearer {token}", **JSON}

    def send(client: Client, body: bytes) -> None:
        results = orjson.loads(client.post("/api/v1/sync/push", body, headers))["results"]
        statuses = {result["status"] for result in results}
        if statuses != {"applied"}:
            raise RuntimeError(f"unexpected results {statuses}")

    warm = WORKERS * 20
    env = {"JWT_ACCESS_MINUTES": "120", **SECRETS}
    with live_server(url, workers=WORKERS, extra_env=env) as (base, server):
        clients = [Client(base) for _ in range(WORKERS)]
        try:
            # Every worker has imported, connected and run each statement once.
            push_concurrently(bodies(make_records(warm, school_id), 20), send, clients)
            yield Target(server.pid, bodies(records), send, clients), records
        finally:
            for client in clients:
                client.close()
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT count(*) FROM activity").fetchone()[0]
    if stored != count + warm:
        raise RuntimeError(f"{stored - warm} activities stored, {count} pushed")


# --- raw sqlite3 -------------------------------------------------------------------------


COLUMNS = {
    "activity": "id, officer_id, school_id, category, started_at, duration_minutes, audience, "
    "participant_count, summary, referral_to, outcome, status, review_note, reviewed_by, "
    "reviewed_at, version, content_version, change_seq, deleted_at, created_at, updated_at, "
    "submitted_at",
    "revision": "activity_id, version, action, actor_id, at, client_time, changes",
    "audit": "seq, at, client_time, actor_id, action, target_type, target_id, changes, "
    "prev_hash, hash",
    "mutation": "mutation_id, user_id, device_id, activity_id, op, request_hash, status, "
    "result, created_at",
}
TABLES = {
    "activity": "activity",
    "revision": "activity_revision",
    "audit": "audit_event",
    "mutation": "sync_mutation",
}
INSERTS = {
    kind: f"INSERT INTO {TABLES[kind]} ({columns}) "
    f"VALUES ({', '.join('?' * len(columns.split(',')))})"
    for kind, columns in COLUMNS.items()
}


def stored_rows(path: Path, count: int) -> dict[str, list[tuple]]:
    """The rows our pushes stored for their last ``count`` activities, byte for byte, in
    the order they were written (one activity, revision, audit event and stored result an
    item): the raw baseline inserts exactly these."""

    def last(kind: str, query: str) -> list[tuple]:
        rows = connection.execute(query).fetchall()
        if len(rows) < count:
            raise RuntimeError(f"only {len(rows)} {kind} rows stored")
        return rows[-count:]

    def prefixed(kind: str, alias: str) -> str:
        return ", ".join(f"{alias}.{c.strip()}" for c in COLUMNS[kind].split(","))

    with sqlite3.connect(path) as connection:
        return {
            "activity": last(
                "activity", f"SELECT {COLUMNS['activity']} FROM activity ORDER BY change_seq"
            ),
            "revision": last(
                "revision",
                f"SELECT {prefixed('revision', 'r')} FROM activity_revision r "
                "JOIN activity a ON a.id = r.activity_id ORDER BY a.change_seq",
            ),
            "audit": last(
                "audit",
                f"SELECT {COLUMNS['audit']} FROM audit_event "
                "WHERE action = 'activity_create' ORDER BY seq",
            ),
            "mutation": last(
                "mutation",
                f"SELECT {prefixed('mutation', 'm')} FROM sync_mutation m "
                "JOIN activity a ON a.id = m.activity_id ORDER BY a.change_seq",
            ),
        }


class RawInsert:
    """The raw baseline for some row kinds: executemany into a fresh copy of the migrated
    schema, a transaction per batch, the same pragmas as ours; wall and CPU time summed over
    its turns."""

    def __init__(self, empty_database: Path, tables: tuple[str, ...]):
        self.path = empty_database.with_name(f"raw-{len(tables)}.sqlite3")
        shutil.copyfile(empty_database, self.path)
        self.tables = tables
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.execute("PRAGMA foreign_keys = ON")
        self.items = 0
        self.elapsed = self.cpu = 0.0

    def turn(self, rows: dict[str, list[tuple]]) -> None:
        count = len(rows["activity"])
        started, cpu_started = time.perf_counter(), time.process_time()
        for first in range(0, count, BATCH):
            self.connection.execute("BEGIN IMMEDIATE")
            for table in self.tables:
                self.connection.executemany(INSERTS[table], rows[table][first : first + BATCH])
            self.connection.execute("COMMIT")
        self.elapsed += time.perf_counter() - started
        self.cpu += time.process_time() - cpu_started
        self.items += count

    def close(self) -> None:
        stored = self.connection.execute("SELECT count(*) FROM activity").fetchone()[0]
        self.connection.close()
        if stored != self.items:
            raise RuntimeError(f"raw insert stored {stored} of {self.items}")


# --- Kinto -------------------------------------------------------------------------------

KINTO_INI = """\
[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.memory
kinto.storage_url =
kinto.cache_backend = kinto.core.cache.memory
kinto.cache_url =
kinto.permission_backend = kinto.core.permission.memory
kinto.permission_url =
kinto.userid_hmac_secret = {secret}
kinto.batch_max_requests = {batch}
kinto.bucket_create_principals = system.Authenticated
multiauth.policies = basicauth
multiauth.policy.basicauth.use = kinto.core.authentication.BasicAuthAuthenticationPolicy

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = WARNING
formatter = plain

[formatter_plain]
format = %(levelname)s %(message)s
"""


def kinto_executable() -> tuple[Path | None, str]:
    """Kinto in its own venv, installed on first use; (path, "") or (None, reason)."""
    executable = KINTO_VENV / "bin" / "kinto"
    if executable.exists():
        return executable, ""
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(KINTO_VENV)], check=True, capture_output=True
        )
        subprocess.run(
            [str(KINTO_VENV / "bin" / "pip"), "install", "--quiet", "kinto"],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        output = getattr(error, "stderr", b"") or b""
        lines = output.decode(errors="replace").strip().splitlines()
        return None, f"pip install kinto failed: {lines[-1] if lines else error}"
    return (executable, "") if executable.exists() else (None, "kinto script not installed")


@contextmanager
def kinto_server(workdir: Path, records: list[dict]) -> Iterator[tuple[Target | None, str]]:
    """Kinto with an empty collection, warmed up like ours: (its Target for these records,
    "") or (None, why not). On a clean exit, checks that every record was stored."""
    from tests.live_server import free_port

    executable, reason = kinto_executable()
    if executable is None:
        yield None, reason
        return
    port = free_port()
    ini = workdir / "kinto.ini"
    ini.write_text(KINTO_INI.format(secret=uuid.uuid4().hex, batch=BATCH, port=port))
    process = subprocess.Popen(
        [str(executable), "start", "--ini", str(ini)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/v1"
    auth = ("bench", "bench-password")
    token = base64.b64encode(":".join(auth).encode()).decode()
    headers = {**JSON, "Authorization": f"Basic {token}"}
    path = "/buckets/bench/collections/activities/records/"

    def bodies(items: list[dict], size: int = BATCH) -> list[bytes]:
        return [
            dumps(
                {
                    "defaults": {"method": "PUT"},
                    "requests": [
                        {
                            "path": path + record["id"],
                            "body": {"data": {k: v for k, v in record.items() if k != "id"}},
                        }
                        for record in batch
                    ],
                }
            )
            for batch in batches_of(items, size)
        ]

    def send(client: Client, body: bytes) -> None:
        responses = orjson.loads(client.post("/batch", body, headers))["responses"]
        statuses = {response["status"] for response in responses}
        if statuses != {201}:
            raise RuntimeError(f"kinto answered {statuses}")

    clients = [Client(base) for _ in range(WORKERS)]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                yield None, f"kinto did not start: {error.strip()[-200:]}"
                return
            time.sleep(0.2)
        collection = f"{base}/buckets/bench/collections/activities"
        requests.put(f"{base}/buckets/bench", json={}, auth=auth, timeout=30).raise_for_status()
        requests.put(collection, json={}, auth=auth, timeout=30).raise_for_status()
        warm = make_records(WORKERS * 20, 1)
        push_concurrently(bodies(warm, 20), send, clients)
        yield Target(process.pid, bodies(records), send, clients), ""
        listing = requests.head(f"{collection}/records", auth=auth, timeout=60)
        stored = int(listing.headers.get("Total-Objects") or listing.headers.get("Total-Records"))
        if stored != len(records) + len(warm):
            raise RuntimeError(f"kinto stored {stored - len(warm)} of {len(records)} records")
    finally:
        for client in clients:
            client.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- report ------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]}, SQLite " + (
        sqlite3.sqlite_version
    )


def median_of(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def bench_round(workdir: Path, count: int) -> tuple[dict[str, tuple[float, float]], str]:
    """One round on fresh databases and a fresh Kinto, taking turns: ours is sent TURN
    batches a client, the raw inserts write the rows that turn stored, Kinto ingests the same
    records.
    Returns (items per wall second, per CPU second) for each, and why Kinto did not run."""
    every_row = ("activity", "revision", "audit", "mutation")
    timed = {"ours": [0.0, 0.0], "kinto": [0.0, 0.0]}
    with our_server(workdir, count) as (ours, records):
        raws = {
            "raw_all": RawInsert(workdir / "empty.sqlite3", every_row),
            "raw_activity": RawInsert(workdir / "empty.sqlite3", ("activity",)),
        }
        with kinto_server(workdir, records) as (kinto, kinto_reason):
            for first in range(0, len(ours.bodies), TURN * WORKERS):
                items = min(TURN * WORKERS * BATCH, count - first * BATCH)
                for key, target in (("ours", ours), ("kinto", kinto)):
                    if key == "kinto" and target is None:
                        continue
                    elapsed, cpu = turn(target, first, TURN * WORKERS)
                    timed[key][0] += elapsed
                    timed[key][1] += cpu
                    if key == "ours":  # the rows this turn stored, read before the clock
                        rows = stored_rows(workdir / "sync.sqlite3", items)
                        for raw in raws.values():
                            raw.turn(rows)
        for raw in raws.values():
            raw.close()
    results = {key: (raw.items / raw.elapsed, raw.items / raw.cpu) for key, raw in raws.items()}
    for key, (elapsed, cpu) in timed.items():
        if elapsed:
            results[key] = (count / elapsed, count / cpu)
    return results, kinto_reason


def main() -> bool:
    count = BATCHES * BATCH
    load_before = os.getloadavg()[0]
    runs: dict[str, list] = {"ours": [], "raw_all": [], "raw_activity": [], "kinto": []}
    kinto_reason = ""
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            results, kinto_reason = bench_round(Path(tmp), count)
        for key, result in results.items():
            runs[key].append(result)
    kinto_ran = len(runs["kinto"]) == ROUNDS

    print(f"machine: {machine()}; load average before: {load_before:.1f}")
    print(
        f"Medians of {ROUNDS} rounds. "
        f"{count} new activities in {BATCH}-mutation pushes, gunicorn {WORKERS} workers, "
        f"{WORKERS} concurrent clients, SQLite WAL; ours, the raw inserts and Kinto take turns "
        f"({TURN} batches a client each), so each is measured across the whole run. 'Per CPU s' "
        "divides by the CPU time the server (or the inserting process) used."
    )
    print()
    print("| what | items/s | items per CPU s | ours ÷ it (wall, CPU; median of rounds) | target |")
    print("|---|---:|---:|---:|---|")

    def paired(other: str, index: int = 0) -> list[float]:
        """Ours ÷ the other, round by round (each pair measured seconds apart)."""
        pairs = zip(runs["ours"], runs[other], strict=True)
        return [mine[index] / theirs[index] for mine, theirs in pairs]

    def row(label: str, key: str, target: str = "") -> None:
        wall, cpu = median_of(runs[key])
        ratio = ""
        if key != "ours":
            ratio = f"{statistics.median(paired(key)):.2f}, {statistics.median(paired(key, 1)):.2f}"
        print(f"| {label} | {wall:,.0f} | {cpu:,.0f} | {ratio} | {target} |")

    row("sync push through gunicorn (ours)", "ours")
    row("raw sqlite3 executemany, equivalent rows (4 an item)", "raw_all", "(reference)")
    row("raw sqlite3 executemany, activity rows only", "raw_activity", "(reference)")
    rounds = ", ".join(f"{r:.2f}" for r in paired("raw_all"))
    if not kinto_ran:
        print(f"| Kinto batch endpoint, memory backend | unavailable: {kinto_reason} | | | |")
        print(f"\nOurs ÷ raw, round by round: {rounds}.")
        return True
    speedup = statistics.median(paired("kinto"))
    verdict = "met" if speedup >= TARGET_KINTO_SPEEDUP else "not met"
    row(
        "Kinto batch endpoint, memory backend, the same records",
        "kinto",
        f">= {TARGET_KINTO_SPEEDUP:.0f} ({verdict})",
    )
    kinto_rounds = ", ".join(f"{r:.1f}" for r in paired("kinto"))
    print(
        f"\nRound by round, ours ÷ raw: {rounds}; ours ÷ Kinto: {kinto_rounds}. "
        "The verdict uses the median of the Kinto ratios."
    )
    return True


if __name__ == "__main__":
    main()
