"""Schools: who sees which, and admin changes."""

from sqlalchemy import Select, bindparam, func, select

from api.errors import Conflict, NotFound
from api.extensions import db
from api.models import School, User
from api.models.school import school_assignment
from api.services import audit

ALL_SCHOOLS_ROLES = ("program_manager", "admin")


def visible_schools(user: User) -> Select:
    """Officers see assigned schools, leaders the schools they lead, others all."""
    query = select(School).order_by(School.name, School.id)
    if user.role in ALL_SCHOOLS_ROLES:
        return query
    return query.join(school_assignment).where(school_assignment.c.user_id == user.id)


def writable_ids(user_id: int) -> frozenset[int]:
    """The schools an officer may log or edit activities at now: assigned and active
    (read at each write, so a reassignment or a closed school takes effect at once)."""
    return frozenset(db.session.scalars(_WRITABLE, {"user_id": user_id}))


_WRITABLE = (
    select(school_assignment.c.school_id)
    .join(School, School.id == school_assignment.c.school_id)
    .where(school_assignment.c.user_id == bindparam("user_id"), School.active.is_(True))
)


def get_visible_school(user: User, school_id: int) -> School:
    school = db.session.scalar(visible_schools(user).where(School.id == school_id))
    if school is None:
        raise NotFound("No such school.")
    return school


def _code_free(code: str, school_id: int | None = None) -> None:
    """Refuse a code another school has, in any case ("rjh" beside "RJH")."""
    taken = func.lower(School.code) == code.lower()
    existing = db.session.scalar(select(School.id).where(taken))
    if existing is not None and existing != school_id:
        raise Conflict("A school with this code already exists.", code="code_taken")


def create_school(data: dict, actor: User) -> School:
    _code_free(data["code"])
    school = School(**data)
    db.session.add(school)
    db.session.flush()
    audit.record("school_create", "school", school.id, actor_id=actor.id, changes=data)
    db.session.commit()
    return school


def update_school(school: School, data: dict, actor: User) -> School:
    if "code" in data:
        _code_free(data["code"], school.id)
    changes = {k: [getattr(school, k), v] for k, v in data.items() if getattr(school, k) != v}
    if changes:
        for key, (_, new) in changes.items():
            setattr(school, key, new)
        school.version += 1
        audit.record("school_update", "school", school.id, actor_id=actor.id, changes=changes)
    db.session.commit()
    return school
