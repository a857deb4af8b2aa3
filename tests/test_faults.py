"""Faults: a gunicorn worker killed mid-push, the database going away and coming back, and
SQLite under several workers and concurrent writers. These start real servers (slow)."""

import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text

from api.extensions import db
from api.services import audit
from tests.factories import PASSWORD, app_context, auth, make_school, make_user
from tests.live_server import free_port, live_server

pytestmark = pytest.mark.slow


# --- a tiny HTTP client (no retries, no pooling: what a phone on a bad network does) -------


class Client:
    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url
        self.token = token

    def request(self, method: str, path: str, body=None, timeout: float = 60):
        """(status, parsed JSON body or None, headers); raises OSError when the connection
        breaks before a response."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as error:
            raw, status, headers = error.read(), error.code, error.headers
        return status, (json.loads(raw) if raw else None), headers

    def login(self, email: str) -> "Client":
        status, body, _ = self.request(
            "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD}
        )
        assert status == 200, body
        return Client(self.base_url, body["access_token"])


def worker_pids(master_pid: int) -> list[int]:
    path = f"/proc/{master_pid}/task/{master_pid}/children"
    with open(path) as handle:
        return [int(pid) for pid in handle.read().split()]


def wait_for_workers(master_pid: int, count: int, exclude=(), timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in worker_pids(master_pid) if p not in exclude]
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError("gunicorn did not start its workers")


def mutation(school_id: int, **content) -> dict:
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    return {
        "mutation_id": str(uuid.uuid4()),
        "op": "upsert",
        "activity_id": str(uuid.uuid4()),
        "base_version": None,
        "data": {
            "school_id": school_id,
            "category": "mediation",
            "started_at": started.isoformat(),
            "duration_minutes": 30,
            "audience": ["students", "staff"],
            "participant_count": 4,
            "summary": "Mediated a disagreement between two groups at lunch.",
        }
        | content,
    }


def scalar(sql: str, **params):
    """One value read in a context (and transaction) of its own."""
    with app_context():
        return db.session.scalar(text(sql), params)


def assert_no_partial_records() -> None:
    """Every stored activity has its revision, its audit row and its sync record."""
    orphans = scalar(
        "SELECT count(*) FROM activity a WHERE NOT EXISTS "
        "(SELECT 1 FROM activity_revision r WHERE r.activity_id = a.id) "
        "OR NOT EXISTS (SELECT 1 FROM sync_mutation m WHERE m.activity_id = a.id)"
    )
    assert orphans == 0
    assert scalar("SELECT count(*) FROM activity_revision") == scalar(
        "SELECT count(*) FROM activity"
    )
    assert scalar("SELECT count(*) FROM audit_event WHERE action = 'activity_create'") == (
        scalar("SELECT count(*) FROM activity")
    )
    with app_context():
        checked, broken, reason = audit.verify_chain()
    assert broken is None, reason  # the audit hash chain has no gap and no torn row
    assert checked == scalar("SELECT count(*) FROM audit_event")


# --- a worker killed in the middle of a push -------------------------------------------------


def progress(path) -> str:
    return path.read_text(encoding="utf-8")


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.parametrize("kill_point", ["after_first_insert", "before_commit", "after_commit"])
def test_worker_killed_during_push_then_retry_no_duplicate_no_partial(
    app, database_url, tmp_path, kill_point
):
    school = make_school()
    school_id = school.id
    make_user("officer", [school], email="k@example.org")
    marks = tmp_path / "progress"
    marks.write_text("")
    env = {"FAULT_PROGRESS_FILE": str(marks), "FAULT_KILL_POINT": kill_point}
    hooks = ("--config", "python:tests.fault_hooks")
    with live_server(database_url, workers=1, extra_env=env, extra_args=hooks) as (url, server):
        officer = Client(url).login("k@example.org")
        batch = {
            "device_id": str(uuid.uuid4()),
            "mutations": [mutation(school_id) for _ in range(500)],
        }
        outcome: dict = {}

        def send():
            try:
                outcome["response"] = officer.request("POST", "/api/v1/sync/push", batch)
            except OSError as error:
                outcome["error"] = error

        (worker,) = wait_for_workers(server.pid, 1)
        sender = threading.Thread(target=send)
        sender.start()
        wait_for(lambda: progress(marks) == kill_point)  # the worker stopped right there
        os.kill(worker, signal.SIGKILL)
        sender.join(timeout=60)
        assert not sender.is_alive(), "the push never ended after its worker was killed"
        assert "response" not in outcome  # the client never got an answer
        assert isinstance(outcome["error"], OSError)

        # Whatever the kill interrupted, nothing is half-written: all or nothing.
        assert_no_partial_records()
        stored_after_kill = scalar("SELECT count(*) FROM activity")
        assert stored_after_kill == (500 if kill_point == "after_commit" else 0)

        # The client retries the very same push until the respawned worker answers.
        wait_for_workers(server.pid, 1, exclude={worker})
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body, _ = officer.request("POST", "/api/v1/sync/push", batch)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert status == 200, body
        statuses = {r["status"] for r in body["results"]}
        assert statuses == ({"duplicate"} if stored_after_kill else {"applied"})
        expected_ids = [m["activity_id"] for m in batch["mutations"]]
        assert [r["activity"]["id"] for r in body["results"]] == expected_ids

        # A second retry changes nothing either.
        status, again, _ = officer.request("POST", "/api/v1/sync/push", batch)
        assert status == 200
        assert {r["status"] for r in again["results"]} == {"duplicate"}

    assert scalar("SELECT count(*) FROM activity") == 500
    assert scalar("SELECT count(*) FROM sync_mutation") == 500
    assert scalar("SELECT max(version) FROM activity") == 1
    assert_no_partial_records()


# --- the database goes away and comes back ------------------------------------------------


class TcpProxy:
    """A loopback TCP forwarder we can cut (refuse and drop every connection) and restore,
    standing in for a PostgreSQL server that stops and starts again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.settimeout(0.2)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def assert_503(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] in ("service_unavailable", "database_unavailable")
    assert error["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_postgres_goes_away_clear_503s_then_recovers_without_restart(make_app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the network database case; SQLite is covered by the locked-file test")
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname, parts.port or 5432)
    proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    app = make_app(SQLALCHEMY_DATABASE_URI=proxied + "?connect_timeout=3")
    client = app.test_client()
    school = make_school()
    school_id = school.id
    officer = make_user("officer", [school])
    email, headers = officer.email, auth(officer)
    body = mutation(school_id)["data"]
    try:
        assert client.get("/api/v1/activities", headers=headers).status_code == 200
        assert client.get("/readyz").status_code == 200

        proxy.cut()
        # Pooled connections are dead and new ones are refused: clear 503s, every route.
        assert_503(client.get("/api/v1/activities", headers=headers))
        assert_503(client.post("/api/v1/activities", json=body, headers=headers))
        failed = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert_503(failed)
        assert failed.headers["Retry-After"]
        assert_503(client.get("/readyz"))
        assert client.get("/healthz").status_code == 200  # the process itself is fine

        proxy.start()
        # Back without a restart: the same app object serves again.
        created = client.post("/api/v1/activities", json=body, headers=headers)
        assert created.status_code == 201, created.json
        listed = client.get("/api/v1/activities", headers=headers)
        assert listed.status_code == 200
        assert [item["id"] for item in listed.json["items"]] == [created.json["id"]]
        assert client.get("/readyz").status_code == 200
    finally:
        proxy.cut()


