"""Who is calling: dealer and dealer-group API keys and bearer JWTs, turned into a forwarded
caller token. A dealer group's key is resolved here to the group's dealers, once per check.

Credentials are checked once and then served from memory: a validated credential maps to
its caller and to the short-lived internal token forwarded to services. A revoked or
rotated key, or a key whose group gained or lost a dealer, leaves every replica's memory at
once (PostgreSQL NOTIFY on commit).
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from gateway import keys
from gateway.config import GatewaySettings
from gateway.models import ApiKey
from gateway.repository import GROUP_PREFIX, KEY_CHANNEL, GatewayRepository
from gateway.tokens import TokenValidator
from shared.auth import Caller, CallerKind, sign_caller
from shared.database import Database
from shared.errors import Unauthorized

log = structlog.get_logger("gateway.auth")

INTERNAL_TOKEN_TTL_SECONDS = 60
INTERNAL_TOKEN_REFRESH_SECONDS = 30  # re-sign well before services would refuse it
KEY_CACHE_SECONDS = 300  # a safety net only: revocations arrive by NOTIFY
MAX_CACHED_CREDENTIALS = 50_000


@dataclass
class Authenticated:
    caller: Caller
    internal_token: str
    signed_at: float
    valid_until: float
    key_id: str | None = None


class Authenticator:
    def __init__(self, settings: GatewaySettings) -> None:
        self._database: Database | None = None
        self._pepper = settings.api_key_pepper.get_secret_value()
        self._internal_secret = settings.internal_secret.get_secret_value()
        self._tokens = TokenValidator(settings)
        self._credentials: dict[str, Authenticated] = {}
        self._credential_by_key: dict[str, str] = {}
        # Counts the changes heard of: a check that a change overtook is used once, not kept.
        self._changes_heard = 0
        self.used_keys: set[str] = set()

    def bind(self, database: Database) -> None:
        """The gateway's database, known once the app around this authenticator exists."""
        self._database = database

    async def authenticate(self, *, api_key: str | None, bearer: str | None) -> Authenticated:
        credential = api_key or bearer
        if not credential:
            raise Unauthorized("Send an API key (X-API-Key) or a bearer token (Authorization)")
        now = time.time()
        known = self._credentials.get(credential)
        if known is None or known.valid_until <= now:
            changes_heard = self._changes_heard
            known = await self._validate(api_key, bearer, now)
            if changes_heard == self._changes_heard:
                self._remember(credential, known)
        elif now - known.signed_at > INTERNAL_TOKEN_REFRESH_SECONDS:
            known.internal_token = self.sign(known.caller)
            known.signed_at = now
        if known.key_id:
            self.used_keys.add(known.key_id)
        return known

    async def _validate(self, api_key: str | None, bearer: str | None, now: float) -> Authenticated:
        key_id = None
        if api_key:
            caller, key_id = await self._validate_key(api_key)
            valid_until = now + KEY_CACHE_SECONDS
        else:
            caller, valid_until = await self._tokens.caller(bearer or "")
        return Authenticated(caller, self.sign(caller), now, valid_until, key_id)

    def sign(self, caller: Caller) -> str:
        """A fresh internal token for `caller`; also for a request the proxy held a while."""
        return sign_caller(caller, self._internal_secret, ttl_seconds=INTERNAL_TOKEN_TTL_SECONDS)

    async def _validate_key(self, presented: str) -> tuple[Caller, str]:
        parsed = keys.parse(presented)
        if parsed is None:
            raise Unauthorized("The API key is malformed or its checksum does not match")
        assert self._database is not None, "bind() the database first"
        async with self._database.transaction() as session:
            repository = GatewayRepository(session)
            stored = await repository.active_key(parsed.key_id)
            if stored is None or not keys.matches(parsed.secret, stored.secret_hash, self._pepper):
                raise Unauthorized("The API key is not valid")
            caller = await _key_caller(repository, stored)
        return caller, stored.id

    def _remember(self, credential: str, known: Authenticated) -> None:
        if len(self._credentials) >= MAX_CACHED_CREDENTIALS:
            self.forget_all()
        self._credentials[credential] = known
        if known.key_id:
            self._credential_by_key[known.key_id] = credential

    def forget_key(self, key_id: str) -> None:
        self._changes_heard += 1
        credential = self._credential_by_key.pop(key_id, None)
        if credential:
            self._credentials.pop(credential, None)

    def forget_group(self, group_id: str) -> None:
        """Every key of the dealer group: its dealers changed."""
        self._changes_heard += 1
        for key_id, credential in list(self._credential_by_key.items()):
            known = self._credentials.get(credential)
            if known is None or str(known.caller.dealer_group_id) == group_id:
                self.forget_key(key_id)

    def forget_all(self) -> None:
        self._changes_heard += 1
        self._credentials.clear()
        self._credential_by_key.clear()


async def _key_caller(repository: GatewayRepository, key: ApiKey) -> Caller:
    """A dealer's key calls as the dealer; a dealer group's, as every dealer of the group (its
    dealers resolved here, once: services scope by the set the caller token carries)."""
    if key.dealer_group_id is None:
        return Caller(kind=CallerKind.DEALER, subject=str(key.dealer_id), dealer_id=key.dealer_id)
    return Caller(
        kind=CallerKind.DEALER,
        subject=f"dealer_group:{key.dealer_group_id}",
        dealer_group_id=key.dealer_group_id,
        group_dealer_ids=await repository.group_dealers(key.dealer_group_id),
    )


async def listen_for_key_changes(database: Database, authenticator: Authenticator) -> None:
    """Drops revoked or rotated keys from memory the moment their change commits."""
    url = database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def on_notify(connection, pid, channel, named: str) -> None:
        if named.startswith(GROUP_PREFIX):
            authenticator.forget_group(named.removeprefix(GROUP_PREFIX))
        else:
            authenticator.forget_key(named)

    while True:
        closed = asyncio.Event()
        try:
            connection = await asyncpg.connect(url)
            connection.add_termination_listener(lambda _, ended=closed: ended.set())
            await connection.add_listener(KEY_CHANNEL, on_notify)
            authenticator.forget_all()  # anything may have changed while we were not listening
            await closed.wait()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("key_listener_failed", error=repr(error))
        await asyncio.sleep(1.0)


async def record_key_use(
    database: Database, authenticator: Authenticator, *, every_seconds: float
) -> None:
    """Writes `last_used_at` in batches: one statement per period, not a write per request."""
    while True:
        await asyncio.sleep(every_seconds)
        used, authenticator.used_keys = authenticator.used_keys, set()
        if not used:
            continue
        try:
            async with database.transaction() as session:
                await GatewayRepository(session).mark_used(sorted(used))
        except Exception as error:
            authenticator.used_keys |= used
            log.warning("key_use_not_recorded", error=repr(error))


def workers(authenticator: Authenticator, settings: GatewaySettings) -> list[Callable]:
    return [
        lambda database: listen_for_key_changes(database, authenticator),
        lambda database: record_key_use(
            database, authenticator, every_seconds=settings.key_use_flush_seconds
        ),
    ]
