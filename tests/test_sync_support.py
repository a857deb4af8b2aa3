"""Helpers the sync tests share (this module holds no tests): build mutations, push, pull."""

import uuid

from api.models import School, User
from tests.factories import activity_body, auth

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
DEVICE = str(uuid.uuid4())


def content(school: School, **overrides) -> dict:
    """Activity content fields, as a device sends them in `data`."""
    return activity_body(school, **overrides)


def upsert(
    school: School | None = None,
    *,
    activity_id: str | None = None,
    base: int | None = None,
    data: dict | None = None,
    **overrides,
) -> dict:
    """An upsert mutation; new (base null) with fresh ids unless told otherwise."""
    return {
        "mutation_id": str(uuid.uuid4()),
        "op": "upsert",
        "activity_id": activity_id or str(uuid.uuid4()),
        "base_version": base,
        "data": data if data is not None else content(school, **overrides),
    }


def remove(activity_id: str, base: int | None = None) -> dict:
    return {
        "mutation_id": str(uuid.uuid4()),
        "op": "delete",
        "activity_id": activity_id,
        "base_version": base,
    }


def push(client, user: User, mutations: list, device_id: str = DEVICE, headers=None):
    body = {"device_id": device_id, "mutations": mutations}
    return client.post(PUSH, json=body, headers=headers or auth(user))


def pull(client, user: User, since: str | None = None, limit: int | None = None, headers=None):
    params = {}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    return client.get(PULL, query_string=params, headers=headers or auth(user))


def pull_all(client, user: User, since: str | None = None, limit: int = 100) -> tuple[list, str]:
    """Pull until has_more is false; return every change seen and the final cursor."""
    headers = auth(user)
    changes = []
    while True:
        response = pull(client, user, since, limit, headers=headers)
        assert response.status_code == 200, response.json
        assert "reset" not in response.json, response.json
        changes.extend(response.json["changes"])
        since = response.json["cursor"]
        if not response.json["has_more"]:
            return changes, since
