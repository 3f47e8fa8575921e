"""Journeys' request dependencies: the service's clock."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request


def _now(request: Request) -> datetime:
    return request.app.state.clock()


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
