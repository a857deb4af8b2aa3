"""The privacy screen: free text must not identify anyone.

The rules are one table, ``pwa/js/privacy-rules.json``, which the PWA applies too (so the
phone and the server never disagree). Text is normalised first, so that disguised
identifiers (spaced or dotted digits, "john (at) gmail", fullwidth or zero-width
characters) are caught like plain ones.
"""

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

RULES_FILE = Path(__file__).resolve().parents[2] / "pwa" / "js" / "privacy-rules.json"
# What the table's placeholders stand for in Python's re (str patterns are Unicode-aware).
PLACEHOLDERS = {"{W}": r"\w", "{D}": r"\d"}


def _compile(rule: dict) -> re.Pattern:
    pattern = rule["pattern"]
    for placeholder, meaning in PLACEHOLDERS.items():
        pattern = pattern.replace(placeholder, meaning)
    return re.compile(pattern, re.IGNORECASE if "i" in rule.get("flags", "") else 0)


@cache
def _rules() -> tuple[list, re.Pattern, list]:
    table = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    normalise = [
        (_compile(rule), rule["replace"], rule.get("repeat", False)) for rule in table["normalise"]
    ]
    digits = _compile({"pattern": rf"\+?\d(?:[{table['digit_joiners']}]*\d)*"})
    screens = [(_compile(rule), rule["what"]) for rule in table["screens"]]
    return normalise, digits, screens


def _digits_only(match: re.Match) -> str:
    run = match.group()
    return ("+" if run.startswith("+") else "") + "".join(c for c in run if c.isdigit())


def normalise(text: str) -> str:
    """The text as the screens read it: NFKC, no format characters, spelled-out and
    bracketed "at"/"dot" as symbols, and every joined run of digits as the digits alone."""
    normalise_rules, digit_run, _ = _rules()
    flat = unicodedata.normalize("NFKC", text)
    if not flat.isascii():  # no ASCII character is a format character (Cf)
        flat = "".join(c for c in flat if unicodedata.category(c) != "Cf")
    for pattern, replacement, repeat in normalise_rules:
        flat, found = pattern.subn(replacement, flat)
        while repeat and found:
            flat, found = pattern.subn(replacement, flat)
    return digit_run.sub(_digits_only, flat)


def identifier_problems(text: str | None, noun: str = "summaries") -> list[str]:
    """Messages naming each kind of identifier found in the text; empty when clean."""
    if not text:
        return []
    flat = normalise(text)
    found = dict.fromkeys(what for pattern, what in _rules()[2] if pattern.search(flat))
    return [
        f"Remove {what}: {noun} must not contain anything that identifies a person."
        for what in found
    ]
