"""The Ed25519 sealing key: made once on the log server, kept outside the log tree."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dlict.core import chain
from dlict.core.errors import InputError, OperationalError

PUBLIC_SUFFIX = ".pub"


def public_path(private: Path) -> Path:
    return private.with_name(private.name + PUBLIC_SUFFIX)


key_id = chain.key_id
verify = chain.verify


def generate(private: Path) -> str:
    """Create a private key (0600) and its public half (0644); never overwrite either.

    Returns:
        The new key's id.

    Raises:
        InputError: a key already exists at that path.
    """
    public_file = public_path(private)
    for existing in (private, public_file):
        if existing.exists():
            raise InputError(f"{existing}: a key already exists; dlict never replaces a "
                             f"sealing key (the manifests signed with it would stop verifying)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = key.public_key()
    public_pem = public.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        private.parent.mkdir(parents=True, exist_ok=True)
        _write_new(private, pem, 0o600)
        _write_new(public_file, public_pem, 0o644)
    except OSError as exc:
        raise OperationalError(f"{exc.filename}: cannot write the key: {exc.strerror}") from exc
    return key_id(public)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    path.chmod(mode)


def load_private(path: Path) -> Ed25519PrivateKey:
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    data = _read(path)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise InputError(f"{path}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path}: not an Ed25519 public key")
    return key


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such key file (create one with `dlict logs keygen`)") \
            from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read the key: {exc.strerror}") from exc
