"""Reports for program managers and admins: activity mix, outcomes, review health."""

from flask import Response, current_app, request
from flask.views import MethodView

from api.auth import authenticated, viewer
from api.schemas.report import (
    ActivityMixCsvQuerySchema,
    ActivityMixQuerySchema,
    ActivityMixSchema,
    ConfirmationQuerySchema,
    ConfirmationSchema,
)
from api.services import reports
from api.web import Blueprint

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports")

READERS = ("program_manager", "admin")
CSV_EXAMPLE = "category,count,minutes,share_of_count,share_of_minutes,..."
CSV_DOC = {
    "responses": {
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": CSV_EXAMPLE,
                }
            }
        }
    }
}


def wants_csv(query: dict) -> bool:
    if query.get("format"):
        return query["format"] == "csv"
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"


@blp.route("/activity-mix")
class ActivityMix(MethodView):
    @authenticated(*READERS)
    @blp.doc(operationId="getActivityMix")
    @blp.arguments(ActivityMixQuerySchema, location="query")
    @blp.response(200, ActivityMixSchema)
    @blp.doc(**CSV_DOC)
    @blp.alt_response(401, description="No or bad token")
    @blp.alt_response(403, description="Not a program manager or admin")
    def get(self, query):
        """Count and minutes by category, school, level, officer, month, outcome or referral."""
        return _activity_mix(query, wants_csv(query))


@blp.route("/activity-mix.csv")
class ActivityMixCsv(MethodView):
    @authenticated(*READERS)
    @blp.doc(operationId="getActivityMixCsv")
    @blp.arguments(ActivityMixCsvQuerySchema, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description="The activity mix as CSV (the same as `Accept: text/csv` on activity-mix)",
        example=CSV_EXAMPLE,
    )
    @blp.alt_response(401, description="No or bad token")
    @blp.alt_response(403, description="Not a program manager or admin")
    def get(self, query):
        """The activity mix as CSV: same filters, groups and suppression as activity-mix."""
        return _activity_mix(query, True)


def _activity_mix(query: dict, as_csv: bool):
    report = reports.activity_mix(query)
    reports.record_export(viewer().id, "activity-mix", report["filters"], _kind(as_csv))
    if as_csv:
        return _csv_response(reports.mix_csv(report), "activity-mix.csv")
    return report


@blp.route("/confirmation")
class Confirmation(MethodView):
    @authenticated(*READERS)
    @blp.doc(operationId="getConfirmationReport")
    @blp.arguments(ConfirmationQuerySchema, location="query")
    @blp.response(200, ConfirmationSchema)
    @blp.alt_response(401, description="No or bad token")
    @blp.alt_response(403, description="Not a program manager or admin")
    def get(self, query):
        """Per school: submitted, confirmed, disputed, overdue and median hours to review."""
        overdue_days = current_app.config["REVIEW_OVERDUE_DAYS"]
        report = reports.confirmation(query, overdue_days)
        reports.record_export(viewer().id, "confirmation", report["filters"], "json")
        return report


def _kind(as_csv: bool) -> str:
    return "csv" if as_csv else "json"


def _csv_response(body: str, filename: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
