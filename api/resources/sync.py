"""Sync: the offline app pushes its outbox and pulls the changes it has not seen."""

from flask import Response, jsonify, request
from flask.views import MethodView
from marshmallow import missing
from webargs.flaskparser import is_json_request

from api import fastjson
from api.auth import authenticated, viewer
from api.database import begin_as_reader
from api.models.types import utcnow
from api.parsing import StrictParser
from api.schemas.sync import (
    PullPageSchema,
    PullQuerySchema,
    PullResetSchema,
    PushResultSchema,
    PushSchema,
)
from api.services import sync
from api.web import Blueprint


class PushParser(StrictParser):
    """The strict parser, except that text no database can store (NUL, lone surrogates)
    inside a mutation is refused for that mutation only, by the service, so that one such
    item never sinks the whole push."""

    def _decode_json(self, req):
        if not is_json_request(req):
            return missing
        try:
            return fastjson.loads(req.get_data(cache=True))
        except ValueError:  # orjson declined it: the standard library decides and words it
            return super()._decode_json(req)

    @staticmethod
    def _text_to_check(data):
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key != "mutations"}
        return data


blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Offline sync")
blp.ARGUMENTS_PARSER = PushParser()


@blp.before_request
def _read_first():
    """A push signs in and validates as a reader; it takes the write lock only to write."""
    if request.method == "POST":
        begin_as_reader(True)


@blp.route("/push")
class Push(MethodView):
    @authenticated("officer")
    @blp.doc(operationId="syncPush")
    @blp.arguments(PushSchema)
    @blp.response(200, PushResultSchema)
    @blp.alt_response(413, description="More than 500 mutations, or the body is too large")
    def post(self, body):
        """Apply a device's outbox in order; one result a mutation (officer)."""
        received = utcnow().isoformat()
        results = sync.push(viewer(), body["device_id"], body["mutations"])
        # The results are plain JSON already (what a retry gets back): no second dump
        # through the schema, and no key sorting for up to 500 activities.
        payload = {"results": results, "server_time": received}
        return Response(fastjson.dumps_bytes(payload), mimetype="application/json")


@blp.route("/pull")
class Pull(MethodView):
    @authenticated("officer", "school_leader")
    @blp.doc(operationId="syncPull")
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, "Pull")
    def get(self, query):
        """Changes after the cursor, in commit order (officer: own; leader: own schools'),
        or a reset."""
        result = sync.pull(viewer(), query["since"], query["limit"])
        shape = PullResetSchema() if result.get("reset") else PullPageSchema()
        return jsonify(shape.dump(result))
