"""Feedback's request dependencies: the service's clock, settings and the answer's
provenance (keyed hashes of the device and network it came from)."""

import hashlib
import hmac
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.feedback.config import FeedbackSettings
from services.feedback.service.responses import Fingerprint


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _settings(request: Request) -> FeedbackSettings:
    return request.app.state.settings


def _fingerprint(request: Request) -> Fingerprint:
    """The app sends `x-device-id`; browsers are known by their user agent. The network is
    the first address the gateway saw (`x-forwarded-for`), else the peer."""
    settings: FeedbackSettings = request.app.state.settings
    key = settings.internal_secret.get_secret_value().encode()
    headers = request.headers
    device = headers.get("x-device-id") or headers.get("user-agent")
    forwarded = headers.get("x-forwarded-for", "").split(",")[0].strip()
    network = forwarded or (request.client.host if request.client else None)

    def keyed(label: str, value: str | None) -> str | None:
        if not value:
            return None
        return hmac.new(key, f"{label}:{value}".encode(), hashlib.sha256).hexdigest()

    return Fingerprint(device_hash=keyed("device", device), network_hash=keyed("network", network))


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
Settings = Annotated[FeedbackSettings, Depends(_settings)]
Provenance = Annotated[Fingerprint, Depends(_fingerprint)]
