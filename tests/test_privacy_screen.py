"""The privacy screen normalises before it matches (issue 13, finding 5): identifiers in any
disguise are refused, ordinary text (dates, times, ranges, counts, sections) is kept."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.services.privacy import identifier_problems, normalise
from tests.factories import auth, make_school, make_user, post_activity
from tests.privacy_corpus import DISGUISED, ORDINARY

SEPARATORS = [" ", "-", ".", "/", " - ", "\u2013", "\u2014", " . ", "  ", "\u2011", "\u2212"]
INVISIBLE = ["", "", "", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
FULLWIDTH = {str(n): chr(0xFF10 + n) for n in range(10)}


@pytest.mark.parametrize("text", DISGUISED)
def test_screen_refuses_disguised_identifier(text):
    assert identifier_problems(text), normalise(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_screen_keeps_ordinary_text(text):
    assert identifier_problems(text) == [], normalise(text)


@st.composite
def disguised_digits(draw, length: int) -> str:
    """`length` digits cut into groups, joined by any separators, with invisible
    characters and fullwidth digits sprinkled in."""
    digits = draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    cuts = sorted(draw(st.sets(st.integers(1, length - 1), max_size=length - 1)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, length], strict=True)]
    text = groups[0]
    for group in groups[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + draw(st.sampled_from(INVISIBLE)) + group
    if draw(st.booleans()):
        text = "".join(FULLWIDTH[c] if c.isdigit() and draw(st.booleans()) else c for c in text)
    if length >= 10 and draw(st.booleans()):
        text = "(" + text[:3] + ") " + text[3:]
    return text


@settings(max_examples=300, deadline=None)
@given(
    number=st.sampled_from([7, 9, 10, 11]).flatmap(disguised_digits),
    before=st.sampled_from(["Call ", "Number: ", "ID ", "", "Parent's cell "]),
    after=st.sampled_from([" tonight.", "", ", thanks.", " (home)"]),
)
def test_screen_refuses_numbers_in_any_disguise(number, before, after):
    assert identifier_problems(before + number + after)


@settings(max_examples=300, deadline=None)
@given(
    local=st.from_regex(r"[a-z][a-z0-9._]{0,12}", fullmatch=True),
    domain=st.from_regex(r"[a-z][a-z0-9-]{1,10}", fullmatch=True),
    tld=st.sampled_from(["com", "ca", "org", "net", "edu", ""]),
    at=st.sampled_from(["@", " @ ", "(at)", " [at] ", " {AT} ", "＠", "@\u200b", " at "]),
    dot=st.sampled_from([".", "(dot)", " [dot] ", " dot ", " DOT "]),
)
def test_screen_refuses_emails_in_any_disguise(local, domain, tld, at, dot):
    if at == " at " and dot == ".":
        dot = " dot "  # "john at gmail.x" alone is ordinary text unless the ending is known
    address = local + at + domain + (dot + tld if tld else "")
    if at == " at " and not tld:
        address += " dot com"
    assert identifier_problems(f"Write to {address} later.")


ORDINARY_PARTS = st.one_of(
    st.builds(
        "on {}-{:02d}-{:02d}".format,
        st.integers(2000, 2099),
        st.integers(1, 12),
        st.integers(1, 28),
    ),
    st.builds(
        "{:02d}/{:02d}/{}".format, st.integers(1, 28), st.integers(1, 12), st.integers(2000, 2099)
    ),
    st.builds("at {}:{:02d}".format, st.integers(0, 23), st.integers(0, 59)),
    st.builds(
        "from {}:{:02d} to {}:{:02d}".format,
        st.integers(1, 12),
        st.integers(0, 59),
        st.integers(1, 12),
        st.integers(0, 59),
    ),
    st.builds("grades {}-{}".format, st.integers(1, 12), st.integers(1, 12)),
    st.builds("{:,} people".format, st.integers(0, 99_999_999)),
    st.builds("section {}".format, st.integers(1, 9999)),
    st.builds("{} minutes".format, st.integers(1, 720)),
    st.builds("room {}".format, st.integers(1, 9999)),
    st.builds("school year {}-{}".format, st.integers(2000, 2098), st.integers(2001, 2099)),
    st.sampled_from(["met the class", "talked about safety", "with staff", "at the gym"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ORDINARY_PARTS, min_size=1, max_size=5))
def test_screen_keeps_ordinary_text_of_dates_times_ranges_and_counts(parts):
    text = " and ".join(parts) + "."
    assert identifier_problems(text) == [], normalise(text)


def test_dispute_reason_with_zero_width_disguised_phone_returns_422(client):
    school = make_school()
    officer, leader = make_user("officer", [school]), make_user("school_leader", [school])
    activity = post_activity(client, officer, school)
    reason = "Not at our school; call me at 780\u200b555\u200b0142."
    response = client.post(
        f"/api/v1/activities/{activity['id']}/dispute",
        json={"reason": reason},
        headers=auth(leader),
    )
    assert response.status_code == 422
    (message,) = response.json["error"]["details"]["reason"]
    assert "phone number" in message and "reasons" in message


@pytest.mark.parametrize("text", DISGUISED[:6] + ORDINARY[:3])
def test_create_activity_uses_the_same_screen(client, text):
    school = make_school()
    officer = make_user("officer", [school])
    body = {"summary": text}
    response = client.post(
        "/api/v1/activities",
        json=post_body(school) | body,
        headers=auth(officer),
    )
    assert response.status_code == (422 if identifier_problems(text) else 201)


def post_body(school) -> dict:
    from tests.factories import activity_body

    return activity_body(school)


def test_normalise_drops_invisible_characters_and_joins_digits_keeping_the_plus():
    assert normalise("Call +1\u200b780 555-0142 or 780.555.\u2060 0143.") == (
        "Call +17805550142 or 7805550143."
    )


def test_normalise_leaves_ordinary_words_and_numbers_as_written():
    text = "Room 204 with 3 students and 1 parent."
    assert normalise(text) == text


def test_short_international_number_is_a_phone_number_not_a_student_number():
    # +376 and six digits: nine digits in all, which without the plus would read as a
    # student number (and eight, as nothing at all).
    assert identifier_problems("Parent in Andorra: +376 712 345.") == [
        "Remove a phone number: summaries must not contain anything that identifies a person."
    ]
    assert identifier_problems("Call +45 3212 34.") == [
        "Remove a phone number: summaries must not contain anything that identifies a person."
    ]


def test_screen_names_each_kind_once_for_the_field_it_screens():
    text = "Mail jo@example.org or JO AT EXAMPLE DOT ORG."
    assert identifier_problems(text) == [
        "Remove an email address: summaries must not contain anything that identifies a person."
    ]
    assert identifier_problems(text, noun="reasons") == [
        "Remove an email address: reasons must not contain anything that identifies a person."
    ]
    # The spelled-out form alone, in capitals (the rule ignores case).
    assert identifier_problems("Write to JO AT EXAMPLE DOT ORG.") == [
        "Remove an email address: summaries must not contain anything that identifies a person."
    ]
