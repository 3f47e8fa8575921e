"""Structured JSON logs carrying the request id, and Prometheus metrics."""

import logging
import re
import sys
import uuid
from contextvars import ContextVar

import structlog
from prometheus_client import Counter, Histogram

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HTTP_REQUESTS = Counter(
    "cem_http_requests_total", "HTTP requests handled", ["component", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "cem_http_request_duration_seconds", "HTTP request latency", ["component", "route"]
)


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """Keeps a well-formed incoming id (so one id follows a call across hops)."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return new_request_id()
