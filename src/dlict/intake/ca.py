"""STAND-IN for the ca helper's ``dlict.intake.ca`` (branch wt-ca), written on branch
wt-intake only so that the intake can be built and tested before the merge. The lead REPLACES
this whole file with the ca helper's at merge; nothing here is meant to survive it.

It holds the contract's names with the least behaviour the intake's tests need: a CA and a
server certificate made by ``init_ca``, a TLS server context that verifies client
certificates when given, and ``identify`` reading an agent's site (O) and host (CN) from a
certificate TLS has already verified. No tokens, no issued-certificate register, no revocation.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dlict.core.clock import utc_now
from dlict.core.errors import DlictError, InputError
from dlict.core.store import EvidenceStore


class Refused(DlictError):  # noqa: N818 - the contract names it
    """An agent, a certificate or a batch the office does not take; the reason is the text."""


@dataclass(frozen=True, slots=True)
class CaFiles:
    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    site: str
    host: str
    serial: int


def ca_files(data_dir: Path) -> CaFiles:
    directory = data_dir / "ca"
    return CaFiles(directory, directory / "ca.crt", directory / "ca.key",
                   directory / "server.crt", directory / "server.key")


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def init_ca(data_dir: Path, *, names: Sequence[str]) -> CaFiles:
    files = ca_files(data_dir)
    files.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = utc_now()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dlict district CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    alt = [_alt_name(n) for n in dict.fromkeys(["127.0.0.1", "localhost", *names])]
    server_cert = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                               "dlict intake")]))
                   .issuer_name(ca_name).public_key(server_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(days=825))
                   .add_extension(x509.SubjectAlternativeName(alt), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    for path, data in ((files.ca_key, _key_pem(ca_key)), (files.server_key, _key_pem(server_key)),
                       (files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM)),
                       (files.server_cert, server_cert.public_bytes(serialization.Encoding.PEM))):
        path.write_bytes(data)
        path.chmod(0o600 if path.suffix == ".key" else 0o644)
    return files


def server_context(files: CaFiles) -> ssl.SSLContext:
    if not files.server_cert.exists():
        raise InputError(f"{files.directory}: no district CA here yet: run 'dlict ca init'")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    context.load_verify_locations(files.ca_cert)
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


def identify(store: EvidenceStore, cert_der: bytes) -> AgentIdentity:
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        site = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        host = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    except (ValueError, IndexError) as exc:
        raise Refused("the client certificate names no agent") from exc
    return AgentIdentity(str(site), str(host), cert.serial_number)
