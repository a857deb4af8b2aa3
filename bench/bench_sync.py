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
"""

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
KINTO_VENV = ROOT / "bench" / ".kinto-venv"
BATCH = 500
BATCHES = int(os.environ.get("BENCH_SYNC_BATCHES", "12"))
ROUNDS = int(os.environ.get("BENCH_SYNC_ROUNDS", "3"))
WORKERS = int(os.environ.get("BENCH_SYNC_WORKERS", "2"))
TARGET_RAW_RATIO = 0.5
SECRETS = {
    "SECRET_KEY": "bench-secret-0123456789-0123456789",
    "JWT_SECRET_KEY": "bench-jwt-secret-0123456789-0123456789",
}
TARGET_KINTO_SPEEDUP = 20.0
# The load generator shares the machine: it encodes and decodes with orjson (for both
# servers alike) so that less of the CPU goes to the clients.
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


def measure(work: list, send, clients: int, server_pid: int | None) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) to send every batch."""
    pids = process_tree(server_pid) if server_pid else []
    cpu_before = cpu_seconds(pids)
    elapsed = push_concurrently(work, send, clients)
    return elapsed, cpu_seconds(pids) - cpu_before


def push_concurrently(work: list, send, clients: int) -> float:
    """Send every batch, ``clients`` at a time; return the wall time in seconds."""
    queue = list(enumerate(work))
    lock = threading.Lock()
    failures: list[str] = []

    def client():
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                _, batch = queue.pop(0)
            try:
                send(session, batch)
            except Exception as error:  # reported below, the run is then invalid
                failures.append(repr(error))
                return

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"ingest failed: {failures[0]}")
    return elapsed


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


def bench_ours(workdir: Path, count: int) -> tuple[tuple[float, float], list[dict]]:
    """((items per wall second, items per server CPU second), the records pushed) for our
    push endpoint."""
    from tests.live_server import live_server

    path = workdir / "sync.sqlite3"
    url = f"sqlite:///{path}"
    school_id, token = prepare_database(url)
    shutil.copyfile(path, workdir / "empty.sqlite3")  # the raw baseline starts from here
    records = make_records(count, school_id)
    batches = batches_of(mutations_for(records))
    headers = {"Authorization": f"Bearer {token}", **JSON}
    device = str(uuid.uuid4())

    warm = batches_of(mutations_for(make_records(WORKERS * 20, school_id)), 20)
    env = {"JWT_ACCESS_MINUTES": "120", **SECRETS}
    with live_server(url, workers=WORKERS, extra_env=env) as (base, server):

        def send(session, batch):
            body = {"device_id": device, "mutations": batch}
            response = session.post(
                f"{base}/api/v1/sync/push", data=dumps(body), headers=headers, timeout=300
            )
            response.raise_for_status()
            statuses = {r["status"] for r in orjson.loads(response.content)["results"]}
            if statuses != {"applied"}:
                raise RuntimeError(f"unexpected results {statuses}")

        push_concurrently(warm, send, WORKERS)  # every worker has imported and connected
        elapsed, cpu = measure(batches, send, WORKERS, server.pid)
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT count(*) FROM activity").fetchone()[0]
    if stored != count + WORKERS * 20:
        raise RuntimeError(f"{stored} activities stored, {count} pushed")
    return (count / elapsed, count / cpu), records


# --- raw sqlite3 -------------------------------------------------------------------------


