"""The gateway's own API, mounted at /v1/gateway: API keys of dealers and dealer groups (admins)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status

from gateway import service
from gateway.schemas import ApiKeyIssued, ApiKeyList, ApiKeyRead, KeyHolder
from shared.dependencies import CurrentCaller, Session

router = APIRouter(tags=["gateway"])
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


def _pepper(request: Request) -> str:
    return request.app.state.api_key_pepper


Pepper = Annotated[str, Depends(_pepper)]


def _forget_here(request: Request, key_id: str) -> None:
    """This replica stops accepting the key before it answers; the others learn it from the
    NOTIFY that the change's commit sends."""
    request.app.state.authenticator.forget_key(key_id)


@router.post(
    "/dealers/{dealer_id}/keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyIssued
)
async def issue_key(dealer_id: uuid.UUID, session: Session, caller: CurrentCaller, pepper: Pepper):
    """Issue a key for a dealer. The key is in this response only."""
    holder = KeyHolder(dealer_id=dealer_id)
    return await service.issue_key(session, caller=caller, holder=holder, pepper=pepper)


@router.get("/dealers/{dealer_id}/keys", response_model=ApiKeyList)
async def list_keys(dealer_id: uuid.UUID, session: Session, caller: CurrentCaller):
    holder = KeyHolder(dealer_id=dealer_id)
    return ApiKeyList(items=await service.list_keys(session, caller=caller, holder=holder))


@router.post(
    "/dealer-groups/{group_id}/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyIssued,
)
async def issue_group_key(
    group_id: uuid.UUID, session: Session, caller: CurrentCaller, pepper: Pepper
):
    """Issue a key for a dealer group: it sees the records of every dealer in the group, and
    of no other. The key is in this response only."""
    holder = KeyHolder(dealer_group_id=group_id)
    return await service.issue_key(session, caller=caller, holder=holder, pepper=pepper)


@router.get("/dealer-groups/{group_id}/keys", response_model=ApiKeyList)
async def list_group_keys(group_id: uuid.UUID, session: Session, caller: CurrentCaller):
    holder = KeyHolder(dealer_group_id=group_id)
    return ApiKeyList(items=await service.list_keys(session, caller=caller, holder=holder))


@router.post("/keys/{key_id}/rotate", response_model=ApiKeyIssued)
async def rotate_key(
    key_id: KeyId, session: Session, caller: CurrentCaller, pepper: Pepper, request: Request
):
    """Replace a key: the new one is in this response only; the old one stops at once."""
    issued = await service.rotate_key(session, caller=caller, key_id=key_id, pepper=pepper)
    _forget_here(request, key_id)
    return issued


@router.post("/keys/{key_id}/revoke", response_model=ApiKeyRead)
async def revoke_key(key_id: KeyId, session: Session, caller: CurrentCaller, request: Request):
    revoked = await service.revoke_key(session, caller=caller, key_id=key_id)
    _forget_here(request, key_id)
    return revoked
