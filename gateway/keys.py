"""Dealer API keys, shaped for secret scanners: `cem_<key id>_<secret><checksum>`.

- `cem_` is a fixed prefix, and the rest is one word (hex id, base62 secret and checksum),
  so a scanner matches `cem_[0-9a-f]{12}_[0-9A-Za-z]{49}` and a double click selects it all.
- The checksum is the CRC32 of everything before it, in 6 base62 characters (as GitHub's
  tokens do): a typo or a made-up key is refused without a database lookup, and a scanner
  can tell a real-looking key from noise offline.
- Only HMAC-SHA-256(pepper, secret) is stored. An HMAC, not a slow password hash: keys are
  long random secrets, and one is checked on every request. The key id is a lookup prefix,
  never a secret.
"""

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass

PREFIX = "cem"
KEY_ID_BYTES = 6  # 12 hex characters
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SECRET_LENGTH = 43  # 43 base62 characters carry 256 bits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits
KEY_PATTERN = re.compile(
    rf"{PREFIX}_(?P<key_id>[0-9a-f]{{{2 * KEY_ID_BYTES}}})_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        body = f"{PREFIX}_{self.key_id}_{self.secret}"
        return body + checksum(body)


def new_key() -> IssuedKey:
    secret = "".join(secrets.choice(BASE62) for _ in range(SECRET_LENGTH))
    return IssuedKey(key_id=secrets.token_hex(KEY_ID_BYTES), secret=secret)


def checksum(body: str) -> str:
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def parse(token: str) -> IssuedKey | None:
    """Splits a presented key; None when it is not shaped like one of ours or its checksum
    does not match (so it is refused before anything is looked up)."""
    shaped = KEY_PATTERN.fullmatch(token)
    if shaped is None:
        return None
    body = token[:-CHECKSUM_LENGTH]
    if not hmac.compare_digest(checksum(body), shaped["checksum"]):
        return None
    return IssuedKey(key_id=shaped["key_id"], secret=shaped["secret"])


def secret_hash(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def matches(secret: str, stored_hash: str, pepper: str) -> bool:
    return hmac.compare_digest(secret_hash(secret, pepper), stored_hash)
