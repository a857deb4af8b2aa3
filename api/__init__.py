"""The application factory."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from api.config import load_config
from api.extensions import api, db, jwt, limiter, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, errors, the PWA."""
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.merge_slashes = False  # "//me" is an unknown path (404), not a redirect
    app.config.update(load_config(config))
    app.config["API_SPEC_OPTIONS"]["security"] = [{"bearerAuth": []}]
    if app.config["PROXY_FIX_HOPS"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_FIX_HOPS"], x_proto=1, x_host=1
        )
    register_extensions(app)
    register_blueprints(app)
    register_handlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from api import models  # noqa: F401  (the metadata Alembic and the app use)
    from api.database import configure_engine

    db.init_app(app)
    configure_engine(app)
    migrate.init_app(app, db, directory="migrations", render_as_batch=True)
    jwt.init_app(app)
    limiter.init_app(app)
    api.init_app(app)


def register_blueprints(app: Flask) -> None:
    from api import health, pwa
    from api.resources import activities, auth, identity, reference, reports, surveys, sync

    for blueprint in (
        *(m.blp for m in (auth, identity, reference, activities, sync, reports, surveys)),
        identity.flow,
        health.blp,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(pwa.blp)


def register_handlers(app: Flask) -> None:
    from api.auth import register_jwt_handlers
    from api.errors import register_error_handlers
    from api.observability import configure_logging
    from api.parsing import read_streamed_body

    app.before_request(read_streamed_body)
    register_error_handlers(app)
    register_jwt_handlers(app)
    configure_logging(app)


def register_commands(app: Flask) -> None:
    from api.cli import register_cli

    register_cli(app)
