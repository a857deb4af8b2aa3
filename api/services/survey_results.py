"""Survey results from the tallies: participation, agree and disagree shares, means, and each
group against everyone else, with small cells suppressed (no parameter turns it off).

A group is shown only when it and the rest each have at least ``k`` answers to the item.
Groups that partition the selection (audience, school level, school) sum to the overall
figure, so one hidden group would follow from the others: a further group is hidden then
(the smallest), as complementary suppression does. Self-described groups overlap, so the
overall figure and the group give only the rest, which is itself at least ``k``.
"""

import csv
import io
from collections import defaultdict
from typing import NamedTuple

import orjson
from sqlalchemy import Text, cast, select

from api.errors import NotFound
from api.extensions import db
from api.models import School, User
from api.models.school import SCHOOL_LEVELS
from api.models.survey import (
    AUDIENCES,
    IDENTITY_KEYS,
    ITEM_KEYS,
    PREFER_NOT,
    SurveyRound,
    SurveyTally,
)
from api.services import survey_instrument
from api.services.surveys import ALL_ROUNDS_ROLES

IDENTITY_GROUPS = (*IDENTITY_KEYS, PREFER_NOT)
PARTITIONS = ("audience", "school_level", "school")
# Groups listed in their vocabulary's order (grades 4-6 before 10-12), schools by id.
GROUP_ORDER = {"audience": AUDIENCES, "school_level": SCHOOL_LEVELS}


class Tally(NamedTuple):
    school_id: int
    audience: str
    grp: str
    issued: int
    responses: int
    counts: dict
    level: str


def _empty() -> dict:
    return {key: {"n": 0, "agree": 0, "disagree": 0, "total": 0} for key in ITEM_KEYS}


def _add(into: dict, counts: dict) -> None:
    for key in ITEM_KEYS:
        for name, value in counts[key].items():
            into[key][name] += value


def _school_scope(user: User, survey: SurveyRound, school_id: int | None) -> list[int]:
    allowed = set(survey.school_ids)
    if user.role not in ALL_ROUNDS_ROLES:
        allowed &= set(user.school_ids)
    if school_id is not None:
        if school_id not in allowed:
            raise NotFound("This school is not part of the survey round.")
        return [school_id]
    return sorted(allowed)


def _tallies(survey: SurveyRound, school_ids: list[int], audience: str | None) -> list:
    tally = SurveyTally.__table__.c
    # Plain rows, not ORM objects: a round has a few rows per school and audience.
    query = (
        select(
            tally.school_id,
            tally.audience,
            tally.grp,
            tally.issued,
            tally.responses,
            # As text, parsed below with orjson: most of the time went in decoding it.
            cast(tally.counts, Text).label("counts"),
            School.level,
        )
        .join(School, School.id == tally.school_id)
        .where(tally.round_id == survey.id, tally.school_id.in_(school_ids))
    )
    if audience:
        query = query.where(tally.audience == audience)
    return [
        Tally(
            row.school_id,
            row.audience,
            row.grp,
            row.issued,
            row.responses,
            orjson.loads(row.counts),
            row.level,
        )
        for row in db.session.execute(query)
    ]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _figures(cell: dict) -> dict:
    n = cell["n"]
    return {
        "n": n,
        "agree_pct": _pct(cell["agree"], n),
        "disagree_pct": _pct(cell["disagree"], n),
        "mean": round(cell["total"] / n, 2) if n else None,
    }


def _hidden_figures() -> dict:
    return {"n": None, "agree_pct": None, "disagree_pct": None, "mean": None}


def _minus(whole: dict, part: dict) -> dict:
    return {name: whole[name] - part[name] for name in whole}


def _partition_hidden(ns: dict, total: int, k: int, overall_shown: bool) -> set:
    """Groups to hide: small ones, ones whose rest is small, and complements."""
    hidden = {g for g, n in ns.items() if n < k or total - n < k}
    while overall_shown:
        nonzero = [g for g in hidden if ns[g] > 0]
        if len(nonzero) != 1:
            break
        visible = [g for g in ns if g not in hidden and ns[g] > 0]
        if not visible:
            break
        hidden.add(min(visible, key=lambda g: (ns[g], str(g))))
    return hidden


