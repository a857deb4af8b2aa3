"""The three-way merge of a pushed change made on an out-of-date copy.

A device sends the version its change was made on (``base_version``) and the fields the
officer changed. The server knows the content at that version from the revision history,
so it can tell, field by field, who changed what since:

- the device's changes: the fields it sends whose value differs from the base;
- the server's changes: the content fields whose current value differs from the base.

Where both changed the same field to different values, the change is a ``conflict``; else
the device's changes are applied on top of the current copy (fields it sends unchanged from
the base are not, so a whole record sent on an old base reverts nothing). Reviews
(confirm/dispute) change no content field and so never conflict.

``decide`` is the one rule, pure (no database), on content in its JSON form;
``content_at`` rebuilds the content at a version from the history (read by outbox.read).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from api.models.activity import CONTENT_FIELDS
from api.services import writes


@dataclass(frozen=True)
class Decision:
    """``conflict``: the fields both sides changed to different values (empty: none);
    ``changes``: the device's fields to write on top of the current copy."""

    conflict: frozenset[str] = frozenset()
    changes: Mapping[str, object] = field(default_factory=dict)


def decide(
    base: Mapping[str, object] | None,
    current: Mapping[str, object] | None,
    mine: Mapping[str, object] | None,
) -> Decision:
    """Judge one change three ways.

    ``base``: the content at the change's base version; None when the server cannot know it
    (then every field counts as changed on the server). ``current``: the content now; None
    when the activity is deleted. ``mine``: the fields the change sends; None for a delete.
    A delete conflicts with any content change since its base; an edit conflicts with a
    deletion. Values compare as JSON (see ``as_json``)."""
    if current is None:  # deleted on the server
        return Decision() if mine is None else Decision(conflict=frozenset({"deleted"}))
    if mine is None:  # a delete: anything changed since the base was not seen
        if base is None:
            return Decision(conflict=frozenset(CONTENT_FIELDS))
        theirs = {name for name in CONTENT_FIELDS if base.get(name) != current.get(name)}
        return Decision(conflict=frozenset(theirs))
    if base is None:
        changed = set(mine)
        theirs = set(CONTENT_FIELDS)
    else:
        changed = {name for name in mine if mine[name] != base.get(name)}
        theirs = {name for name in CONTENT_FIELDS if base.get(name) != current.get(name)}
    clash = {name for name in changed & theirs if mine[name] != current.get(name)}
    if clash:
        return Decision(conflict=frozenset(clash))
    return Decision(
        changes={name: mine[name] for name in changed if mine[name] != current.get(name)}
    )


def as_json(content: Mapping[str, object]) -> dict:
    """Content as the history keeps it (times as RFC 3339 text in UTC), so values compare
    equal exactly when they are the same."""
    return {name: writes.as_json(value) for name, value in content.items()}


def content_at(row: dict, version: int, revisions: list[tuple[int, dict]]) -> dict | None:
    """The content (JSON form) of an activity's row at ``version``, walked back from now
    through its revisions, (version, changes) pairs including every one after ``version``;
    None when the history cannot tell (a version it never had, or revisions missing)."""
    content = as_json({name: row[name] for name in CONTENT_FIELDS})
    if version == row["version"]:
        return content
    if not 1 <= version < row["version"]:
        return None
    later = sorted((pair for pair in revisions if pair[0] > version), reverse=True)
    if [number for number, _ in later] != list(range(row["version"], version, -1)):
        return None
    for _, changes in later:
        for name, change in (changes or {}).items():
            if name in content and isinstance(change, dict) and "from" in change:
                content[name] = change["from"]
    return content
