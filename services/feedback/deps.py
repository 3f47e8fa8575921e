"""Feedback's request dependencies: the service's clock, settings, the answer's provenance
(keyed hashes of the device and network it came from) and the slice an analytics query reads."""

import hashlib
import hmac
import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from services.feedback.config import FeedbackSettings
from services.feedback.domain import LifecycleStage, SurveyKind, Touchpoint
from services.feedback.domain.analytics import Slice, utc_day
from services.feedback.service import analytics
from services.feedback.service.responses import Fingerprint
from shared.dependencies import CurrentCaller, Session


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _settings(request: Request) -> FeedbackSettings:
    return request.app.state.settings


def _fingerprint(request: Request) -> Fingerprint:
    """The network is the client address the gateway forwards (`x-forwarded-for`); the
    peer is the gateway itself, the same for every owner, so it is never used. The app
    sends `x-device-id`; a browser is known by its user agent on its network (a user agent
    alone is shared by thousands of owners)."""
    settings: FeedbackSettings = request.app.state.settings
    key = settings.internal_secret.get_secret_value().encode()
    headers = request.headers
    network = headers.get("x-forwarded-for", "").split(",")[0].strip() or None
    agent = headers.get("user-agent")
    device = headers.get("x-device-id") or (f"{agent}@{network}" if agent and network else None)

    def keyed(label: str, value: str | None) -> str | None:
        if not value:
            return None
        return hmac.new(key, f"{label}:{value}".encode(), hashlib.sha256).hexdigest()

    return Fingerprint(
        device_hash=keyed("device", device),
        network_hash=keyed("network", network),
        address=network,
    )


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
Settings = Annotated[FeedbackSettings, Depends(_settings)]
Provenance = Annotated[Fingerprint, Depends(_fingerprint)]


async def _slice(
    session: Session,
    caller: CurrentCaller,
    now: Now,
    kind: SurveyKind = SurveyKind.NPS,
    start: date | None = None,
    end: date | None = None,
    dealer_id: uuid.UUID | None = None,
    touchpoint: Touchpoint | None = None,
    lifecycle_stage: LifecycleStage | None = None,
    model: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> Slice:
    """The answers an analytics figure counts (the last 90 days unless given), within what
    the caller may see."""
    return await analytics.scoped_slice(
        session,
        caller,
        kind=kind,
        start=start,
        end=end,
        today=utc_day(now),
        dealer_id=dealer_id,
        touchpoint=touchpoint,
        lifecycle_stage=lifecycle_stage,
        model=model,
    )


AnalyticsSlice = Annotated[Slice, Depends(_slice)]
