"""Tickets' request dependencies: the service's clock and settings."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.tickets.config import TicketsSettings


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _settings(request: Request) -> TicketsSettings:
    return request.app.state.settings


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
Settings = Annotated[TicketsSettings, Depends(_settings)]
