"""Crypto-shredding: each owner's personal fields are sealed (AES-256-GCM) with a data key of
their own, itself wrapped with the service's master key. Destroying an owner's data key
leaves their fields unreadable everywhere a copy went (replicas, backups, exports of the
table). Contact details are also kept as keyed hashes, for identity resolution."""

import base64
import hashlib
import hmac
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1:"
_NONCE_BYTES = 12


class Vault:
    def __init__(self, *, master_key: bytes, pepper: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes (AES-256)")
        self._master = AESGCM(master_key)
        self._pepper = pepper

    @staticmethod
    def from_secrets(master_key: str, pepper: str) -> "Vault":
        return Vault(
            master_key=hashlib.sha256(master_key.encode()).digest(), pepper=pepper.encode()
        )

    def new_wrapped_key(self, owner_id: uuid.UUID) -> bytes:
        """A fresh data key for one owner, wrapped (encrypted) with the master key."""
        return self._encrypt(self._master, AESGCM.generate_key(bit_length=256), owner_id)

    def seal(self, wrapped_key: bytes, owner_id: uuid.UUID, value: str | None) -> str | None:
        if value is None:
            return None
        data_key = AESGCM(self._unwrap(wrapped_key, owner_id))
        return (
            _PREFIX + base64.b64encode(self._encrypt(data_key, value.encode(), owner_id)).decode()
        )

    def open(self, wrapped_key: bytes, owner_id: uuid.UUID, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        if not sealed.startswith(_PREFIX):
            raise ValueError("not a sealed value")
        data_key = AESGCM(self._unwrap(wrapped_key, owner_id))
        blob = base64.b64decode(sealed.removeprefix(_PREFIX))
        return data_key.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], owner_id.bytes).decode()

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(_PREFIX)

    def contact_hash(self, kind: str, value: str | None) -> str | None:
        """The same person's email or phone hashes the same whatever its spelling."""
        if not value:
            return None
        normalised = value.strip().lower() if kind == "email" else _digits(value)
        return hmac.new(self._pepper, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()

    def _unwrap(self, wrapped_key: bytes, owner_id: uuid.UUID) -> bytes:
        try:
            return self._master.decrypt(
                wrapped_key[:_NONCE_BYTES], wrapped_key[_NONCE_BYTES:], owner_id.bytes
            )
        except InvalidTag as error:
            raise ValueError("the owner's key does not belong to this owner") from error

    @staticmethod
    def _encrypt(cipher: AESGCM, plaintext: bytes, owner_id: uuid.UUID) -> bytes:
        # The owner id is the associated data: a sealed value copied onto another owner fails.
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + cipher.encrypt(nonce, plaintext, owner_id.bytes)


def _digits(phone: str) -> str:
    digits = "".join(character for character in phone if character.isdigit())
    # +86 138... and 138... are the same mainland number.
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
