"""Telematics' request dependencies: the app's clock, settings and database."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.telematics.config import TelematicsSettings
from shared.database import Database


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _settings(request: Request) -> TelematicsSettings:
    return request.app.state.settings


def _database(request: Request) -> Database:
    return request.app.state.database


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
Settings = Annotated[TelematicsSettings, Depends(_settings)]
# For the ingestion path, which runs its own short transactions instead of the request's.
RequestDatabase = Annotated[Database, Depends(_database)]
