"""A district CA and enrolled agents' credentials for the intake's tests and benchmark."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dlict.core.store import EvidenceStore
from dlict.intake import ca
from dlict.intake.enroll import handle_enroll


@dataclass(frozen=True)
class Credentials:
    cert: Path
    key: Path
    ca: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _csr(key: ec.EllipticCurvePrivateKey, site: str, host: str) -> bytes:
    """The request ``dlict agent enroll`` sends: CN ``<site>/<host>``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{site}/{host}")])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(
        key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def enrol(data_dir: Path, site: str, host: str, into: Path) -> Credentials:
    """An agent's key, certificate and pinned CA through the real enrolment: a token, a CSR,
    the office's answer (without the HTTPS round trip ``dlict agent enroll`` adds)."""
    files = ca.ca_files(data_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    with EvidenceStore.open(data_dir / "evidence.sqlite") as store:
        token = ca.issue_token(store, files, site, host, timedelta(hours=1))
        status, answer = handle_enroll(store, files, json.dumps(
            {"token": token, "csr": _csr(key, site, host).decode()}).encode())
    if status != 200:
        raise RuntimeError(f"enrolment of {site}/{host} refused: {answer.decode()}")
    cert = json.loads(answer)["certificate"].encode()
    into.mkdir(parents=True, exist_ok=True)
    (into / "agent.key").write_bytes(_key_pem(key))
    (into / "agent.key").chmod(0o600)
    (into / "agent.crt").write_bytes(cert)
    return Credentials(into / "agent.crt", into / "agent.key", files.ca_cert)


def init_district(data_dir: Path) -> ca.CaFiles:
    return ca.init_ca(data_dir, names=["127.0.0.1"])