@pytest.mark.sqlite_only
def test_sqlite_write_lock_held_too_long_503_then_recovers(make_app, database_url):
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=300)
    client = app.test_client()
    school = make_school()
    school_id = school.id
    officer = make_user("officer", [school])
    headers = auth(officer)
    body = mutation(school_id)["data"]
    blocker = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with blocker.connect() as connection:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")
        try:
            blocked = client.post("/api/v1/activities", json=body, headers=headers)
            assert_503(blocked)
            assert blocked.headers["Retry-After"]
            assert "locked" not in blocked.get_data(as_text=True)
        finally:
            connection.exec_driver_sql("ROLLBACK")
    blocker.dispose()
    created = client.post("/api/v1/activities", json=body, headers=headers)
    assert created.status_code == 201, created.json
    assert scalar("SELECT count(*) FROM activity") == 1


# --- SQLite: 4 workers, 8 concurrent writers -------------------------------------------------


@pytest.mark.sqlite_only
def test_sqlite_four_workers_eight_writers_no_lock_errors_every_record_once(app, database_url):
    schools = [make_school() for _ in range(2)]
    officers = [
        make_user("officer", [schools[n % 2]], email=f"w-officer{n}@example.org") for n in range(6)
    ]
    leaders = [
        make_user("school_leader", [schools[n]], email=f"w-leader{n}@example.org") for n in range(2)
    ]
    emails = [user.email for user in officers + leaders]
    school_ids = [school.id for school in schools]
    officer_ids = {user.id for user in officers}
    per_officer = 15
    problems: list = []
    posted: dict[str, int] = {}
    confirmed: set[str] = set()
    lock = threading.Lock()
    officers_done = threading.Event()

    def check(status, body, what):
        if status >= 500 or "locked" in json.dumps(body or {}):
            problems.append((what, status, body))

    with live_server(database_url, workers=4) as (url, _server):
        clients = [Client(url).login(email) for email in emails]

        def officer_writer(n: int):
            client = clients[n]
            for i in range(per_officer):
                body = {"id": str(uuid.uuid4())} | mutation(school_ids[n % 2])["data"]
                status, created, _ = client.request("POST", "/api/v1/activities", body)
                check(status, created, "create")
                if status == 201:
                    with lock:
                        posted[body["id"]] = created["officer_id"]
                if i % 3 == 0:  # a retried POST (lost response) is idempotent
                    status, again, _ = client.request("POST", "/api/v1/activities", body)
                    check(status, again, "retry")
                    if status != 200:
                        problems.append(("retry not idempotent", status, again))
                if i % 4 == 0 and status == 201:
                    path = f"/api/v1/activities/{body['id']}"
                    status, edited, _ = client.request("PATCH", path, {"duration_minutes": 50})
                    check(status, edited, "edit")

        def leader_writer(n: int):
            client = clients[6 + n]
            while True:
                finished = officers_done.is_set()
                status, page, _ = client.request(
                    "GET", "/api/v1/activities?status=submitted&limit=500"
                )
                check(status, page, "list")
                ids = [item["id"] for item in (page or {}).get("items", [])]
                if ids:
                    status, result, _ = client.request(
                        "POST", "/api/v1/activities/review", {"ids": ids[:20], "action": "confirm"}
                    )
                    check(status, result, "bulk review")
                    for item in (result or {}).get("results", []):
                        if item.get("ok"):
                            with lock:
                                confirmed.add(str(item["id"]))
                for activity_id in ids[20:25]:
                    path = f"/api/v1/activities/{activity_id}/confirm"
                    status, one, _ = client.request("POST", path, {"note": "Seen it happen."})
                    check(status, one, "confirm")
                    if status == 200:
                        with lock:
                            confirmed.add(activity_id)
                if finished and not ids:
                    return

        writers = [threading.Thread(target=officer_writer, args=(n,)) for n in range(6)]
        reviewers = [threading.Thread(target=leader_writer, args=(n,)) for n in range(2)]
        for thread in writers + reviewers:
            thread.start()
        for thread in writers:
            thread.join(timeout=300)
        officers_done.set()
        for thread in reviewers:
            thread.join(timeout=300)
        assert not any(t.is_alive() for t in writers + reviewers)

    assert problems == []
    assert len(posted) == 6 * per_officer
    with app_context():
        query = text("SELECT id, officer_id, status, version FROM activity")
        rows = db.session.execute(query).all()
    stored = {str(uuid.UUID(str(row.id))): row for row in rows}
    assert set(stored) == set(posted)  # every record present, exactly once
    assert {stored[i].officer_id for i in posted} == officer_ids
    assert all(stored[i].officer_id == officer_id for i, officer_id in posted.items())
    assert all(stored[i].status == "confirmed" for i in posted)
    assert confirmed == set(posted)
    revisions = scalar("SELECT count(*) FROM activity_revision")
    assert revisions == sum(row.version for row in rows)  # one revision per version
    with app_context():
        _, broken, reason = audit.verify_chain()
    assert broken is None, reason  # concurrent writers kept the audit hash chain whole
