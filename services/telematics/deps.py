"""Telematics' request dependencies: the app's clock, settings and signal batches (`async
def`, though none waits: FastAPI runs a plain `def` in its thread pool)."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.telematics.config import TelematicsSettings
from services.telematics.service.ingestion import Batches


async def _now(request: Request) -> datetime:
    return request.app.state.clock()


async def _settings(request: Request) -> TelematicsSettings:
    return request.app.state.settings


async def _signal_batches(request: Request) -> Batches:
    return request.app.state.signal_batches


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
Settings = Annotated[TelematicsSettings, Depends(_settings)]
# For the ingestion path, which runs its own short transactions instead of the request's.
SignalBatches = Annotated[Batches, Depends(_signal_batches)]
