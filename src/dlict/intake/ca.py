"""The district's enrolment CA: who may send batches to the office's intake.

``dlict ca init`` makes an EC P-256 CA (10 years) and the intake's TLS server certificate in
``<data_dir>/ca`` (directory 0700, keys 0600). An office admin issues a one-time, expiring
token for one site and host; the agent trades it with a certificate signing request for a
certificate (1 year) naming that site and host — the office decides the name, never the
agent. The evidence store records every token (its secret's hash only), every certificate
issued and every revocation; :func:`identify` trusts a client certificate only if it is one of
those records, live and in date, so a certificate signed with a stolen or copied CA key but
never issued through a token is refused too.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import shutil
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from loguru import logger

from dlict.agent.token import check_name, new_token
from dlict.core.clock import utc_now
from dlict.core.errors import DlictError, ExitCode, InputError, OperationalError
from dlict.core.files import EVIDENCE_MODE, make_private_dirs, os_failure
from dlict.core.store import AgentCertRecord, EnrolTokenRecord, EvidenceStore

CA_DIR_MODE = 0o700
KEY_MODE = 0o600
CA_VALIDITY = timedelta(days=3652)
# The intake's own certificate lives as long as its CA: agents pin the CA, and a server
# certificate that lapsed on its own would silence every school at once.
SERVER_VALIDITY = CA_VALIDITY
AGENT_VALIDITY = timedelta(days=365)
# A school's clock may run a few minutes behind the office's.
BACKDATE = timedelta(minutes=5)
CA_COMMON_NAME = "dlict district agent CA"
ALWAYS_SERVED_NAMES = ("localhost", "127.0.0.1")
_DNS_NAME = re.compile(r"(?=.{1,253}\.?$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")


class Refused(DlictError):  # noqa: N818 (the contract's name)
    """The office refuses an agent's credential: an unknown, revoked or expired certificate,
    or an enrolment token that is unknown, used or expired.

    Exit 2, not 3 and not 1: the same credential will be refused every time (nothing to retry,
    unlike an unreachable office), and it is no finding about an audited host; like bad input,
    the fix is a person's — a new token, a new enrolment. A class of its own, not an
    ``InputError``, so that the intake answers 403 for it and 400 for a malformed request.
    """

    exit_code = ExitCode.BAD_INPUT


@dataclass(frozen=True, slots=True)
class CaFiles:
    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """Who is at the other end of a TLS connection, as the office's records say."""

    site: str
    host: str
    serial: str  # hex


@dataclass(frozen=True, slots=True)
class Revoked:
    certificates: int
    tokens: int


def ca_files(data_dir: Path) -> CaFiles:
    return _files_in(data_dir / "ca")


def _files_in(directory: Path) -> CaFiles:
    return CaFiles(directory=directory, ca_cert=directory / "ca.crt",
                   ca_key=directory / "ca.key", server_cert=directory / "intake.crt",
                   server_key=directory / "intake.key")


def init_ca(data_dir: Path, *, names: Sequence[str]) -> CaFiles:
    """Make the CA and the intake's server certificate in ``<data_dir>/ca``.

    Everything is written in a private staging directory that is renamed into place, so a
    failure leaves no half-made CA.

    Arguments:
        names: DNS names or IP addresses agents reach the intake by; ``localhost`` and
            ``127.0.0.1`` are always added.

    Raises:
        InputError: a name is neither a DNS name nor an IP address, or a CA exists already
            (it is never overwritten: every enrolled agent pins it).
        OperationalError: the directory cannot be written.
    """
    served = _served_names(names)
    files = ca_files(data_dir)
    _refuse_existing(files)
    try:
        make_private_dirs(data_dir)
        staging = Path(tempfile.mkdtemp(prefix=".ca.", dir=data_dir))  # 0700 from the start
    except OSError as exc:
        raise os_failure(data_dir, "create the CA directory", exc) from exc
    try:
        _write_ca(_files_in(staging), served)
        staging.rename(files.directory)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if files.directory.exists():
            _refuse_existing(files)
        raise os_failure(files.directory, "create the CA", exc) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files.directory.chmod(CA_DIR_MODE)
    logger.info("enrolment CA made in {} (sha256 {}), intake names {}", files.directory,
                ca_pin(files), ", ".join(served))
    return files


