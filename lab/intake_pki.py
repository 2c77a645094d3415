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

from dlict.core.clock import utc_now
from dlict.core.store import EvidenceStore
from dlict.intake import ca


@dataclass(frozen=True)
class Credentials:
    cert: Path
    key: Path
    ca: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _csr(key: ec.EllipticCurvePrivateKey, site: str, host: str) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, site),
                         x509.NameAttribute(NameOID.COMMON_NAME, host)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(
        key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _signed_by(files: ca.CaFiles, key: ec.EllipticCurvePrivateKey, site: str,
               host: str) -> bytes:
    """A client certificate signed with the CA's key straight away (the CA stand-in has no
    enrolment; see ``enrol``)."""
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = utc_now()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, site),
                                     x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def enrol(data_dir: Path, site: str, host: str, into: Path) -> Credentials:
    """An agent's key, certificate and pinned CA, as enrolment gives them.

    With the ca helper's module (``issue_token``, ``dlict.intake.enroll``) it is the real
    enrolment: a token, a CSR, the office's answer. Until that is merged, the CA stand-in's
    key signs the certificate directly."""
    files = ca.ca_files(data_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    if hasattr(ca, "issue_token"):
        from dlict.intake.enroll import handle_enroll

        with EvidenceStore.open(data_dir / "evidence.sqlite") as store:
            token = ca.issue_token(store, files, site, host, timedelta(hours=1))
            status, answer = handle_enroll(store, files, json.dumps(
                {"token": token, "csr": _csr(key, site, host).decode()}).encode())
        assert status == 200, answer
        cert = json.loads(answer)["certificate"].encode()
    else:
        cert = _signed_by(files, key, site, host)
    into.mkdir(parents=True, exist_ok=True)
    (into / "agent.key").write_bytes(_key_pem(key))
    (into / "agent.key").chmod(0o600)
    (into / "agent.crt").write_bytes(cert)
    return Credentials(into / "agent.crt", into / "agent.key", files.ca_cert)


def init_district(data_dir: Path) -> ca.CaFiles:
    return ca.init_ca(data_dir, names=["127.0.0.1"])
