"""flask-smorest, as the app uses it: blueprints parse strictly and document the one error
shape, on every operation."""

from http import HTTPStatus

import flask_smorest
from apispec import BasePlugin

from api.parsing import StrictParser
from api.schemas.common import ErrorSchema

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Blueprint(flask_smorest.Blueprint):
    """Our Blueprint: strict argument parsing and our error responses documented."""

    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema, **kwargs):
        """A body is documented as required unless its schema says it may be left out."""
        kwargs.setdefault("required", not getattr(schema, "BODY_OPTIONAL", False))
        return super().arguments(schema, **kwargs)

    def alt_response(self, status_code, response=None, **kwargs):
        """Document error responses with our Error schema unless told otherwise."""
        if response is None and "schema" not in kwargs and int(status_code) >= 400:
            kwargs["schema"] = ErrorSchema
        return super().alt_response(status_code, response, **kwargs)


class StandardErrorsPlugin(BasePlugin):
    """Document, on every operation, the errors any request may meet (all in the Error
    shape): 401 and 403 when it needs a token (403: signed in, but not allowed), 404 when
    its path names a record, 413 and 429 for writes, 503 while the database is unavailable."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            codes = [503]
            if operation.get("security") != []:
                codes += [401, 403]
            if "{" in (path or ""):
                codes.append(404)
            if method.upper() in WRITE_METHODS:
                codes += [413, 429]
            for code in codes:
                responses.setdefault(str(code), HTTPStatus(code).name)


class Api(flask_smorest.Api):
    """flask-smorest Api documenting and rendering our one error shape."""

    ERROR_SCHEMA = ErrorSchema

    def _init_spec(self, *, extra_plugins=None, **kwargs):
        plugins = [*(extra_plugins or ()), StandardErrorsPlugin()]
        return super()._init_spec(extra_plugins=plugins, **kwargs)

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        from api.schemas.openapi import document_shared_shapes

        document_shared_shapes(self.spec, self.ma_plugin)

    def handle_http_exception(self, error):
        from api.errors import http_error_response

        return http_error_response(error)