def ca_pin(files: CaFiles) -> str:
    """SHA-256 hex of the CA certificate's DER: what a token pins."""
    return hashlib.sha256(ca_certificate(files).public_bytes(serialization.Encoding.DER)
                          ).hexdigest()


def ca_certificate(files: CaFiles) -> x509.Certificate:
    """The CA certificate.

    Raises:
        InputError: there is no CA (``dlict ca init`` makes it).
        OperationalError: the file cannot be read or is not a certificate.
    """
    try:
        return x509.load_pem_x509_certificate(_read(files.ca_cert, files))
    except ValueError as exc:
        raise OperationalError(f"{files.ca_cert}: not a certificate ({exc})") from exc


def issue_token(store: EvidenceStore, files: CaFiles, site: str, host: str,
                ttl: timedelta) -> str:
    """A one-time enrolment token for ``site``/``host``, valid for ``ttl``.

    The token text is returned and nowhere kept: the store holds its secret's SHA-256.

    Raises:
        InputError: a bad name or a ttl that is not positive, or no CA.
    """
    check_name(site, "site")
    check_name(host, "host")
    if ttl <= timedelta(0):
        raise InputError("the token's lifetime must be positive")
    token = new_token(ca_pin(files))
    now = utc_now()
    store.add_enrol_token(EnrolTokenRecord(
        id=token.token_id, secret_sha256=token.secret_digest, site=site, host=host,
        created_at=now, expires_at=now + ttl))
    logger.info("enrolment token {} issued for {}/{}, valid until {}", token.token_id, site,
                host, (now + ttl).isoformat(timespec="seconds"))
    return token.text


def revoke(store: EvidenceStore, site: str, host: str) -> int:
    """Revoke every certificate of ``site``/``host`` (and void its unused tokens).

    Returns:
        how many certificates were revoked.
    """
    return revoke_agent(store, site, host).certificates


def revoke_agent(store: EvidenceStore, site: str, host: str) -> Revoked:
    certificates, tokens = store.revoke_agent(site, host, utc_now())
    logger.info("agent {}/{} revoked: {} certificate(s), {} unused token(s)", site, host,
                certificates, tokens)
    return Revoked(certificates, tokens)


def identify(store: EvidenceStore, cert_der: bytes | None) -> AgentIdentity:
    """The agent a client certificate belongs to, by the office's records.

    Arguments:
        cert_der: the peer's certificate, as ``SSLSocket.getpeercert(binary_form=True)``
            gives it (None when the client presented none).

    Raises:
        Refused: no certificate, one this office never issued, revoked or out of date.
    """
    if not cert_der:
        raise Refused("no client certificate: enrol the agent first (dlict agent enroll)")
    try:
        serial = format(x509.load_der_x509_certificate(cert_der).serial_number, "x")
    except ValueError:
        raise Refused("the client certificate cannot be read") from None
    record = store.agent_cert(hashlib.sha256(cert_der).hexdigest())
    if record is None:
        raise Refused(f"certificate {serial} was not issued by this office's enrolment CA")
    who = f"agent {record.site}/{record.host} (certificate {record.serial})"
    if record.revoked_at is not None:
        raise Refused(f"{who}: {record.revoke_reason} at "
                      f"{record.revoked_at.isoformat(timespec='seconds')}")
    now = utc_now()
    if now >= record.not_after:
        raise Refused(f"{who}: expired at {record.not_after.isoformat(timespec='seconds')}; "
                      "enrol it again with a new token")
    if now < record.not_before:
        raise Refused(f"{who}: not valid before "
                      f"{record.not_before.isoformat(timespec='seconds')}")
    return AgentIdentity(record.site, record.host, record.serial)


