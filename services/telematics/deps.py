"""Telematics' request dependencies: the app's clock, settings and signal writer (`async
def`, though none waits: FastAPI runs a plain `def` in its thread pool)."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.telematics.config import TelematicsSettings
from services.telematics.signal_store import SignalWriter


async def _now(request: Request) -> datetime:
    return request.app.state.clock()


async def _settings(request: Request) -> TelematicsSettings:
    return request.app.state.settings


async def _signal_writer(request: Request) -> SignalWriter:
    return request.app.state.signal_writer


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
Settings = Annotated[TelematicsSettings, Depends(_settings)]
# For the ingestion path, which runs its own short transactions instead of the request's.
Writer = Annotated[SignalWriter, Depends(_signal_writer)]
