"""The other services' privacy exports, fetched over their internal URLs for one owner.

Only the export uses this (a rare, explicit request, never a read path). The caller's own
signed token is forwarded, so each service applies the same scope it would at the gateway.
A service that does not answer, or answers with an error, is reported as missing."""

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.auth import CALLER_HEADER


@dataclass
class GatheredExports:
    services: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


class PeerExports:
    def __init__(
        self,
        peer_urls: dict[str, str],
        *,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.peer_urls = peer_urls
        self.timeout_seconds = timeout_seconds
        self.transport = transport

    async def gather(self, owner_id: uuid.UUID, caller_token: str) -> GatheredExports:
        result = GatheredExports()
        async with httpx.AsyncClient(
            timeout=self.timeout_seconds,
            transport=self.transport,
            headers={CALLER_HEADER: caller_token},
        ) as client:
            answers = await asyncio.gather(
                *(self._one(client, name, base, owner_id) for name, base in self.peer_urls.items())
            )
        for name, (data, problem) in zip(self.peer_urls, answers, strict=True):
            if problem is None:
                result.services[name] = data
            else:
                result.missing[name] = problem
        return result

    @staticmethod
    async def _one(
        client: httpx.AsyncClient, name: str, base: str, owner_id: uuid.UUID
    ) -> tuple[Any, str | None]:
        url = f"{base.rstrip('/')}/v1/{name}/privacy/owners/{owner_id}/export"
        try:
            response = await client.get(url)
        except httpx.HTTPError as error:
            return None, f"did not answer: {error.__class__.__name__}"
        if response.status_code != 200:
            return None, f"answered {response.status_code}"
        try:
            return response.json(), None
        except ValueError:
            return None, "answered with something other than JSON"
