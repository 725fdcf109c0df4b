"""Ed25519 keys and signatures in Multikey / multibase form (W3C Controlled Identifiers).

- public key:  ``'z' + base58btc(0xed 0x01 ‖ 32-byte key)``  (``z6Mk…``)
- secret key:  ``'z' + base58btc(0x80 0x26 ‖ 32-byte seed)``  (``z3u2…``)
- proofValue:  ``'z' + base58btc(64-byte signature)``

Decoding is strict: the ``z`` (base58btc) prefix, the multicodec header, the exact length and
the canonical encoding are all required, so one value has exactly one spelling."""

from __future__ import annotations

import base58

ED25519_PUB_HEADER = b"\xed\x01"
ED25519_PRIV_HEADER = b"\x80\x26"
BASE58BTC = "z"
_ALPHABET = frozenset(base58.BITCOIN_ALPHABET.decode())


class MultibaseError(ValueError):
    """A multibase / Multikey value is malformed."""


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc: ``'z' + base58btc(data)``."""
    return BASE58BTC + base58.b58encode(data).decode("ascii")


def decode_base58btc(value: object, *, length: int | None = None) -> bytes:
    """The bytes of a multibase base58btc string; refuses other bases, characters outside
    the alphabet, non-canonical spellings and (with ``length``) the wrong size."""
    if not isinstance(value, str) or len(value) < 2 or not value.startswith(BASE58BTC):
        raise MultibaseError("not a multibase base58btc value")
    body = value[1:]
    if len(body) > 200 or not set(body) <= _ALPHABET:
        raise MultibaseError("characters outside the base58btc alphabet")
    data = base58.b58decode(body)
    if base58.b58encode(data).decode("ascii") != body:
        raise MultibaseError("non-canonical base58btc")
    if length is not None and len(data) != length:
        raise MultibaseError(f"expected {length} bytes, got {len(data)}")
    return data


def encode_public_key(raw: bytes) -> str:
    """The Multikey ``publicKeyMultibase`` of a raw 32-byte Ed25519 public key."""
    if len(raw) != 32:
        raise MultibaseError("an Ed25519 public key has 32 bytes")
    return encode_base58btc(ED25519_PUB_HEADER + raw)


def decode_public_key(value: object) -> bytes:
    """The raw 32-byte Ed25519 public key of a Multikey ``publicKeyMultibase``."""
    data = decode_base58btc(value, length=34)
    if data[:2] != ED25519_PUB_HEADER:
        raise MultibaseError("not an Ed25519 public key (multicodec 0xed)")
    return data[2:]


def encode_secret_key(seed: bytes) -> str:
    """The Multikey ``secretKeyMultibase`` of a 32-byte Ed25519 seed."""
    if len(seed) != 32:
        raise MultibaseError("an Ed25519 seed has 32 bytes")
    return encode_base58btc(ED25519_PRIV_HEADER + seed)


def decode_secret_key(value: object) -> bytes:
    """The 32-byte Ed25519 seed of a Multikey ``secretKeyMultibase``."""
    data = decode_base58btc(value, length=34)
    if data[:2] != ED25519_PRIV_HEADER:
        raise MultibaseError("not an Ed25519 secret key (multicodec 0x1300)")
    return data[2:]
