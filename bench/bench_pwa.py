"""The PWA: precached shell weight (target <= 150 KB before compression) and the time from
navigation to an interactive activity form with the network off (real headless Chromium)."""

import statistics
import tempfile
import time
from pathlib import Path

from api import create_app, pwa

CHROMIUM = Path("/usr/bin/chromium")
SHELL_TARGET_KB = 150
RUNS = 7
CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "bench-secret-key-0123456789-0123456789",
    "JWT_SECRET_KEY": "bench-jwt-secret-key-0123456789-0123456789",
    "LOG_LEVEL": "WARNING",
}


def shell_weight_kb() -> float:
    return sum(path.stat().st_size for path in pwa.shell_files()) / 1024


def _prepare(url: str) -> tuple[str, str]:
    from flask_migrate import upgrade

    from api.extensions import db
    from tests.factories import PASSWORD, make_school, make_user

    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory="migrations")
        email = make_user("officer", [make_school()]).email
        db.engine.dispose()
    return email, PASSWORD


def offline_form_times_ms() -> list[float]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, PHONE, sign_in, wait_offline_ready
    from tests.live_server import live_server

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        email, password = _prepare(url)
        with live_server(url, workers=1) as (base_url, _), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=PHONE, base_url=base_url)
            page = context.new_page()
            sign_in(page, email, password)
            page.get_by_label("School").wait_for()
            wait_offline_ready(page)
            context.set_offline(True)
            times = []
            for _ in range(RUNS):
                page.goto("about:blank")
                started = time.perf_counter()
                page.goto(base_url + "/#/log")
                page.get_by_label("Category").select_option("education")
                times.append((time.perf_counter() - started) * 1000)
            browser.close()
    return times


def _row(measure: str, value: str, target: str = "-") -> None:
    print(f"{measure:<48} {value:>10} {target:>10}")


def main() -> bool:
    weight = shell_weight_kb()
    _row("measure", "value", "target")
    _row("precached shell (HTML, CSS, JS, icons), KB", f"{weight:.1f}", str(SHELL_TARGET_KB))
    if CHROMIUM.exists():
        times = offline_form_times_ms()
        _row("offline: navigation -> usable form, ms (median)", f"{statistics.median(times):.0f}")
        _row("offline: navigation -> usable form, ms (max)", f"{max(times):.0f}")
    else:
        print(f"(skipped the offline timing: {CHROMIUM} is missing)")
    return weight <= SHELL_TARGET_KB
