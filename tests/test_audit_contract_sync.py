"""Contract audit: the sync push, as a client holding only api.md sees it."""

from api.models import Activity
from tests.factories import count
from tests.test_sync_support import push, upsert


def test_push_with_a_null_item_rejects_that_item_and_applies_the_others(client, team):
    """api.md: "Each mutation is applied on its own (one bad item does not sink the
    others) ... The response has one result a mutation, same order". A null item is one
    bad item: its own `rejected` result, not a 422 for the whole push."""
    good = upsert(team["school"])

    response = push(client, team["officer"], [None, good])

    assert response.status_code == 200, response.json
    first, second = response.json["results"]
    assert first["status"] == "rejected"
    assert first["error"]["code"] == "validation_error"
    assert second["mutation_id"] == good["mutation_id"]
    assert second["status"] == "applied"
    assert count(Activity) == 1
