"""Reports stay flat as activities pile up: 10,000 versus 1,000,000 on SQLite.

For each size: a fresh SQLite file, `flask db upgrade`, `flask demo-data --activities N`
(subprocesses, as an operator would run them). Then, in-process through the test client and
alternating between the two files in rounds: the activity mix (category x month over all data,
served from the rollup) and the first page of /activities; and once per file the raw full-scan
GROUP BY over the activity table that the rollup replaces. Medians throughout. Prints a table
and the ratios; returns False when a target is missed.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10_000, 1_000_000)
MIX_URL = "/api/v1/reports/activity-mix?group_by=category,month"
PAGE_URL = "/api/v1/activities?limit=50"
ROUNDS = 5
RAW_SCAN = text(
    "SELECT category, strftime('%Y-%m', started_at) AS month, COUNT(*), SUM(duration_minutes) "
    "FROM activity WHERE deleted_at IS NULL GROUP BY category, month"
)


def _flask(url: str, *args: str) -> float:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def _median_ms(action, repeats: int) -> float:
    action()  # warm up caches and the connection
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Subject:
    """One loaded database and a signed-in program manager's test client."""

    def __init__(self, size: int, folder: Path):
        self.size = size
        self.url = f"sqlite:///{folder / f'bench-{size}.sqlite3'}"
        _flask(self.url, "db", "upgrade")
        self.load_s = _flask(self.url, "demo-data", "--activities", str(size))

    def open(self) -> None:
        from api import create_app
        from api.auth import issue_tokens
        from api.extensions import db
        from api.models import User

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "LOG_LEVEL": "WARNING"})
        with self.app.app_context():
            manager = db.session.scalar(select(User).where(User.role == "program_manager"))
            token = issue_tokens(manager)["access_token"]
            db.session.commit()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.client = self.app.test_client()

    def get(self, path: str):
        def call():
            response = self.client.get(path, headers=self.headers)
            assert response.status_code == 200, response.get_data(as_text=True)

        return call

    def scan(self) -> None:
        from api.extensions import db

        with self.app.app_context():
            db.session.execute(RAW_SCAN).all()
            db.session.remove()


def main() -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        subjects = [Subject(size, Path(folder)) for size in SIZES]
        os.sync()  # let the kernel write the fresh files back before timing anything
        for subject in subjects:
            subject.open()
        # Rounds alternate between the sizes, so background load hits both alike.
        samples = {(s.size, name): [] for s in subjects for name in ("mix", "page")}
        for _ in range(ROUNDS):
            for subject in subjects:
                samples[(subject.size, "mix")].append(_median_ms(subject.get(MIX_URL), 9))
                samples[(subject.size, "page")].append(_median_ms(subject.get(PAGE_URL), 9))
        rows = [
            {
                "size": s.size,
                "load_s": s.load_s,
                "mix_ms": statistics.median(samples[(s.size, "mix")]),
                "scan_ms": _median_ms(s.scan, 3),
                "page_ms": statistics.median(samples[(s.size, "page")]),
            }
            for s in subjects
        ]
    print(f"{'activities':>11} {'load s':>7} {'mix ms':>8} {'scan ms':>9} {'page ms':>8}")
    for row in rows:
        print(
            f"{row['size']:>11,} {row['load_s']:>7.1f} {row['mix_ms']:>8.1f} "
            f"{row['scan_ms']:>9.1f} {row['page_ms']:>8.1f}"
        )
    small, large = rows[0], rows[-1]
    mix_growth = large["mix_ms"] / small["mix_ms"]
    scan_speedup = large["scan_ms"] / large["mix_ms"]
    page_growth = large["page_ms"] / small["page_ms"]
    checks = [
        ("activity mix, 1M vs 10k (target <= 2x)", mix_growth, mix_growth <= 2),
        ("full scan / activity mix at 1M (target >= 10x)", scan_speedup, scan_speedup >= 10),
        ("first page of /activities, 1M vs 10k (target <= 2x)", page_growth, page_growth <= 2),
    ]
    for label, value, ok in checks:
        print(f"{label}: {value:.2f}x {'ok' if ok else 'MISSED'}")
    return all(ok for *_, ok in checks)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