def server_context(files: CaFiles) -> ssl.SSLContext:
    """The intake's TLS server context: TLS 1.2 or later, its own certificate, and client
    certificates verified against the CA when a client presents one (``/v1/ca`` and
    ``/v1/enroll`` need none; ``/v1/batch`` then asks :func:`identify`).

    Raises:
        InputError: there is no CA (``dlict ca init``).
        OperationalError: the CA files cannot be read or do not fit together.
    """
    for path in (files.ca_cert, files.server_cert, files.server_key):
        _read(path, files)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_OPTIONAL
    try:
        context.load_cert_chain(files.server_cert, files.server_key)
        context.load_verify_locations(cafile=files.ca_cert)
    except (ssl.SSLError, OSError) as exc:
        raise OperationalError(f"{files.directory}: the intake's certificate, key and CA do "
                               f"not fit together ({exc})") from exc
    return context


def sign_agent_certificate(files: CaFiles, site: str, host: str,
                           public_key: CertificatePublicKeyTypes,
                           now: datetime) -> x509.Certificate:
    """A client certificate for ``site``/``host`` over ``public_key``, valid from ``now``.

    Subject CN ``<site>/<host>``, SAN URI ``dlict:agent:<site>:<host>``: the names come from
    the token, whatever the request asked for.
    """
    ca_cert, ca_key = _load_ca(files)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{site}/{host}")]))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + AGENT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(
            [x509.UniformResourceIdentifier(agent_uri(site, host))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def agent_uri(site: str, host: str) -> str:
    return f"dlict:agent:{site}:{host}"


def cert_record(cert: x509.Certificate, site: str, host: str, token_id: str,
                issued_at: datetime) -> AgentCertRecord:
    """What the store keeps of an issued certificate."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return AgentCertRecord(
        serial=format(cert.serial_number, "x"), fingerprint=hashlib.sha256(der).hexdigest(),
        site=site, host=host, not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc, issued_at=issued_at, token_id=token_id)


def _served_names(names: Sequence[str]) -> list[str]:
    served: list[str] = []
    for name in (*names, *ALWAYS_SERVED_NAMES):
        text = name.strip().lower()
        if not _is_ip(text) and not _DNS_NAME.fullmatch(text):
            raise InputError(f"--name {name[:80]!r}: neither a DNS name nor an IP address")
        if text not in served:
            served.append(text)
    return served


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _refuse_existing(files: CaFiles) -> None:
    directory = files.directory
    if directory.is_symlink() or (directory.exists() and (not directory.is_dir()
                                                          or any(directory.iterdir()))):
        raise InputError(f"{directory}: an enrolment CA exists already; dlict never overwrites "
                         "it (every enrolled agent pins it): nothing was written")


def _write_ca(files: CaFiles, served: list[str]) -> None:
    now = utc_now()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
    ca_cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, served[0])]))
        .issuer_name(name).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + SERVER_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address(n)) if _is_ip(n) else x509.DNSName(n)
            for n in served]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(files.ca_key, ca_key)
    _write_key(files.server_key, server_key)
    _write_file(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), EVIDENCE_MODE)
    _write_file(files.server_cert, server_cert.public_bytes(serialization.Encoding.PEM),
                EVIDENCE_MODE)


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False,
               crl_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign,
        crl_sign=crl_sign, encipher_only=False, decipher_only=False)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    _write_file(path, key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()), KEY_MODE)


def _write_file(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL with the final mode: the key is never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _read(path: Path, files: CaFiles) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{files.directory}: no enrolment CA ({path.name} missing): run "
                         "dlict ca init first") from None
    except OSError as exc:
        raise os_failure(path, "read the enrolment CA", exc) from exc


def _load_ca(files: CaFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate(_read(files.ca_cert, files))
        key = serialization.load_pem_private_key(_read(files.ca_key, files), password=None)
    except ValueError as exc:
        raise OperationalError(f"{files.directory}: the CA certificate or key is damaged "
                               f"({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise OperationalError(f"{files.ca_key}: not the EC key dlict ca init makes")
    return cert, key
