"""The gateway's front door, as plain ASGI: every request passes here first.

In order: request id, body-size limit, authentication, rate limit, then either the proxy
(`/v1/<service>/...`) or the gateway's own FastAPI app (its API, docs, probes). FastAPI
is kept off the proxy path: its routing alone was measured at half the proxy's cost.
"""

import functools
import json
import time
from http import HTTPStatus
from urllib.parse import quote

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import Authenticator
from gateway.config import GatewaySettings
from gateway.idempotency import Idempotency, caller_scope, requested_key
from gateway.proxy import (
    CALLER_HEADER_BYTES,
    BodyTooLarge,
    NulInBody,
    Upstreams,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.ratelimit import TokenBuckets, retry_after_header
from shared.errors import CEMError, FieldError, InvalidInput
from shared.http import PROBLEM_MEDIA_TYPE, problem_body
from shared.observability import accept_request_id, request_id_var

log = structlog.get_logger("gateway")

PROXIED = Counter(
    "cem_gateway_requests_total", "Requests through the gateway", ["service", "status"]
)
PROXY_LATENCY = Histogram("cem_gateway_request_duration_seconds", "Gateway latency", ["service"])


@functools.cache
def _proxied(service: str, status: int) -> Counter:
    """Labelled children looked up once: `labels()` takes a lock on every call."""
    return PROXIED.labels(service, str(status))


@functools.cache
def _latency(service: str) -> Histogram:
    return PROXY_LATENCY.labels(service)


OWN_SERVICE = "gateway"
# Credentials and internal headers end at the edge; services get the signed caller only.
STRIPPED_HEADERS = frozenset({b"authorization", b"x-api-key", b"x-request-id", b"x-forwarded-for"})
INTERNAL_PREFIX = b"x-cem-"
WWW_AUTHENTICATE = (b"www-authenticate", b'Bearer realm="cem", ApiKey realm="cem"')


class GatewayEdge:
    def __init__(
        self,
        inner: ASGIApp,
        *,
        settings: GatewaySettings,
        authenticator: Authenticator,
        upstreams: Upstreams,
        idempotency: Idempotency | None = None,
    ) -> None:
        self.inner = inner
        self.idempotency = idempotency
        self.settings = settings
        self.authenticator = authenticator
        self.upstreams = upstreams
        self.buckets = TokenBuckets(
            rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst
        )
        self.public_prefixes = tuple(settings.public_path_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.inner(scope, self._closing_upstreams(receive), send)
        elif scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.inner(scope, receive, send)
        else:
            await self._api(scope, receive, send)

    def _closing_upstreams(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.upstreams.close()
            return message

        return wrapped

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = scope["headers"]
        request_id = accept_request_id(_header(headers, b"x-request-id"))
        request_id_var.set(request_id)
        service = scope["path"].split("/", 3)[2]
        status = 500
        try:
            status = await self._handle(scope, receive, send, service, headers, request_id)
        except CEMError as error:
            status = error.status
            await send_problem(
                send,
                error.status,
                error.code,
                error.detail,
                request_id,
                _error_headers(error),
                error.errors,
            )
        finally:
            if service in self.upstreams.urls:
                _proxied(service, status).inc()
                _latency(service).observe(time.perf_counter() - started)
            if status >= 500:
                log.warning(
                    "gateway_error",
                    service=service,
                    path=scope["path"],
                    status=status,
                    request_id=request_id,
                )

    async def _handle(self, scope, receive, send, service, headers, request_id) -> int:
        if service != OWN_SERVICE and service not in self.upstreams.urls:
            await send_problem(send, 404, "not_found", f"No service named {service!r}", request_id)
            return 404
        content_length = _content_length(headers)
        if content_length is not None and content_length > self.settings.body_limit(service):
            await send_problem(send, 413, "payload_too_large", self._too_large(service), request_id)
            return 413
        _refuse_nul_in_target(scope)
        client_address = (scope.get("client") or ("unknown",))[0]
        # The caller's own address, never one it claims: services fingerprint networks by it.
        forwarded = [
            (b"x-request-id", request_id.encode()),
            (b"x-forwarded-for", client_address.encode()),
        ]
        resign = None
        caller = None
        if scope["path"].startswith(self.public_prefixes):
            # No caller to charge: an anonymous link is limited per client address instead.
            limited_as = "ip:" + client_address
        else:
            authenticated = await self._authenticate(headers)
            forwarded.append((CALLER_HEADER_BYTES, authenticated.internal_token.encode()))
            limited_as = authenticated.caller.subject
            caller = authenticated.caller
            resign = functools.partial(self.authenticator.sign, caller)
        if wait := self.buckets.take(limited_as):
            await send_problem(
                send,
                429,
                "rate_limited",
                "Too many requests; slow down",
                request_id,
                [(b"retry-after", retry_after_header(wait).encode())],
            )
            return 429
        forwarded.extend(
            (name, value)
            for name, value in headers
            if name not in STRIPPED_HEADERS and not name.startswith(INTERNAL_PREFIX)
        )
        if service == OWN_SERVICE:
            await self.inner(dict(scope, headers=forwarded), receive, send)
            return 200
        key = requested_key(scope["method"], headers) if caller else None
        guard = (caller_scope(caller), key) if key is not None and self.idempotency else None
        return await self._forward(
            scope, receive, send, service, forwarded, content_length, request_id, resign, guard
        )

    async def _authenticate(self, headers):
        bearer = _header(headers, b"authorization")
        api_key = _header(headers, b"x-api-key")
        if bearer and bearer[:7].lower() == "apikey ":
            api_key, bearer = bearer[7:].strip(), None
        elif bearer and bearer[:7].lower() == "bearer ":
            bearer = bearer[7:].strip()
        elif bearer:
            bearer = None
        return await self.authenticator.authenticate(api_key=api_key, bearer=bearer)

    async def _forward(
        self, scope, receive, send, service, headers, content_length, request_id, resign, guard
    ):
        """`guard`: the caller and `Idempotency-Key` of a request answered once per key."""
        raw_path = scope.get("raw_path")
        target = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        forward = functools.partial(
            self.upstreams.forward,
            service,
            method=scope["method"],
            target=target,
            headers=headers,
            max_body_bytes=self.settings.body_limit(service),
            request_id=request_id.encode(),
            resign=resign,
        )
        try:
            if guard is None or self.idempotency is None:
                return await forward(receive=receive, send=send, content_length=content_length)
            return await self.idempotency.handle(
                caller=guard[0],
                key=guard[1],
                method=scope["method"],
                target=target,
                receive=receive,
                send=send,
                max_body_bytes=self.settings.body_limit(service),
                request_id=request_id.encode(),
                forward=forward,
            )
        except BodyTooLarge:
            await send_problem(send, 413, "payload_too_large", self._too_large(service), request_id)
            return 413
        except NulInBody as error:
            raise InvalidInput.for_field("body", "must not contain NUL characters") from error
        except UpstreamTimeout:
            await send_problem(
                send,
                504,
                "upstream_timeout",
                f"The {service} service did not answer in time",
                request_id,
            )
            return 504
        except UpstreamUnavailable:
            await send_problem(
                send,
                503,
                "upstream_unavailable",
                f"The {service} service is unavailable",
                request_id,
            )
            return 503

    def _too_large(self, service: str) -> str:
        limit = self.settings.body_limit(service)
        return f"Request bodies to {service} are limited to {limit} bytes"


async def send_problem(
    send: Send,
    status: int,
    code: str,
    detail: str,
    request_id: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
    errors: list[FieldError] | None = None,
) -> None:
    title = HTTPStatus(status).phrase
    body = json.dumps(
        problem_body(status=status, code=code, title=title, detail=detail, errors=errors)
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                *(extra_headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _refuse_nul_in_target(scope: Scope) -> None:
    """A NUL character reaches no database column: refused here, not as a service's 500."""
    for part, value in (("path", scope.get("raw_path") or b""), ("query", scope["query_string"])):
        if b"%00" in value or b"\x00" in value:
            raise InvalidInput.for_field(part, "must not contain NUL characters")


def _error_headers(error: CEMError) -> list[tuple[bytes, bytes]]:
    own = getattr(error, "headers", [])  # e.g. the Retry-After of a key still in use
    return [WWW_AUTHENTICATE, *own] if error.status == 401 else own


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    value = _header(headers, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
