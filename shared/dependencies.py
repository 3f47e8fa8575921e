"""FastAPI dependencies every service uses: the request's transaction and its caller."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import CALLER_HEADER, Caller, CallerKind
from shared.errors import Forbidden
from shared.idempotency.claims import claim_key
from shared.pagination import PageParams
from shared.scoping import EVERY_DEALER, RowScope


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The transaction sees the rows of the caller's dealers (row-level security): none
    without a caller, so a route that forgets to ask for one reads no dealer's rows. A POST
    or PATCH with an `Idempotency-Key` claims it here, to commit with its effect."""
    token = request.headers.get(CALLER_HEADER)
    caller = request.app.state.caller_verifier.verify(token) if token else None
    async with request.app.state.database.transaction(RowScope.for_caller(caller)) as session:
        if caller is not None:
            await claim_key(request, caller, session)
        yield session


async def _public_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.database.transaction(EVERY_DEALER) as session:
        yield session


# Dependencies that do not wait are still `async def`: FastAPI runs a plain `def` in its
# thread pool, two thread switches per request for a token check.
async def _any_caller(request: Request) -> Caller:
    return request.app.state.caller_verifier.verify(request.headers.get(CALLER_HEADER))


async def _request_caller(request: Request) -> Caller:
    """An owner, a dealer or staff. A machine credential (the vehicle gateway, a connector)
    is refused here, before the body is read, whatever the route's own checks would let
    through (scopes read it as unscoped staff): it reaches only the routes that take
    `AnyCaller`."""
    caller = await _any_caller(request)
    if caller.kind is CallerKind.SERVICE:
        raise Forbidden("Machine credentials may not call this route")
    return caller


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


# scope="function": the transaction commits before the response is sent, so a failed
# commit becomes an error response instead of a success the database never saw.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# For the few routes with no caller that find their record by a secret the request holds (a
# survey link's token): every dealer's rows, as the route itself scopes by that secret.
PublicSession = Annotated[AsyncSession, Depends(_public_session, scope="function")]
CurrentCaller = Annotated[Caller, Depends(_request_caller)]
# A machine credential too: only for what machines send (signals, posts, interaction events).
AnyCaller = Annotated[Caller, Depends(_any_caller)]
Paging = Annotated[PageParams, Depends(_page_params)]
