"""The privacy screen, property-tested against identifiers built here (not against its own
patterns): each kind, in the written forms people use, is caught wherever it sits in
ordinary text; text with no "@" and fewer than nine digits is always kept."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from api.services.privacy import RULES_FILE, _compile, identifier_problems

SETTINGS = settings(max_examples=200, deadline=None)
WORDS = st.sampled_from(
    [
        "Met",
        "with",
        "grade",
        "students",
        "about",
        "online",
        "safety",
        "the",
        "class",
        "talked",
        "bullying",
        "followed",
        "up",
        "counsellor",
        "lunch",
        "room",
        "in",
        "gym",
    ]
)
PROSE = st.lists(WORDS, max_size=8).map(" ".join)
digit = st.integers(0, 9).map(str)


def digits(n: int):
    return st.lists(digit, min_size=n, max_size=n).map("".join)


def _around(identifier):
    """The identifier somewhere in a sentence, as its own word or right before a stop."""
    return st.tuples(PROSE, identifier, PROSE, st.sampled_from(["", ".", ","])).map(
        lambda parts: f"{parts[0]} {parts[1]}{parts[3]} {parts[2]}".strip()
    )


def _says(problems: list[str], what: str) -> bool:
    return any(what in message for message in problems)


@st.composite
def phone_numbers(draw) -> str:
    """A North American number in one of the ways it is written (dots included)."""
    area = draw(st.integers(2, 9).map(str)) + draw(digits(2))
    exchange = draw(st.integers(2, 9).map(str)) + draw(digits(2))
    line = draw(digits(4))
    separator = draw(st.sampled_from(["-", ".", " "]))
    shape = draw(st.sampled_from(["plain", "brackets", "country"]))
    if shape == "brackets":
        return f"({area}) {exchange}{separator}{line}"
    number = f"{area}{separator}{exchange}{separator}{line}"
    return f"+1 {number}" if shape == "country" else number


@st.composite
def dotted_phone_numbers(draw) -> str:
    area = draw(st.integers(2, 9).map(str)) + draw(digits(2))
    exchange = draw(st.integers(2, 9).map(str)) + draw(digits(2))
    return f"{area}.{exchange}.{draw(digits(4))}"


@st.composite
def emails(draw) -> str:
    name = draw(st.from_regex(r"[a-z][a-z0-9._+-]{0,10}[a-z0-9]", fullmatch=True))
    host = draw(st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True))
    tld = draw(st.sampled_from(["ca", "com", "org", "ab.ca", "school.nz"]))
    return f"{name}@{host}.{tld}"


@st.composite
def student_numbers(draw) -> str:
    groups = [draw(digits(3)) for _ in range(3)]
    return draw(st.sampled_from(["", " ", "-"])).join(groups)


@SETTINGS
@given(_around(dotted_phone_numbers()))
def test_dotted_phone_number_anywhere_in_text_is_refused(text):
    assert _says(identifier_problems(text), "phone number"), text


@SETTINGS
@given(_around(phone_numbers()))
def test_phone_number_in_any_written_form_is_refused(text):
    assert _says(identifier_problems(text), "phone number"), text


@SETTINGS
@given(_around(emails()))
def test_email_address_anywhere_in_text_is_refused(text):
    assert _says(identifier_problems(text), "email address"), text


@SETTINGS
@given(_around(student_numbers()))
def test_nine_digit_number_anywhere_in_text_is_refused(text):
    assert identifier_problems(text), text


@SETTINGS
@given(
    st.lists(
        st.one_of(WORDS, digits(1), digits(2), st.sampled_from([".", ",", "-", "(", ")", ":"])),
        max_size=20,
    ).map(" ".join)
)
def test_text_without_at_sign_or_seven_digits_is_kept(text):
    # Seven digits, however spaced, can be a local phone number (555 1234).
    if sum(c.isdigit() for c in text) >= 7:
        text = "".join(c for c in text if not c.isdigit())
    assert identifier_problems(text) == [], text


LEADING_RUN = "(?<![{W}.+-])"  # an email screen starts only where a run of these starts
SCREENS = json.loads(RULES_FILE.read_text(encoding="utf-8"))["screens"]
ANCHORED = [rule for rule in SCREENS if rule["pattern"].startswith(LEADING_RUN)]
ADDRESSY = st.lists(
    st.sampled_from(["a", "b", "9", "_", ".", "+", "-", "@", " ", "at", "dot", "com", "é", "\n"]),
    max_size=30,
).map("".join)


@SETTINGS
@given(ADDRESSY)
def test_email_screens_find_what_they_would_find_started_anywhere(text):
    """Starting a screen only where a run of address characters starts saves retrying inside
    every word; it must find a match in exactly the texts the pattern started anywhere does."""
    assert len(ANCHORED) == 3
    for rule in ANCHORED:
        anywhere = rule | {"pattern": rule["pattern"].removeprefix(LEADING_RUN)}
        found = _compile(rule).search(text) is not None
        assert found == (_compile(anywhere).search(text) is not None), (rule["pattern"], text)
