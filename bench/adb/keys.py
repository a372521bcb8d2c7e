"""The host's ADB key pair (~/.android/adbkey and adbkey.pub, shared with the adb command-line tool)."""

from __future__ import annotations

import os
from pathlib import Path

from adb_shell.auth.keygen import write_public_keyfile
from adb_shell.auth.sign_pythonrsa import PythonRSASigner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.errors import AuthenticationFailed

PRIVATE_KEY_MODE = 0o600
KEY_BITS = 2048


def default_key_path() -> Path:
    return Path.home() / ".android" / "adbkey"


def _create_private_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    # O_EXCL: never overwrite a key that appeared meanwhile. The file is born with at most mode 0600
    # (never readable by others, whatever the umask); chmod then makes it exactly 0600.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(pem)
    os.chmod(path, PRIVATE_KEY_MODE)


def ensure_key_pair(key_path: str | Path | None = None) -> Path:
    """Create the key pair if no private key exists (private key mode 0600); rebuild a missing .pub.

    Returns the private key's path.
    """
    path = Path(key_path) if key_path is not None else default_key_path()
    public_path = Path(f"{path}.pub")
    try:
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                _create_private_key(path)
            except FileExistsError:
                pass
        if not public_path.exists():
            write_public_keyfile(str(path), str(public_path))
    except (OSError, ValueError) as error:
        raise AuthenticationFailed(
            f"cannot create the ADB key at {path}: {error}; check that folder's permissions or pass another key path"
        ) from error
    return path


def load_signer(key_path: str | Path | None = None) -> PythonRSASigner:
    """The signer adb-shell uses to answer a device's auth token; creates the key pair when none exists."""
    path = ensure_key_pair(key_path)
    try:
        return PythonRSASigner.FromRSAKeyPath(str(path))
    except (OSError, ValueError) as error:
        raise AuthenticationFailed(
            f"cannot read the ADB key {path}: {error}; delete it (and {path}.pub) to get a new one"
        ) from error
