"""Profile's request dependencies: the clock, settings and the owners' vault."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.profile.config import ProfileSettings
from services.profile.vault import Vault


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _settings(request: Request) -> ProfileSettings:
    return request.app.state.settings


def _vault(request: Request) -> Vault:
    return request.app.state.vault


# The moment a request happens, from the app's clock (a controllable one in tests).
Now = Annotated[datetime, Depends(_now)]
Settings = Annotated[ProfileSettings, Depends(_settings)]
OwnerVault = Annotated[Vault, Depends(_vault)]
