"""FastAPI dependencies every service uses: the request's transaction and its caller."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import CALLER_HEADER, Caller
from shared.pagination import PageParams


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.database.transaction() as session:
        yield session


def _request_caller(request: Request) -> Caller:
    return request.app.state.caller_verifier.verify(request.headers.get(CALLER_HEADER))


def _page_params(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


# scope="function": the transaction commits before the response is sent, so a failed
# commit becomes an error response instead of a success the database never saw.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
CurrentCaller = Annotated[Caller, Depends(_request_caller)]
Paging = Annotated[PageParams, Depends(_page_params)]
