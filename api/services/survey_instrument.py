"""The fixed instrument `sro-climate-v1`: its items, scale and self-description options, in
English and French, written plainly (grade 4 reading level)."""

from api.models.survey import IDENTITY_KEYS, ITEM_KEYS, PREFER_NOT

STUDENT_ITEMS = {
    "safe_at_school": {
        "en": "I feel safe at school.",
        "fr": "Je me sens en sécurité à l'école.",
    },
    "safe_with_officer": {
        "en": "I feel safe when the school resource officer is at my school.",
        "fr": "Je me sens en sécurité quand l'agent de police de l'école est à mon école.",
    },
    "would_ask_for_help": {
        "en": "If I had a problem, I would feel comfortable asking the school resource "
        "officer for help.",
        "fr": "Si j'avais un problème, je serais à l'aise de demander de l'aide à l'agent "
        "de police de l'école.",
    },
    "treated_fairly": {
        "en": "The school resource officer treats students fairly.",
        "fr": "L'agent de police de l'école traite les élèves de façon juste.",
    },
    "knows_role": {
        "en": "I know why the school resource officer is at my school.",
        "fr": "Je sais pourquoi l'agent de police de l'école est à mon école.",
    },
}

# Staff and families answer about the students at the school.
ADULT_ITEMS = {
    "safe_at_school": {
        "en": "Students at this school feel safe at school.",
        "fr": "Les élèves de cette école se sentent en sécurité à l'école.",
    },
    "safe_with_officer": {
        "en": "Students at this school feel safe when the school resource officer is there.",
        "fr": "Les élèves de cette école se sentent en sécurité quand l'agent de police de "
        "l'école est là.",
    },
    "would_ask_for_help": {
        "en": "If students at this school had a problem, they would feel comfortable asking "
        "the school resource officer for help.",
        "fr": "Si les élèves de cette école avaient un problème, ils seraient à l'aise de "
        "demander de l'aide à l'agent de police de l'école.",
    },
    "treated_fairly": {
        "en": "The school resource officer treats students fairly.",
        "fr": "L'agent de police de l'école traite les élèves de façon juste.",
    },
    "knows_role": {
        "en": "Students at this school know why the school resource officer is there.",
        "fr": "Les élèves de cette école savent pourquoi l'agent de police de l'école est là.",
    },
}

SCALE = [
    {"value": 1, "text": {"en": "Strongly disagree", "fr": "Pas du tout d'accord"}},
    {"value": 2, "text": {"en": "Disagree", "fr": "Pas d'accord"}},
    {"value": 3, "text": {"en": "Not sure", "fr": "Pas certain"}},
    {"value": 4, "text": {"en": "Agree", "fr": "D'accord"}},
    {"value": 5, "text": {"en": "Strongly agree", "fr": "Tout à fait d'accord"}},
]

IDENTITY_TEXT = {
    "indigenous": {
        "en": "Indigenous (First Nations, Métis or Inuit)",
        "fr": "Autochtone (Premières Nations, Métis ou Inuit)",
    },
    "black": {"en": "Black", "fr": "Noir ou Noire"},
    "racialized_other": {
        "en": "Another racialized group",
        "fr": "Un autre groupe racisé",
    },
    "2slgbtq": {"en": "2SLGBTQ+", "fr": "2ELGBTQ+"},
    "disability": {"en": "A person with a disability", "fr": "Une personne handicapée"},
    PREFER_NOT: {"en": "I prefer not to say", "fr": "Je préfère ne pas le dire"},
}

assert tuple(STUDENT_ITEMS) == ITEM_KEYS == tuple(ADULT_ITEMS)
assert tuple(IDENTITY_TEXT) == (*IDENTITY_KEYS, PREFER_NOT)


def items_for(audience: str) -> list[dict]:
    """The five items in the wording for this audience."""
    texts = STUDENT_ITEMS if audience.startswith("students") else ADULT_ITEMS
    return [{"key": key, "text": dict(texts[key])} for key in ITEM_KEYS]


def identity_options() -> list[dict]:
    return [{"key": key, "text": dict(text)} for key, text in IDENTITY_TEXT.items()]


def scale() -> list[dict]:
    return [{"value": step["value"], "text": dict(step["text"])} for step in SCALE]
