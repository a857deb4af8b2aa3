"""Concurrent pushes against real gunicorn workers while a leader pulls in a loop."""

import random
import threading
import uuid
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from api.extensions import db
from api.models import Activity, ActivityRevision, SyncMutation
from tests.factories import PASSWORD, make_school, make_user
from tests.live_server import live_server
from tests.test_sync_support import content, upsert

OFFICERS = 4
BATCHES = 5
BATCH_SIZE = 30


def _login(base: str, email: str) -> dict:
    response = requests.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _outbox(school, rng: random.Random) -> list[list[dict]]:
    """New activities, plus edits of ones created in earlier batches."""
    batches, created = [], []
    for _ in range(BATCHES):
        batch = [upsert(school, duration_minutes=rng.randint(1, 720)) for _ in range(BATCH_SIZE)]
        for earlier in rng.sample(created, min(3, len(created))):
            earlier["version"] += 1
            batch.append(
                upsert(
                    activity_id=earlier["id"],
                    base=earlier["version"] - 1,
                    data=content(school, participant_count=earlier["version"]),
                )
            )
        created.extend({"id": m["activity_id"], "version": 1} for m in batch[:BATCH_SIZE])
        batches.append(batch)
    return batches


@pytest.mark.slow
def test_concurrent_pushes_while_pulling_lose_and_duplicate_nothing(app, database_url):
    school = make_school()
    officers = [make_user("officer", [school]) for _ in range(OFFICERS)]
    leader = make_user("school_leader", [school])
    emails = [o.email for o in officers]
    leader_email = leader.email

    failures: list[str] = []
    seen: list[tuple[str, int]] = []
    pushed_ids: set[str] = set()
    done = threading.Event()

    with live_server(database_url, workers=3) as (base, _):

        def device(email: str, seed: int) -> None:
            rng = random.Random(seed)
            headers = _login(base, email)
            device_id = str(uuid.uuid4())
            session = requests.Session()
            for batch in _outbox(school, rng):
                pushed_ids.update(m["activity_id"] for m in batch)
                body = {"device_id": device_id, "mutations": batch}
                # Every push is sent twice, as a client does when a response is lost.
                for attempt in range(2):
                    response = session.post(
                        f"{base}/api/v1/sync/push", json=body, headers=headers, timeout=120
                    )
                    if response.status_code != 200:
                        failures.append(f"push {response.status_code}: {response.text[:200]}")
                        return
                    statuses = {r["status"] for r in response.json()["results"]}
                    expected = {"applied"} if attempt == 0 else {"duplicate"}
                    if statuses != expected:
                        failures.append(f"attempt {attempt}: {statuses}")

        def puller() -> None:
            headers = _login(base, leader_email)
            session = requests.Session()
            cursor, quiet_after_done = None, 0
            while quiet_after_done < 2:
                finished = done.is_set()
                params = {"limit": 37, **({"since": cursor} if cursor else {})}
                response = session.get(
                    f"{base}/api/v1/sync/pull", params=params, headers=headers, timeout=60
                )
                if response.status_code != 200 or "reset" in response.json():
                    failures.append(f"pull {response.status_code}: {response.text[:200]}")
                    return
                body = response.json()
                seen.extend((c["id"], c["version"]) for c in body["changes"])
                cursor = body["cursor"]
                if finished and not body["has_more"]:
                    quiet_after_done += 1

        reader = threading.Thread(target=puller)
        writers = [
            threading.Thread(target=device, args=(email, n)) for n, email in enumerate(emails)
        ]
        reader.start()
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=300)
        done.set()
        reader.join(timeout=120)
        stuck = [thread.name for thread in (*writers, reader) if thread.is_alive()]
        assert not stuck, f"still running after the join timeout: {stuck}"

    assert not failures, failures[:5]
    expected_count = OFFICERS * BATCHES * BATCH_SIZE
    assert len(pushed_ids) == expected_count
    with app.app_context():
        stored = {str(i) for i in db.session.scalars(select(Activity.id))}
        # Every version exactly once in history; one stored result per applied mutation.
        versions = dict(db.session.execute(select(Activity.id, Activity.version)).all())
        revisions = dict(
            db.session.execute(
                select(ActivityRevision.activity_id, func.count()).group_by(
                    ActivityRevision.activity_id
                )
            ).all()
        )
        mutations = db.session.scalar(select(func.count()).select_from(SyncMutation))
    assert stored == pushed_ids
    assert revisions == versions
    edits = sum(v - 1 for v in versions.values())
    assert mutations == expected_count + edits
    # The puller saw every record, and never the same version of one twice.
    assert {activity_id for activity_id, _ in seen} == pushed_ids
    assert not [pair for pair, n in Counter(seen).items() if n > 1]
    latest = {}
    for activity_id, version in seen:
        latest[activity_id] = version
    assert latest == {str(k): v for k, v in versions.items()}
