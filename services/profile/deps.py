"""Profile's request dependencies: the clock, settings and the owners' vault."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.profile.config import ProfileSettings
from services.profile.peers import PeerExports
from services.profile.vault import Vault
from shared.auth import CALLER_HEADER


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


def _peers(request: Request) -> PeerExports:
    return request.app.state.peers


def _caller_token(request: Request) -> str:
    """The caller's signed token, forwarded as-is when profile asks other services."""
    return request.headers.get(CALLER_HEADER, "")


Peers = Annotated[PeerExports, Depends(_peers)]
CallerToken = Annotated[str, Depends(_caller_token)]
