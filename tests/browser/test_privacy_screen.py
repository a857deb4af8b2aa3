"""The PWA's privacy screen and the server's agree, character for character, because both
read one table (pwa/js/privacy-rules.json): on the review's corpus and on random text rich in
digits, separators, at signs, accents, fullwidth and invisible characters."""

import random

import pytest

from api.services.privacy import identifier_problems
from tests.privacy_corpus import DISGUISED, ORDINARY

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

ALPHABET = list("0123456789 -./()[]@+_abcdefgjohnmailtcoé") + [
    " at ",
    " dot ",
    "(at)",
    "[dot]",
    "\u200b",
    "\u00ad",
    "\u2013",
    "\uff10",
    "\uff20",
    "\u0663",
    ":",
    ",",
    "\x1c",  # white space to Python's \s, not to JavaScript's: so are U+001D-U+001F
    "\x85",  # NEL, the same
]


def _random_texts(count: int) -> list[str]:
    chooser = random.Random(13)
    return ["".join(chooser.choices(ALPHABET, k=chooser.randint(1, 40))) for _ in range(count)]


def test_pwa_screen_agrees_with_server_on_corpus_and_random_text(new_page, live):
    page = new_page()
    page.goto("/")
    texts = [*DISGUISED, *ORDINARY, "josé@example.com", *_random_texts(600)]
    in_browser = page.evaluate(
        """async (texts) => {
            const screen = await import('/js/privacy.js');
            return texts.map((text) => screen.identifierProblems(text));
        }""",
        texts,
    )
    disagreements = [
        (text, phone, identifier_problems(text))
        for text, phone in zip(texts, in_browser, strict=True)
        if phone != identifier_problems(text)
    ]
    assert disagreements == []
    assert sum(bool(problems) for problems in in_browser) >= len(DISGUISED)
