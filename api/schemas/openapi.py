"""Shared shapes in the OpenAPI document, so that generated clients get one type for each.

- Each fixed set of values (category, outcome, ...) is one enum component, and every field
  whose `OneOf` validator allows exactly that set refers to it, instead of repeating the enum
  inline (which gives a generated client one identical enum class per field).
- A field that also allows null is a `oneOf` of its shape and ``NULL`` (`{"nullable": true,
  "enum": [null]}`). OpenAPI 3.0.3 lets `nullable` add null only beside a `type` in the same
  object, so `{"nullable": true, "allOf": [<ref>]}` is null-free to a strict validator
  (openapi-core); the generated clients read this form as `<shape> | null` (Python `None |`).
- A field whose value is one of several shapes names them in its metadata, as
  ``metadata={"one_of": ("Activity", "Tombstone")}``, and is documented as a `oneOf`
  (one name: a reference to that shape; with null allowed, a `oneOf` of it and ``NULL``).
- Shapes that only appear inside such a `oneOf` are registered here by name.
- A `default: null` is left out (absent already means null); another default stays beside
  the reference.
- A field's vendor extensions (`x-…` keys in its metadata, such as `x-required-when`) stay
  beside the reference.
"""

from marshmallow import validate

from api.models.activity import AUDIENCES, CATEGORIES, OUTCOMES, REFERRALS, STATUSES
from api.models.school import SCHOOL_LEVELS
from api.models.survey import AUDIENCES as SURVEY_AUDIENCES
from api.models.user import ROLES

ENUMS: dict[str, tuple[str, ...]] = {
    "ActivityCategory": tuple(CATEGORIES),
    "Audience": AUDIENCES,
    "ActivityStatus": STATUSES,
    "Outcome": OUTCOMES,
    "ReferralTo": REFERRALS,
    "SchoolLevel": SCHOOL_LEVELS,
    "Role": ROLES,
    "SurveyAudience": SURVEY_AUDIENCES,
    "SurveyGrouping": ("identity", "audience", "school_level", "school"),
    "ReportFormat": ("json", "csv"),
}


# The value null, in OpenAPI 3.0.3 terms (`nullable` for the tools that read only that).
NULL = {"nullable": True, "enum": [None]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def enum_name(field) -> str | None:
    """The enum component that a field's OneOf validator allows exactly, if any."""
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            choices = set(validator.choices)
            for name, values in ENUMS.items():
                if choices == set(values):
                    return name
    return None


def shared_shapes(converter, field, ret: dict, **kwargs) -> dict:
    """apispec attribute function (runs last): a shared enum becomes a reference to its
    component, and a field naming its shapes becomes a reference to the one or a `oneOf`
    of the several; a field that allows null has ``NULL`` as one more choice."""
    if "default" in ret and ret["default"] is None:
        # Left out is null: a `default: null` only makes generators send it (or, in
        # TypeScript, require it).
        del ret["default"]
    shapes = field.metadata.get("one_of")
    if not shapes:
        name = enum_name(field)
        shapes = (name,) if name else ()
    if not shapes:
        return {}
    kept = {key: value for key, value in ret.items() if key.startswith("x-")}
    kept |= {key: ret[key] for key in ("description", "default") if key in ret}
    ret.clear()
    refs = [ref(name) for name in shapes]
    if field.allow_none:
        refs.append(NULL)
    if len(refs) > 1:
        return {"oneOf": refs} | kept
    return {"allOf": refs} | kept if kept else refs[0]  # beside a bare $ref keys are ignored


def document_shared_shapes(spec, ma_plugin) -> None:
    """Register the enum components, the shapes used only inside a `oneOf`, and the
    attribute function that refers to them."""
    from api.schemas.activity import ActivitySchema
    from api.schemas.sync import (
        PullPageSchema,
        PullResetSchema,
        TombstoneSchema,
    )

    for name, values in ENUMS.items():
        spec.components.schema(name, {"type": "string", "enum": list(values)})
    ma_plugin.converter.add_attribute_function(shared_shapes)
    spec.components.schema("Activity", schema=ActivitySchema)
    spec.components.schema("Tombstone", schema=TombstoneSchema)
    spec.components.schema("PullPage", schema=PullPageSchema)
    spec.components.schema("PullReset", schema=PullResetSchema)
    spec.components.schema(
        "Pull",
        {
            "oneOf": [ref("PullPage"), ref("PullReset")],
            "description": "A page of changes, or a reset: drop the cursor and pull from the "
            "start. A client must handle both.",
        },
    )