def _group_rows(key: str, groups: dict, overall: dict, k: int, partition: bool, shown: bool):
    whole = overall[key]
    ns = {name: counts[key]["n"] for name, counts in groups.items()}
    if partition:
        hidden = _partition_hidden(ns, whole["n"], k, shown)
    else:
        hidden = {g for g, n in ns.items() if not shown or n < k or whole["n"] - n < k}
    rows = []
    for name, counts in groups.items():
        if name in hidden:
            rows.append({"group": name, **_hidden_figures(), "gap_pts": None, "suppressed": True})
            continue
        mine = _figures(counts[key])
        rest = _figures(_minus(whole, counts[key]))
        gap = round(mine["agree_pct"] - rest["agree_pct"], 1)
        rows.append({"group": name, **mine, "gap_pts": gap, "suppressed": False})
    return rows


def _groups(rows: list, group_by: str) -> dict:
    groups: dict = defaultdict(_empty)
    for tally in rows:
        if group_by == "identity":
            if tally.grp != "all":
                _add(groups[tally.grp], tally.counts)
            continue
        if tally.grp != "all":
            continue
        name = {"audience": tally.audience, "school_level": tally.level, "school": tally.school_id}
        _add(groups[name[group_by]], tally.counts)
    if group_by == "identity":
        return {name: groups[name] for name in IDENTITY_GROUPS}
    order = GROUP_ORDER.get(group_by)
    return dict(sorted(groups.items(), key=lambda item: order.index(item[0]) if order else item[0]))


def _participation(rows: list) -> list[dict]:
    cells = []
    for tally in rows:
        if tally.grp == "all":
            cells.append(
                {
                    "school_id": tally.school_id,
                    "audience": tally.audience,
                    "issued": tally.issued,
                    "responses": tally.responses,
                    "response_rate": _pct(tally.responses, tally.issued),
                }
            )
    return sorted(cells, key=lambda c: (c["school_id"], c["audience"]))


def results(user: User, survey: SurveyRound, query: dict, k: int) -> dict:
    """The round's results for this user's schools and the query's filters."""
    k = max(k, 1)  # an empty group is never shown, whatever the setting
    school_ids = _school_scope(user, survey, query.get("school_id"))
    rows = _tallies(survey, school_ids, query.get("audience"))
    overall = _empty()
    responses = 0
    for tally in rows:
        if tally.grp == "all":
            _add(overall, tally.counts)
            responses += tally.responses
    group_by = query.get("group_by") or "identity"
    groups = _groups(rows, group_by)
    texts = {item["key"]: item["text"] for item in survey_instrument.items_for("students_7_9")}
    items = []
    for key in ITEM_KEYS:
        shown = responses >= k and overall[key]["n"] >= k
        partition = group_by in PARTITIONS
        items.append(
            {
                "key": key,
                "text": texts[key],
                "overall": _figures(overall[key]) if shown else _hidden_figures(),
                "groups": _group_rows(key, groups, overall, k, partition, shown),
            }
        )
    return {
        "survey_id": survey.id,
        "responses": responses,
        "suppress_below": k,
        "group_by": group_by,
        "participation": _participation(rows),
        "items": items,
    }


CSV_FIELDS = ("item", "group", "n", "agree_pct", "disagree_pct", "mean", "gap_pts", "suppressed")


def as_csv(report: dict) -> str:
    """One row for each item's overall figures and one for each of its groups."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for item in report["items"]:
        overall = item["overall"]
        writer.writerow(
            [item["key"], "overall", *_cells(overall), "", str(overall["n"] is None).lower()]
        )
        for group in item["groups"]:
            writer.writerow(
                [
                    item["key"],
                    group["group"],
                    *_cells(group),
                    "" if group["gap_pts"] is None else group["gap_pts"],
                    str(group["suppressed"]).lower(),
                ]
            )
    return out.getvalue()


def _cells(figures: dict) -> list:
    return ["" if figures[name] is None else figures[name] for name in CSV_FIELDS[2:6]]
