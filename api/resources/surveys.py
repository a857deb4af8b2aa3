"""Community voice: survey rounds, codes, anonymous answering and results (voice.md)."""

import segno
from flask import Response, current_app, request
from flask.views import MethodView

from api.auth import authenticated, viewer
from api.extensions import limiter
from api.models.survey import SurveyRound
from api.resources.common import ETAG_HEADERS, IF_MATCH_DOC, check_if_match, etag, id_page
from api.schemas.common import PageQuerySchema
from api.schemas.survey import (
    CheckSchema,
    CodeSchema,
    CodesRequestSchema,
    CodesSchema,
    ReceivedSchema,
    ResponseSchema,
    ResultsCsvQuerySchema,
    ResultsQuerySchema,
    ResultsSchema,
    RoundCreateSchema,
    RoundPageSchema,
    RoundSchema,
    RoundUpdateSchema,
)
from api.services import reports, survey_results, surveys
from api.web import Blueprint

blp = Blueprint("surveys", __name__, url_prefix="/api/v1", description="Community voice")

MANAGERS = ("program_manager", "admin")
ISSUERS = ("program_manager", "admin", "school_leader")
READERS = ISSUERS
ROUND_ID = "<int(min=1, max=2147483647):round_id>"


def _answer_limit() -> str:
    return current_app.config["SURVEY_RATE_LIMIT"]


# One budget per client address for checking codes and answering (a class behind one
# address answers at once, so it is generous; codes have about 49 bits, so guessing fails).
answer_limit = limiter.shared_limit(_answer_limit, scope="survey-answer")


@blp.route("/surveys")
class Rounds(MethodView):
    @authenticated(*READERS)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, RoundPageSchema)
    @blp.alt_response(403, description="Officers")
    @blp.doc(operationId="listSurveyRounds")
    def get(self, page):
        """Survey rounds (leaders: those with one of their schools)."""
        query = surveys.visible_rounds(viewer())
        return id_page(query, SurveyRound, page["limit"], page["cursor"])

    @authenticated(*MANAGERS)
    @blp.arguments(RoundCreateSchema)
    @blp.response(201, RoundSchema, headers=ETAG_HEADERS)
    @blp.alt_response(403, description="Not a program manager or admin")
    @blp.doc(operationId="createSurveyRound")
    def post(self, body):
        """Open a survey round: the fixed instrument, its schools, audiences and dates."""
        survey = surveys.create_round(body, viewer())
        return survey, 201, etag(survey.version)


@blp.route(f"/surveys/{ROUND_ID}")
class RoundItem(MethodView):
    @authenticated(*READERS)
    @blp.response(200, RoundSchema, headers=ETAG_HEADERS)
    @blp.doc(operationId="getSurveyRound")
    def get(self, round_id):
        """One survey round."""
        survey = surveys.get_round(viewer(), round_id)
        return survey, 200, etag(survey.version)

    @authenticated(*MANAGERS)
    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(RoundUpdateSchema)
    @blp.response(200, RoundSchema, headers=ETAG_HEADERS)
    @blp.alt_response(412, description="Stale If-Match")
    @blp.doc(operationId="updateSurveyRound")
    def patch(self, body, round_id):
        """Change a round's title or dates."""
        survey = surveys.get_round(viewer(), round_id)
        check_if_match(survey.version)
        survey = surveys.update_round(survey, body, viewer())
        return survey, 200, etag(survey.version)


def _slips(codes: list[str]) -> tuple[str, list[dict]]:
    # A slip is a printed link: the public address, never an internal one behind a proxy.
    config = current_app.config
    base = config.get("SURVEY_BASE_URL") or config.get("APP_BASE_URL") or request.url_root
    address = base.rstrip("/") + "/survey"
    slips = []
    for code in codes:
        url = f"{address}#{code}"
        qr = segno.make(url, error="m").svg_data_uri(scale=4, border=2)
        slips.append({"code": code, "url": url, "qr": qr})
    return address, slips


@blp.route(f"/surveys/{ROUND_ID}/codes")
class Codes(MethodView):
    @authenticated(*ISSUERS)
    @blp.arguments(CodesRequestSchema)
    @blp.response(201, CodesSchema)
    @blp.alt_response(403, description="Officers")
    @blp.doc(operationId="issueSurveyCodes")
    def post(self, body, round_id):
        """Issue single-use codes for one school and audience; shown once, kept as hashes."""
        survey = surveys.get_round(viewer(), round_id)
        codes = surveys.issue_codes(survey, body, viewer())
        address, slips = _slips(codes)
        return {
            "school_id": body["school_id"],
            "audience": body["audience"],
            "codes": codes,
            "address": address,
            "slips": slips,
        }, 201


@blp.route("/survey-codes/check")
class CheckCode(MethodView):
    decorators = [answer_limit]

    @blp.doc(security=[])
    @blp.arguments(CodeSchema)
    @blp.response(200, CheckSchema)
    @blp.alt_response(404, description="Unknown or malformed code")
    @blp.alt_response(410, description="code_used, survey_closed or survey_not_open")
    @blp.alt_response(429, description="Too many tries from this address")
    @blp.doc(operationId="checkSurveyCode")
    def post(self, body):
        """What a code opens: the survey, its items and options (no sign-in)."""
        return surveys.check_code(body["code"])


@blp.route("/survey-responses")
class Responses(MethodView):
    decorators = [answer_limit]

    @blp.doc(security=[])
    @blp.arguments(ResponseSchema)
    @blp.response(201, ReceivedSchema)
    @blp.alt_response(404, description="Unknown or malformed code")
    @blp.alt_response(410, description="code_used, survey_closed or survey_not_open")
    @blp.alt_response(429, description="Too many tries from this address")
    @blp.doc(operationId="answerSurvey")
    def post(self, body):
        """Answer anonymously; the code is used up in the same transaction."""
        surveys.submit(body)
        return {"received": True}, 201


@blp.route(f"/surveys/{ROUND_ID}/results")
class Results(MethodView):
    @authenticated(*READERS)
    @blp.arguments(ResultsQuerySchema, location="query")
    @blp.response(200, ResultsSchema)
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(403, description="Officers")
    @blp.doc(operationId="getSurveyResults")
    def get(self, query, round_id):
        """Participation and results, small cells suppressed (leaders: their schools)."""
        return _results(round_id, query, query.get("format") == "csv")


@blp.route(f"/surveys/{ROUND_ID}/results.csv")
class ResultsCsv(MethodView):
    @authenticated(*READERS)
    @blp.arguments(ResultsCsvQuerySchema, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description="The results as CSV (the same as `format=csv` on getSurveyResults)",
        example=",".join(survey_results.CSV_FIELDS),
    )
    @blp.alt_response(403, description="Officers")
    @blp.doc(operationId="getSurveyResultsCsv")
    def get(self, query, round_id):
        """The results as CSV, suppressed cells empty: the same filters as the JSON."""
        return _results(round_id, query, True)


def _results(round_id: int, query: dict, as_csv: bool):
    survey = surveys.get_round(viewer(), round_id)
    k = current_app.config["SUPPRESS_BELOW"]
    report = survey_results.results(viewer(), survey, query, k)
    filters = {key: value for key, value in query.items() if key != "format"}
    filters["survey_id"] = survey.id
    reports.record_export(viewer().id, "survey-results", filters, "csv" if as_csv else "json")
    if not as_csv:
        return report
    response = Response(survey_results.as_csv(report), mimetype="text/csv")
    name = f"survey-{survey.id}-results.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
