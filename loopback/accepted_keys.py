"""The device's list of accepted host keys (the phone's /data/misc/adb/adb_keys) and token signature checks.

A host key travels as base64 of Android's RSAPublicKey struct followed by " user@host". A host proves
it holds the key by signing the 20-byte auth token with PKCS#1 v1.5, the token standing in for a SHA-1 digest.
"""

from __future__ import annotations

import base64
import binascii
import struct
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from loopback.errors import LoopbackDeviceError

_MODULUS_BYTES = 256
_ANDROID_PUBLIC_KEY_FORMAT = f"<II{_MODULUS_BYTES}s{_MODULUS_BYTES}sI"
_ANDROID_PUBLIC_KEY_BYTES = struct.calcsize(_ANDROID_PUBLIC_KEY_FORMAT)


class MalformedPublicKey(ValueError):
    """A line is not an Android RSA public key."""


def parse_android_public_key(text: str) -> rsa.RSAPublicKey:
    """Decode "BASE64 [user@host]" into an RSA public key."""
    fields = text.strip().strip("\0").split()
    if not fields:
        raise MalformedPublicKey("empty key")
    try:
        blob = base64.b64decode(fields[0], validate=True)
    except binascii.Error as error:
        raise MalformedPublicKey(f"not base64: {error}") from error
    if len(blob) != _ANDROID_PUBLIC_KEY_BYTES:
        raise MalformedPublicKey(f"key blob is {len(blob)} bytes, expected {_ANDROID_PUBLIC_KEY_BYTES}")
    words, _n0inv, modulus, _rr, exponent = struct.unpack(_ANDROID_PUBLIC_KEY_FORMAT, blob)
    if words != _MODULUS_BYTES // 4:
        raise MalformedPublicKey(f"modulus of {words} words, expected {_MODULUS_BYTES // 4}")
    return rsa.RSAPublicNumbers(exponent, int.from_bytes(modulus, "little")).public_key()


def signature_matches(public_key: rsa.RSAPublicKey, token: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))
    except (InvalidSignature, ValueError):
        return False
    return True


class AcceptedKeys:
    """Host keys the device trusts; optionally backed by an adb_keys file that new keys are appended to."""

    def __init__(self, adb_keys_path: Path | None):
        self._path = adb_keys_path
        self._keys: list[rsa.RSAPublicKey] = []
        self._lock = threading.Lock()
        if adb_keys_path is not None and adb_keys_path.exists():
            self._load(adb_keys_path)

    def _load(self, path: Path) -> None:
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                self._keys.append(parse_android_public_key(line))
            except MalformedPublicKey as error:
                raise LoopbackDeviceError(
                    f"{path}:{line_number}: not an adb public key ({error}); fix or remove that line"
                ) from error

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def verify(self, token: bytes, signature: bytes) -> bool:
        with self._lock:
            keys = list(self._keys)
        return any(signature_matches(key, token, signature) for key in keys)

    def add(self, key_line: str) -> None:
        """Trust a new key (the "always allow" answer to the phone's prompt); raises MalformedPublicKey."""
        key = parse_android_public_key(key_line)
        with self._lock:
            self._keys.append(key)
            if self._path is not None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                with self._path.open("a", encoding="utf-8") as keys_file:
                    keys_file.write(key_line.strip().strip("\0") + "\n")
