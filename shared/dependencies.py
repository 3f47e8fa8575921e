"""FastAPI dependencies every service uses: the request's transaction and its caller."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import CALLER_HEADER, Caller, CallerKind
from shared.errors import Forbidden
from shared.pagination import PageParams


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.database.transaction() as session:
        yield session


def _any_caller(request: Request) -> Caller:
    return request.app.state.caller_verifier.verify(request.headers.get(CALLER_HEADER))


def _request_caller(request: Request) -> Caller:
    """An owner, a dealer or staff. A machine credential (the vehicle gateway, a connector)
    is refused here, before the body is read, whatever the route's own checks would let
    through (scopes read it as unscoped staff): it reaches only the routes that take
    `AnyCaller`."""
    caller = _any_caller(request)
    if caller.kind is CallerKind.SERVICE:
        raise Forbidden("Machine credentials may not call this route")
    return caller


def _page_params(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


# scope="function": the transaction commits before the response is sent, so a failed
# commit becomes an error response instead of a success the database never saw.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
CurrentCaller = Annotated[Caller, Depends(_request_caller)]
# A machine credential too: only for what machines send (signals, posts, interaction events).
AnyCaller = Annotated[Caller, Depends(_any_caller)]
Paging = Annotated[PageParams, Depends(_page_params)]
