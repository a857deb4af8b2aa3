"""Flask CLI commands: users, demo data, audit verification, sync and report upkeep."""

import click
from flask import Flask
from flask.cli import AppGroup

from api.errors import ApiError
from api.models.user import ROLES


def register_cli(app: Flask) -> None:
    register_users_cli(app)
    register_audit_cli(app)
    register_demo_cli(app)
    register_sync_cli(app)
    register_reports_cli(app)
    register_digests_cli(app)
    register_pwa_cli(app)


def register_users_cli(app: Flask) -> None:
    users = AppGroup("users", help="Manage user accounts.")

    @users.command("create")
    @click.option("--email", required=True)
    @click.option(
        "--password", default=None, help="Leave out for a user who signs in through a provider."
    )
    @click.option("--role", required=True, type=click.Choice(ROLES))
    @click.option("--name", "display_name", default=None, help="Display name")
    @click.option("--school-id", "school_ids", multiple=True, type=int)
    def create_user(email, password, role, display_name, school_ids):
        """Create a user (for the first admin, or scripts)."""
        from marshmallow import ValidationError

        from api.errors import flatten_messages
        from api.schemas.account import UserCreateSchema
        from api.services.accounts import create_user as create

        sent = {
            "email": email.strip(),
            "role": role,
            "display_name": display_name or email.strip().split("@")[0],
            "school_ids": list(school_ids),
        }
        if password is not None:
            sent["password"] = password
        try:  # read as POST /users reads its body: the same checks, the same words
            user = create(UserCreateSchema().load(sent), actor=None)
        except ValidationError as error:
            raise click.ClickException(_said(flatten_messages(error.messages))) from error
        except ApiError as error:
            raise click.ClickException(f"{error.message} {_said(error.details)}".strip()) from error
        click.echo(f"Created {user.role} {user.email} (id {user.id}).")

    app.cli.add_command(users)


def _said(details: dict | None) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in (details or {}).items())


def register_audit_cli(app: Flask) -> None:
    audit_group = AppGroup("audit", help="Check the audit log.")

    @audit_group.command("verify")
    def verify():
        """Walk the hash chain and name the first broken row."""
        from api.services.audit import verify_chain

        checked, broken, reason = verify_chain()
        if broken is not None:
            raise click.ClickException(
                f"Audit chain broken at row id {broken.id} (seq {broken.seq}): {reason}. "
                f"{checked} rows before it are intact."
            )
        if reason:  # rows cut off the end of a chain that has no row left
            raise click.ClickException(f"Audit chain broken: {reason}.")
        click.echo(f"Audit chain intact: {checked} rows verified.")

    app.cli.add_command(audit_group)


def register_demo_cli(app: Flask) -> None:
    @app.cli.command("demo-data")
    @click.option(
        "--activities",
        "count",
        type=click.IntRange(0, 5_000_000),
        default=None,
        help="How many activities (default: a term's worth, about 2,000).",
    )
    @click.option("--seed", type=int, default=2025)
    @click.option("--if-empty", is_flag=True, help="Only load into a database with no users.")
    def demo_data(count, seed, if_empty):
        """Load demo schools, users (passwords printed) and a term of activities."""
        from api.services.demo import load_demo

        try:
            summary = load_demo(count, seed, if_empty=if_empty)
        except ApiError as error:
            raise click.ClickException(error.message) from error
        click.echo(summary)


def register_pwa_cli(app: Flask) -> None:
    @app.cli.command("form-rules")
    def form_rules():
        """Write pwa/js/form-rules.json (the PWA's form limits) from the OpenAPI document."""
        from api.extensions import api
        from api.pwa import FORM_RULES_FILE, write_form_rules

        write_form_rules(api.spec.to_dict())
        click.echo(f"Wrote {FORM_RULES_FILE}.")


def register_digests_cli(app: Flask) -> None:
    digests = AppGroup("digests", help="Review reminders by email.")

    @digests.command("send")
    @click.option("--dry-run", is_flag=True, help="List who would get one; send nothing.")
    def send(dry_run):
        """Email each school leader with activities waiting (at most once a day)."""
        from api.services.reminders import send_all

        if not dry_run and not app.config["APP_BASE_URL"]:
            # Outside a request there is no address of our own: the link would lead nowhere.
            raise click.ClickException(
                "Set APP_BASE_URL (e.g. https://sro.example.org): each reminder links to "
                "<APP_BASE_URL>/#/review."
            )
        result = send_all(dry_run=dry_run)
        if dry_run:
            for email, waiting in result["would_send"]:
                click.echo(f"Would remind {email}: {waiting} waiting.")
            click.echo(
                f"{len(result['would_send'])} reminders would be sent (dry run); "
                f"{result['skipped']} already sent today."
            )
            return
        click.echo(
            f"Sent {result['sent']} review reminders; {result['skipped']} already sent today; "
            f"{result['failed']} failed (tried again on the next run)."
        )
        if result["failed"]:
            raise click.exceptions.Exit(1)

    app.cli.add_command(digests)


def register_sync_cli(app: Flask) -> None:
    sync_group = AppGroup("sync", help="Offline sync housekeeping.")

    @sync_group.command("purge")
    @click.option(
        "--days",
        type=click.IntRange(0, 36500),
        default=None,
        help="Keep this many days (default: SYNC_RETENTION_DAYS).",
    )
    @click.option(
        "--include-confirmed",
        is_flag=True,
        help="Also purge activities that were confirmed before they were deleted.",
    )
    def purge(days, include_confirmed):
        """Purge old tombstones and applied-mutation records; older cursors get reset."""
        from flask import current_app

        from api.services.sync import purge as purge_sync

        days = current_app.config["SYNC_RETENTION_DAYS"] if days is None else days
        done = purge_sync(days, include_confirmed=include_confirmed)
        click.echo(
            f"Purged {done['tombstones']} tombstones ({done['revisions']} revisions) and "
            f"{done['mutations']} sync mutation records older than {days} days "
            f"(before {done['cutoff']:%Y-%m-%d %H:%M} UTC); pull cursors before "
            f"sequence {done['purged_through']} now get reset."
        )

    app.cli.add_command(sync_group)


def register_reports_cli(app: Flask) -> None:
    reports_group = AppGroup("reports", help="Report upkeep.")

    @reports_group.command("rebuild")
    def rebuild():
        """Recount the report rollup from the activities, by dates in PROGRAM_TIMEZONE.

        Run it after changing PROGRAM_TIMEZONE: days and months move, totals stay.
        """
        from flask import current_app

        from api.extensions import db
        from api.services import rollup

        rollup.rebuild()
        db.session.commit()
        cells = rollup.cell_count()
        zone = current_app.config["PROGRAM_TIMEZONE"]
        click.echo(f"Report rollup rebuilt: {cells} cells, days and months in {zone}.")

    app.cli.add_command(reports_group)
