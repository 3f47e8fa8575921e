"""RFC 9457 problem responses for every error, and the helpers routes share."""

import time
from http import HTTPStatus

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import CEMError, FieldError
from shared.observability import (
    HTTP_LATENCY,
    HTTP_REQUESTS,
    accept_request_id,
    request_id_var,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://cem.dev/problems/"

log = structlog.get_logger("http")


def problem_body(
    *, status: int, code: str, title: str, detail: str, errors: list[FieldError] | None = None
) -> dict:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
    }
    if errors:
        body["errors"] = [error.model_dump() for error in errors]
    return body


def problem_response(status: int, code: str, detail: str, **kwargs) -> JSONResponse:
    title = kwargs.pop("title", None) or HTTPStatus(status).phrase
    headers = kwargs.pop("headers", None)
    body = problem_body(status=status, code=code, title=title, detail=detail, **kwargs)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def field_errors(error: RequestValidationError) -> list[FieldError]:
    """Names each field as a dotted path: `body.vehicles.0.vin`, `query.limit`."""
    return [_field_error(item) for item in error.errors()]


def _field_error(item: dict) -> FieldError:
    if item["type"] == "json_invalid":
        reason = item.get("ctx", {}).get("error", "not valid JSON")
        return FieldError(field="body", message=f"malformed JSON: {reason}")
    message = item["msg"].removeprefix("Value error, ")
    return FieldError(field=".".join(str(part) for part in item["loc"]), message=message)


async def _on_cem_error(request: Request, error: CEMError) -> JSONResponse:
    return problem_response(
        error.status, error.code, error.detail, title=error.title, errors=error.errors
    )


async def _on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = field_errors(error)
    detail = "; ".join(f"{item.field}: {item.message}" for item in errors)
    return problem_response(422, "invalid_input", detail, title="Invalid input", errors=errors)


async def _on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem_response(error.status_code, code, detail, headers=error.headers)


async def _on_pool_timeout(request: Request, error: PoolTimeout) -> JSONResponse:
    return _database_unavailable("All database connections are busy; retry shortly")


async def _on_database_error(request: Request, error: DBAPIError) -> JSONResponse:
    """A lost connection is the database's outage, not the caller's fault: 503, retryable;
    so is a transaction PostgreSQL aborted to break a conflict. Any other database error is a
    bug and stays a 500."""
    if getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return _transaction_conflict()
    if not error.connection_invalidated and not isinstance(error.orig, OSError):
        raise error
    return _database_unavailable("The database is unavailable; retry shortly")


async def _on_driver_error(request: Request, error: asyncpg.PostgresError) -> JSONResponse:
    """The same for work done on the driver itself (telematics ingestion's own pool)."""
    if error.sqlstate not in RETRYABLE_SQLSTATES:
        raise error
    return _transaction_conflict()


def _transaction_conflict() -> JSONResponse:
    detail = "The request met a concurrent one and changed nothing; send it again"
    return problem_response(
        503, "transaction_conflict", detail, headers={"Retry-After": DATABASE_RETRY_AFTER}
    )


def _database_unavailable(detail: str) -> JSONResponse:
    return problem_response(
        503, "database_unavailable", detail, headers={"Retry-After": DATABASE_RETRY_AFTER}
    )


DATABASE_RETRY_AFTER = "1"
# A deadlock victim and a serialization failure: PostgreSQL rolled the transaction back, and
# the same request again will most likely pass.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PoolTimeout, _on_pool_timeout)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(asyncpg.PostgresError, _on_driver_error)
    app.add_exception_handler(CEMError, _on_cem_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)


class RequestContextMiddleware:
    """Pure ASGI: request id in, out and in every log line; one metric and log per request."""

    def __init__(self, app: ASGIApp, *, component: str) -> None:
        self.app = app
        self.component = component
        self.log = structlog.get_logger(component)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(_header(scope, b"x-request-id"))
        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        status_sent: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status = status_sent = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Rendered here, inside the request's context, so the 500 carries its request id.
            self.log.exception("unhandled_error", path=scope["path"])
            if status_sent is None:
                response = problem_response(500, "internal_error", "An unexpected error occurred")
                await response(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope, prefix=f"/v1/{self.component}")
        HTTP_REQUESTS.labels(self.component, scope["method"], route, str(status)).inc()
        HTTP_LATENCY.labels(self.component, route).observe(seconds)
        self.log.info(
            "request",
            method=scope["method"],
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _route_template(scope: Scope, *, prefix: str) -> str:
    """The matched route's template (bounded metric labels), with the router's prefix."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    template = route.path
    if scope["path"].startswith(prefix) and not template.startswith(prefix):
        return prefix + template
    return template
