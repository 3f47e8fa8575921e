"""Senders for the outside channels: one interface (`service.deliveries.Sender`); real
providers are adapters. The development sender records what would be sent; the webhook
sender posts to the step's URL with the delivery id as `Idempotency-Key`."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from services.journeys.service.deliveries import Outgoing, Sender


@dataclass
class Recorded:
    outgoing: Outgoing
    attempts: int
    at: datetime


@dataclass
class DevelopmentSender:
    """Records each message once per idempotency key, as a provider that honours the key
    would; `attempts` shows how often it was asked."""

    channel: str
    sent: dict = field(default_factory=dict)

    async def send(self, outgoing: Outgoing) -> str:
        held = self.sent.get(outgoing.idempotency_key)
        if held is not None:
            held.attempts += 1
        else:
            self.sent[outgoing.idempotency_key] = Recorded(outgoing, 1, datetime.now(UTC))
        return f"dev-{self.channel}-{outgoing.idempotency_key}"


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
        self.client = client or httpx.AsyncClient(timeout=timeout)

    async def send(self, outgoing: Outgoing) -> str:
        response = await self.client.post(
            outgoing.payload["url"],
            json=outgoing.payload["body"],
            headers={"Idempotency-Key": str(outgoing.idempotency_key)},
        )
        response.raise_for_status()
        return f"http-{response.status_code}"


def development_senders(webhook: Sender | None = None) -> dict[str, Sender]:
    senders: dict[str, Sender] = {
        channel: DevelopmentSender(channel) for channel in ("app_push", "sms", "email")
    }
    senders["webhook"] = webhook or WebhookSender()
    return senders
