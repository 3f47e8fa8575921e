"""The simulator's only door to the platform: the gateway's public API over HTTP, with the
credentials a real DMS, app, connector and vehicle gateway would hold, a bounded number of
requests in flight, and patience for rate limits and restarts."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from gateway.config import GatewaySettings
from gateway.tokens import mint_development_token
from shared.auth import CallerKind, StaffRole

RETRIED_STATUSES = frozenset({429, 502, 503, 504})
ATTEMPTS = 8
# A 504 says the gateway stopped waiting, not that the service stopped working: the first
# attempt is likely still running, and a resend racing it could collide with it. The resend
# waits for it to finish (it then finds the work done: a batch resent changes nothing).
UPSTREAM_BUSY_SECONDS = 30.0
PAGE_LIMIT = 200
# The merged OpenAPI is asked for again while a service is missing from it, for a minute
# (the gateway names those in this `info` field of the document).
MISSING_SERVICES = "x-cem-missing-services"
DOCUMENT_TRIES = 12
DOCUMENT_PAUSE_SECONDS = 5.0
ADMIN_SUBJECT = "fleet-simulator@cem.local"

_encoder = msgspec.json.Encoder()


class GatewayError(RuntimeError):
    """The platform refused a request the simulator cannot do without."""

    def __init__(self, response: httpx.Response) -> None:
        request = response.request
        super().__init__(
            f"{request.method} {request.url.path} -> {response.status_code}: {response.text[:500]}"
        )
        self.status_code = response.status_code


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Credentials:
    """Development tokens minted as the local gateway accepts them, and the dealers' keys."""

    settings: GatewaySettings
    dealer_keys: dict[str, dict[str, str]] = field(default_factory=dict)  # dealer id -> header

    def _token(self, kind: CallerKind, subject: str, *roles: StaffRole) -> dict[str, str]:
        return bearer(
            mint_development_token(self.settings, kind=kind, subject=subject, roles=roles)
        )

    def admin(self) -> dict[str, str]:
        return self._token(CallerKind.STAFF, ADMIN_SUBJECT, StaffRole.ADMIN)

    def quality_engineer(self) -> dict[str, str]:
        return self._token(CallerKind.STAFF, "quality@cem.local", StaffRole.QUALITY_ENGINEER)

    def cx_agent(self, name: str = "cx-agent@cem.local") -> dict[str, str]:
        return self._token(CallerKind.STAFF, name, StaffRole.CX_AGENT)

    def service(self, name: str) -> dict[str, str]:
        """A machine credential: the vehicle gateway, the community connector."""
        return self._token(CallerKind.SERVICE, name)

    def owner(self, owner_id: str) -> dict[str, str]:
        return self._token(CallerKind.OWNER, owner_id)

    def dealer(self, dealer_id: str) -> dict[str, str]:
        return self.dealer_keys[dealer_id]


class Gateway:
    def __init__(self, base_url: str, *, concurrency: int, timeout: float = 60.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._paths: set[str] | None = None

    async def __aenter__(self) -> "Gateway":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        body: Any = None,
        params: dict[str, Any] | None = None,
        accept: tuple[int, ...] = (200, 201),
    ) -> httpx.Response:
        """One call, retried on rate limits, unavailability and dropped connections; a status
        outside `accept` raises."""
        content = None if body is None else _encoder.encode(body)
        if content is not None:
            headers = {**headers, "Content-Type": "application/json"}
        for attempt in range(ATTEMPTS):
            async with self._slots:
                try:
                    response = await self._client.request(
                        method, path, headers=headers, content=content, params=params
                    )
                except httpx.TransportError:
                    if attempt == ATTEMPTS - 1:
                        raise
                    response = None
            if response is not None and response.status_code not in RETRIED_STATUSES:
                break
            await asyncio.sleep(_pause(response, attempt))
        assert response is not None
        if response.status_code not in accept:
            raise GatewayError(response)
        return response

    async def get(self, path: str, *, headers, params=None, accept=(200,)) -> httpx.Response:
        return await self.request("GET", path, headers=headers, params=params, accept=accept)

    async def post(self, path: str, body: Any = None, *, headers, accept=(200, 201)):
        return await self.request("POST", path, headers=headers, body=body, accept=accept)

    async def items(
        self, path: str, *, headers: dict[str, str], params: dict | None = None
    ) -> AsyncIterator[dict]:
        """Every item of a paged list."""
        offset = 0
        while True:
            page_params = {**(params or {}), "limit": PAGE_LIMIT, "offset": offset}
            page = (await self.get(path, headers=headers, params=page_params)).json()
            for item in page["items"]:
                yield item
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    async def total(self, path: str, *, headers: dict[str, str], params=None) -> int:
        response = await self.get(path, headers=headers, params={**(params or {}), "limit": 1})
        return response.json()["total"]

    async def offers(self, method: str, path: str) -> bool:
        """Whether the platform's API has this operation (from the gateway's merged OpenAPI)."""
        if self._paths is None:
            document = await self._whole_document()
            self._paths = {
                f"{verb.upper()} {route}"
                for route, operations in document.get("paths", {}).items()
                for verb in operations
            }
        return f"{method.upper()} {path}" in self._paths

    async def _whole_document(self) -> dict:
        """The merged OpenAPI once every service is in it (a service busy starting may not
        have answered the gateway yet), or as it is after a minute."""
        for _ in range(DOCUMENT_TRIES):
            document = (await self.get("/openapi.json", headers={})).json()
            if not document.get("info", {}).get(MISSING_SERVICES):
                break
            await asyncio.sleep(DOCUMENT_PAUSE_SECONDS)
        return document


def _pause(response: httpx.Response | None, attempt: int) -> float:
    if response is not None and (after := response.headers.get("retry-after", "")).isdigit():
        return float(after)
    if response is not None and response.status_code == 504:
        return UPSTREAM_BUSY_SECONDS
    return min(0.25 * 2**attempt, 8.0)
