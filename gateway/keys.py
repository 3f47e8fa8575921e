"""Dealer API keys: `cem_<key id>_<secret>`, stored only as HMAC-SHA-256(pepper, secret).

An HMAC, not a slow password hash: keys are long random secrets, and one is checked on
every request. The key id is a lookup prefix, never a secret.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "cem"
KEY_ID_BYTES = 6  # 12 hex characters
SECRET_BYTES = 32


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        return f"{PREFIX}_{self.key_id}_{self.secret}"


def new_key() -> IssuedKey:
    return IssuedKey(
        key_id=secrets.token_hex(KEY_ID_BYTES), secret=secrets.token_urlsafe(SECRET_BYTES)
    )


def parse(token: str) -> IssuedKey | None:
    """Splits a presented key; None when it is not shaped like one of ours."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != 2 * KEY_ID_BYTES or len(secret) < SECRET_BYTES:
        return None
    return IssuedKey(key_id=key_id, secret=secret)


def secret_hash(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def matches(secret: str, stored_hash: str, pepper: str) -> bool:
    return hmac.compare_digest(secret_hash(secret, pepper), stored_hash)
