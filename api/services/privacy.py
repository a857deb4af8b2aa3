"""The privacy screen: free text must not identify a student."""

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(
    r"(?<![\w])(\+?\d{1,2}[\s.-]?)?(\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?![\w])"
)
STUDENT_NUMBER = re.compile(r"(?<!\d)\d{3}[\s-]?\d{3}[\s-]?\d{3}(?!\d)")

# Every screen needs an "@" or at least nine digits: text with neither is clean (quickly).
NINE_DIGITS = re.compile(r"(?:\D*+\d){9}")

SCREENS = (
    (EMAIL, "an email address"),
    (PHONE, "a phone number"),
    (STUDENT_NUMBER, "a 9-digit number that could be a student number"),
)


def identifier_problems(text: str | None) -> list[str]:
    """Messages naming each kind of identifier found in the text; empty when clean."""
    if not text or ("@" not in text and not NINE_DIGITS.match(text)):
        return []
    return [
        f"Remove {what}: summaries must not contain anything that identifies a person."
        for pattern, what in SCREENS
        if pattern.search(text)
    ]
