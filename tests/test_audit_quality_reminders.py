"""Audit (quality.md, privacy): a failed review reminder is logged without the leader's email."""

import logging

from aiosmtpd.controller import Controller

from tests.factories import make_school, make_user, post_activity
from tests.live_server import free_port

EMAIL = "principal.private@board.test"


class RefusesRecipients:
    """An SMTP server that refuses every recipient, naming the address, as servers do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected"


def test_a_refused_reminder_is_logged_without_the_recipients_address(make_app, caplog):
    controller = Controller(RefusesRecipients(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app = make_app(
            SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, APP_BASE_URL="https://x.test"
        )
        school = make_school()
        officer = make_user("officer", [school])
        make_user("school_leader", [school], email=EMAIL)
        post_activity(app.test_client(), officer, school)
        with caplog.at_level(logging.INFO, logger="api"):
            result = app.test_cli_runner().invoke(args=["digests", "send"])
    finally:
        controller.stop()
    assert "1 failed" in result.output
    ours = [r for r in caplog.records if r.name.startswith("api.")]
    assert any("not sent" in r.getMessage() for r in ours)
    assert not any(EMAIL in r.getMessage() for r in ours)
