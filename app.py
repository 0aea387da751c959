"""Insightboard: the application factory and the WSGI entry points."""

from __future__ import annotations

import sys
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pymongo.database
from dash import html
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import api
import auth
import callbacks
from api.errors import install_error_handlers
from api.live import init_live
from api.observability import configure_logging, health, install_request_logging
from api.security_headers import SecurityHeaders, install_security_headers
from auth.audit_requests import install_audit_recorder
from auth.passwords import dummy_hash
from auth.share_guard import current_share
from callbacks.navbar import alerts_badge, firing_now
from components.account import account_nav, sign_in_prompt
from components.live import alerts_socket
from components.navbar import alerts_count, memory_notice, navbar
from components.report.render import render_report
from config import Settings, SettingsError, load_settings
from data import cache as cache_module
from data import datasets, inprocess, mongo, postgres, storage
from data.alerts import schedule as alerts_schedule
from data.alerts import service as alerts_service
from data.analytics import service as analytics_service
from data.ingest import lifecycle as ingest_lifecycle
from data.ingest import processing as ingest_processing
from data.ingest import repository as ingest_repository
from data.reports import schedules as report_schedules
from data.reports import service as reports_service
from data.services import Services, get_services


def connect_mongo(settings: Settings) -> pymongo.database.Database:
    """The server at MONGO_URI, or else the in-process engine, installed here."""
    if settings.mongo_uri:
        return mongo.connect(settings)
    inprocess.install()
    return inprocess.connect(settings.mongo_db)


def build_services(settings: Settings) -> Services:
    """Open every connection the app needs and bring the schemas up to date."""
    if settings.create_database:
        postgres.ensure_database(settings.database_url)
    database = postgres.Postgres(settings.database_url, settings.database_pool_max)
    postgres.apply_migrations(database)
    mongo_database = connect_mongo(settings)
    mongo.ensure_indexes(
        mongo_database, ingest_repository.INDEXES, analytics_service.INDEXES
    )
    return Services(
        settings=settings,
        postgres=database,
        mongo=mongo_database,
        store=storage.create_store(settings),
        redis=cache_module.connect_redis(settings),
    )


def configure_server(server: Flask, settings: Settings) -> None:
    """Flask settings: secret, cookie policy and request size limit."""
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        # Multipart overhead on top of the largest accepted file.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        INSIGHTBOARD_SETTINGS=settings,
    )
    if settings.trusted_proxy_count:
        # Only behind a known proxy chain may X-Forwarded-* set the client address,
        # scheme and host; otherwise any client could forge them.
        hops = settings.trusted_proxy_count
        # Flask's documented way to wrap the WSGI app.
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


# Dash's own page shell with the document language set (screen readers pick their
# voice from it; WCAG 3.1.1).
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def serve_layout() -> html.Div:
    """The shell around every page, built per request (it shows the current user).
    Under a share link: no navbar, no account, nothing that leads into the app."""
    if current_share() is not None:
        return html.Div(
            dbc.Container(dash.page_container, fluid="lg", id="page-body"),
            className="ib-share-shell",
        )
    user_label, account_links = account_nav()
    notice = memory_notice() if get_services().settings.in_process_mongo else None
    count = firing_now() if user_label else None
    # Signed in: the one socket every page has, for the navbar's alert count.
    socket = [alerts_socket(count or 0)] if user_label else []
    badges = {"/alerts": alerts_count(alerts_badge(count))}
    return html.Div(
        [
            navbar(user_label, account_links, badges),
            *socket,
            dbc.Container([notice, dash.page_container], fluid="lg", id="page-body"),
        ]
    )


def create_app(overrides: dict | None = None) -> dash.Dash:
    """Build an independent app: Flask server, services, API and the Dash pages."""
    settings = load_settings(overrides)
    configure_logging(settings.log_level)
    # The hash an unknown e-mail is checked against, made before the first sign-in
    # (made then, it would make that sign-in slower than a wrong password's).
    dummy_hash(settings.password_hash_rounds)
    server = Flask(__name__)
    configure_server(server, settings)
    services = build_services(settings)
    server.extensions["insightboard"] = services
    # The services write the audit trail through this port (auth/audit_requests.py).
    install_audit_recorder(services)
    # After processing, analytics warms the default view (and marks it cached),
    # then the dataset's alert rules are evaluated.
    # The evaluation runs on a background thread: ingest never waits for it.
    ingest_processing.set_after_processing(
        services,
        analytics_service.warm_default_view,
        alerts_service.evaluate_dataset_soon,
    )
    # After an append too (on the same thread), so the append answers at once.
    datasets.set_after_append(services, alerts_service.evaluate_dataset_soon)
    # Reports: the data layer computes the view, the presentation layer renders it.
    reports_service.set_renderer(services, render_report)
    cache_module.cache.init_app(server, config=cache_module.cache_config(settings))
    # Ingest job runner, rebuild from the object store, requeue unfinished versions.
    ingest_lifecycle.start(services, server)
    alerts_schedule.start(services, server)
    report_schedules.start_ticker(services, server)
    install_request_logging(server)
    install_error_handlers(server)
    server.register_blueprint(health)
    api.register(server)
    init_live(server, services)
    auth.init_app(server)
    # Dash's annotations reject a Flask server and update_title=None, both of
    # which its documentation describes; the options go in untyped.
    options: dict[str, Any] = {"server": server, "update_title": None}
    app = dash.Dash(
        __name__,
        use_pages=True,
        title="Insightboard",
        suppress_callback_exceptions=True,
        index_string=INDEX_STRING,
        **options,
    )
    app.layout = serve_layout
    auth.init_dash(app, sign_in_layout=sign_in_prompt)
    callbacks.register(app)
    # The policy lists the hashes of Dash's inline scripts (clientside callbacks).
    headers = install_security_headers(server, app.csp_hashes)
    add_share_route(app, headers, settings)
    return app


def add_share_route(app: dash.Dash, headers: SecurityHeaders, settings) -> None:
    """/share/<token>: Dash's page, framable by EMBED_ALLOWED_ORIGINS only (the
    guard has checked the token before this runs)."""

    def share_document(token: str):
        return app.index()

    view = headers.embeddable_view(share_document, settings.embed_origins)
    app.server.add_url_rule("/share/<token>", "share_document", view)


_default_app: dash.Dash | None = None


def __getattr__(name: str):
    """`app` and `server` are built on first use, so importing this module is cheap
    and side-effect free (tests import `create_app` without touching the default
    database), while `gunicorn app:server` still finds them."""
    global _default_app
    if name in ("app", "server"):
        if _default_app is None:
            _default_app = create_app()
        return _default_app if name == "app" else _default_app.server
    raise AttributeError(name)


if __name__ == "__main__":
    try:
        application = create_app()
    except SettingsError as error:
        # A configuration mistake deserves one clear line, not a stack trace.
        raise SystemExit(f"insightboard: {error}") from None
    settings = application.server.config["INSIGHTBOARD_SETTINGS"]
    # `make dev` passes --reload; `make run` and the container serve with gunicorn.
    application.run(
        host=settings.host,
        port=settings.port,
        debug=False,
        use_reloader="--reload" in sys.argv[1:],
    )
