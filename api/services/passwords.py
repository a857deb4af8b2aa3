"""Password hashing (argon2id) and the password policy."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH, MAX_LENGTH = 12, 128

# Common passwords long enough to pass the length rule; shorter ones already fail it.
COMMON_PASSWORDS = frozenset(
    """
    123456789012 1234567890123 12345678901234 123456789123 1234567891011 000000000000
    111111111111 123123123123 112233445566 121212121212 987654321098 098765432112
    password1234 password12345 password123! password@123 passwordpassword p@ssw0rd1234
    qwertyuiop12 qwerty123456 qwertyuiopasdf qwertyuiopasdfgh 1q2w3e4r5t6y 1qaz2wsx3edc
    qazwsxedcrfv zaq12wsxcde3 asdfghjkl123 iloveyou1234 iloveyouforever letmein12345
    welcome12345 welcome123456 administrator admin1234567 adminadmin123 changeme1234
    abcdefghijkl abcd12345678 abc123456789 aaaaaaaaaaaa monkey123456 football1234
    baseball1234 superman1234 trustno12345 sunshine1234 princess1234 dragon123456
    starwars1234 whatever1234 computer1234 internet1234 michael12345 jennifer1234
    correcthorsebatterystaple passw0rdpassw0rd mypassword123 thisismypassword
    schoolresourceofficer policeofficer1 edmonton2025 calgary12345 canada123456
    """.split()
)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("dummy password for timing equality")


def password_problems(password: str) -> list[str]:
    """Messages saying why a password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2:
        problems.append("This password is too common; choose a longer passphrase.")
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and fail."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
