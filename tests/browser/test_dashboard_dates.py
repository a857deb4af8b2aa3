"""The dashboard's default dates are dates in the program's time zone, not the device's or
UTC's: the server filters and buckets by program dates (PROGRAM_TIMEZONE)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import DESKTOP, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sqlite_only]

PROGRAM = ZoneInfo("America/Edmonton")  # the live server's PROGRAM_TIMEZONE (the default)


@pytest.mark.parametrize(
    ("device_zone", "now"),
    [
        # 20:00 on 31 October in Edmonton: 1 November in UTC and in Auckland.
        ("Pacific/Auckland", datetime(2026, 10, 31, 20, 0, tzinfo=PROGRAM)),
        # 15:00 on 1 March in Auckland (02:00 UTC) is still 28 February in Edmonton.
        ("Pacific/Auckland", datetime(2026, 3, 1, 15, 0, tzinfo=ZoneInfo("Pacific/Auckland"))),
    ],
)
def test_dashboard_defaults_are_program_dates(browser, live, console, device_zone, now):
    context = browser.new_context(viewport=DESKTOP, base_url=live.url, timezone_id=device_zone)
    try:
        context.set_default_timeout(15_000)
        page = console.attach(context.new_page())
        page.clock.install(time=now)
        sign_in(page, live.user("program_manager"))
        page.get_by_role("heading", name="Dashboard").wait_for()
        today = now.astimezone(PROGRAM).date()
        year_ago = today.replace(year=today.year - 1) + timedelta(days=1)
        assert page.get_by_label("To", exact=True).input_value() == today.isoformat()
        assert page.get_by_label("From").input_value() == year_ago.isoformat()
        # The cases the UTC date (and the device's date) got wrong.
        assert today not in (
            now.astimezone(UTC).date(),
            now.astimezone(ZoneInfo(device_zone)).date(),
        )
    finally:
        context.close()