COLUMNS = {
    "activity": "id, officer_id, school_id, category, started_at, duration_minutes, audience, "
    "participant_count, summary, referral_to, outcome, status, review_note, reviewed_by, "
    "reviewed_at, version, content_version, change_seq, deleted_at, created_at, updated_at",
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


def bench_raw(
    empty_database: Path, rows: dict[str, list[tuple]], tables: tuple[str, ...]
) -> tuple[float, float]:
    """(items per wall second, per CPU second) for executemany of the given row kinds, a
    transaction per batch."""
    path = empty_database.with_name(f"raw-{len(tables)}.sqlite3")
    shutil.copyfile(empty_database, path)
    count = len(rows["activity"])
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    started, cpu_started = time.perf_counter(), time.process_time()
    for first in range(0, count, BATCH):
        connection.execute("BEGIN IMMEDIATE")
        for table in tables:
            connection.executemany(INSERTS[table], rows[table][first : first + BATCH])
        connection.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    stored = connection.execute("SELECT count(*) FROM activity").fetchone()[0]
    connection.close()
    if stored != count:
        raise RuntimeError(f"raw insert stored {stored} of {count}")
    return count / elapsed, count / cpu


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


def bench_kinto(workdir: Path, records: list[dict]) -> tuple[tuple[float, float] | None, str]:
    """((items per wall second, per server CPU second), "") or (None, why not)."""
    from tests.live_server import free_port

    executable, reason = kinto_executable()
    if executable is None:
        return None, reason
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
                return None, f"kinto did not start: {error.strip()[-200:]}"
            time.sleep(0.2)
        collection = f"{base}/buckets/bench/collections/activities"
        requests.put(f"{base}/buckets/bench", json={}, auth=auth, timeout=30).raise_for_status()
        requests.put(collection, json={}, auth=auth, timeout=30).raise_for_status()
        path = "/buckets/bench/collections/activities/records/"

        def send(session, batch):
            body = {
                "defaults": {"method": "PUT"},
                "requests": [
                    {
                        "path": path + record["id"],
                        "body": {"data": {k: v for k, v in record.items() if k != "id"}},
                    }
                    for record in batch
                ],
            }
            response = session.post(
                f"{base}/batch", data=dumps(body), headers=JSON, auth=auth, timeout=600
            )
            response.raise_for_status()
            statuses = {r["status"] for r in orjson.loads(response.content)["responses"]}
            if statuses != {201}:
                raise RuntimeError(f"kinto answered {statuses}")

        elapsed, cpu = measure(batches_of(records), send, WORKERS, process.pid)
        listing = requests.head(f"{collection}/records", auth=auth, timeout=60)
        stored = int(listing.headers.get("Total-Objects") or listing.headers.get("Total-Records"))
        if stored != len(records):
            return None, f"kinto stored {stored} of {len(records)} records"
        return (len(records) / elapsed, len(records) / cpu), ""
    finally:
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


def main() -> bool:
    count = BATCHES * BATCH
    load_before = os.getloadavg()[0]
    runs: dict[str, list] = {"ours": [], "raw_all": [], "raw_activity": [], "kinto": []}
    kinto_reason = ""
    every_row = ("activity", "revision", "audit", "mutation")
    # Each round measures all of them, back to back: a shared machine's speed drifts, and
    # the median of the rounds is steadier than any one run.
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            workdir = Path(tmp)
            ours, records = bench_ours(workdir, count)
            runs["ours"].append(ours)
            rows = stored_rows(workdir / "sync.sqlite3", count)
            runs["raw_all"].append(bench_raw(workdir / "empty.sqlite3", rows, every_row))
            runs["raw_activity"].append(bench_raw(workdir / "empty.sqlite3", rows, ("activity",)))
            kinto, kinto_reason = bench_kinto(workdir, records)  # the very same records
            if kinto is not None:
                runs["kinto"].append(kinto)
    kinto_ran = len(runs["kinto"]) == ROUNDS

    print(f"machine: {machine()}; load average before: {load_before:.1f}")
    print(
        f"Medians of {ROUNDS} rounds. "
        f"{count} new activities in {BATCH}-mutation pushes, gunicorn {WORKERS} workers, "
        f"{WORKERS} concurrent clients, SQLite WAL. 'per CPU s' divides by the CPU time the "
        "server (or the inserting process) used, which other load on the machine does not skew."
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

    raw_ratio = statistics.median(paired("raw_all"))
    row("sync push through gunicorn (ours)", "ours")
    row(
        "raw sqlite3 executemany, equivalent rows (4 an item)",
        "raw_all",
        f">= {TARGET_RAW_RATIO} ({'met' if raw_ratio >= TARGET_RAW_RATIO else 'not met'})",
    )
    row("raw sqlite3 executemany, activity rows only", "raw_activity", "(reference)")
    rounds = ", ".join(f"{r:.2f}" for r in paired("raw_all"))
    if not kinto_ran:
        print(f"| Kinto batch endpoint, memory backend | unavailable: {kinto_reason} | | | |")
        print(f"\nOurs ÷ raw, round by round: {rounds} (the verdict uses their median).")
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
        "The verdicts use the medians of these."
    )
    return True


if __name__ == "__main__":
    main()
