"""The agent's side of enrolment: a key made here, a certificate from the office.

``enroll`` makes the agent's EC P-256 key locally (it never leaves the machine), fetches the
office CA over TLS *without* verification — there is nothing to verify it with yet — and
accepts it only if its SHA-256 is the pin written in the token. Then, with verification on
against that CA alone, it sends the token and a certificate signing request. The key, the
certificate and the pinned CA are written into ``state_dir`` only once everything checked out:
a wrong pin, a refusal or an unreachable office leave the directory as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from loguru import logger

from dlict.agent.config import AgentConfig

# client_context is part of this module's contract; it lives where ``agent run`` can load it
# without cryptography.
from dlict.agent.identity import client_context as client_context
from dlict.agent.identity import reason_of, tls_context
from dlict.agent.token import EnrolmentToken, parse_token
from dlict.agent.wire import CA_PATH, ENROLL_PATH
from dlict.core.errors import InputError, OperationalError
from dlict.core.files import EVIDENCE_MODE, make_private_dirs, os_failure
from dlict.core.logging import register_secret
from dlict.core.printable import printable

KEY_MODE = 0o600
MAX_ANSWER_BYTES = 64 * 1024
MAX_REASON_CHARS = 300


@dataclass(frozen=True, slots=True)
class _Office:
    url: str
    host: str
    port: int
    prefix: str  # a path the office URL may carry before /v1/…

    @classmethod
    def of(cls, config: AgentConfig) -> _Office:
        url = str(config.office)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise InputError(f"office {url}: the agent talks to the office only over https")
        return cls(url, parts.hostname, parts.port or 443, parts.path.rstrip("/"))


def enroll(config: AgentConfig, token: str) -> Path:
    """Enrol this agent with the office named in ``config`` using a one-time ``token``.

    Returns:
        the path of the agent's new certificate (the key and the pinned CA lie beside it).

    Raises:
        InputError: a malformed token, an office CA that is not the pinned one, an office
            that refused the token or the request (exit 2); nothing is written.
        OperationalError: the office is unreachable or answers with an error of its own, or
            ``state_dir`` cannot be written (exit 3); nothing is written.
    """
    parsed = parse_token(token)
    register_secret(parsed.secret)
    office = _Office.of(config)
    timeout = config.push.timeout_s
    ca_pem = _fetch(office, CA_PATH, _unverified_context(), timeout)
    ca_cert = _pinned_ca(ca_pem, parsed, office)
    key = ec.generate_private_key(ec.SECP256R1())
    answer = _post_json(office, ENROLL_PATH, _verified_context(ca_cert), timeout,
                        {"token": parsed.text, "csr": _request(key, config)})
    cert = _checked_certificate(answer, key, ca_cert, parsed, config)
    _install(config, key, cert, ca_cert)
    logger.info("enrolled as {}/{} with {}: certificate {} until {}", config.site, config.host,
                office.url, format(cert.serial_number, "x"),
                cert.not_valid_after_utc.isoformat(timespec="seconds"))
    return config.cert_path


def _unverified_context() -> ssl.SSLContext:
    """Only for fetching the CA, whose hash is then checked against the token's pin."""
    context = tls_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _verified_context(ca_cert: x509.Certificate) -> ssl.SSLContext:
    context = tls_context()
    context.load_verify_locations(cadata=ca_cert.public_bytes(serialization.Encoding.PEM)
                                  .decode())
    return context


def _fetch(office: _Office, path: str, context: ssl.SSLContext, timeout: float) -> bytes:
    status, body = _exchange(office, "GET", path, context, timeout, None)
    if status != 200:
        raise OperationalError(f"office {office.url}: {path} answered {status}")
    return body


def _post_json(office: _Office, path: str, context: ssl.SSLContext, timeout: float,
               payload: dict[str, str]) -> dict[str, Any]:
    status, body = _exchange(office, "POST", path, context, timeout,
                             json.dumps(payload).encode())
    reason = _office_reason(body)
    if status in (400, 403, 413):
        raise InputError(f"office {office.url} refused the enrolment: {reason}")
    if status != 200:
        raise OperationalError(f"office {office.url}: {path} answered {status}: {reason}")
    try:
        answer = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        raise OperationalError(f"office {office.url}: {path} answered with no JSON object")
    return answer


def _exchange(office: _Office, method: str, path: str, context: ssl.SSLContext,
              timeout: float, body: bytes | None) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection(office.host, office.port, context=context,
                                             timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    try:
        connection.request(method, office.prefix + path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(MAX_ANSWER_BYTES + 1)
    except ssl.SSLCertVerificationError as exc:
        raise InputError(f"office {office.url}: its certificate does not verify against the "
                         f"pinned CA ({exc.verify_message}); agents must use one of the names "
                         "given to dlict ca init") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise OperationalError(f"office {office.url} unreachable: {reason_of(exc)}") from exc
    finally:
        connection.close()
    if len(data) > MAX_ANSWER_BYTES:
        raise OperationalError(f"office {office.url}: {path} answered more than "
                               f"{MAX_ANSWER_BYTES} bytes")
    return response.status, data


def _office_reason(body: bytes) -> str:
    try:
        reason = json.loads(body).get("error")
    except (UnicodeDecodeError, ValueError, RecursionError, AttributeError):
        reason = None
    text = reason if isinstance(reason, str) else "no reason given"
    return printable(text.splitlines()[0] if text else text)[:MAX_REASON_CHARS]


def _pinned_ca(pem: bytes, token: EnrolmentToken, office: _Office) -> x509.Certificate:
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise InputError(f"office {office.url}: {CA_PATH} is not a PEM certificate; is this "
                         "the district's intake?") from None
    digest = _pin_of(cert)
    if not hmac.compare_digest(digest, token.ca_pin):
        raise InputError(f"office {office.url} presents CA sha256 {digest}, but the token pins "
                         f"{token.ca_pin}: wrong token, or not the district's office; nothing "
                         "was written")
    return cert


def _pin_of(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _request(key: ec.EllipticCurvePrivateKey, config: AgentConfig) -> str:
    name = f"{config.site}/{config.host}"
    uri = f"dlict:agent:{config.site}:{config.host}"
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _checked_certificate(answer: dict[str, Any], key: ec.EllipticCurvePrivateKey,
                         ca_cert: x509.Certificate, token: EnrolmentToken,
                         config: AgentConfig) -> x509.Certificate:
    """The office's certificate, if it is for our key, from the pinned CA, with our name."""
    text, ca_text = answer.get("certificate"), answer.get("ca")
    try:
        if not isinstance(text, str) or not isinstance(ca_text, str):
            raise ValueError("certificate or ca missing")
        cert = x509.load_pem_x509_certificate(text.encode())
        if _pin_of(x509.load_pem_x509_certificate(ca_text.encode())) != token.ca_pin:
            raise ValueError("the CA it names is not the pinned one")
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise OperationalError(f"office {config.office}: the enrolment answer is not a "
                               f"certificate from the pinned CA ({reason_of(exc)})") from exc
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if (cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki)
            or [n.value for n in names] != [f"{config.site}/{config.host}"]):
        raise OperationalError(f"office {config.office}: the certificate it issued is not for "
                               f"this agent's key and name {config.site}/{config.host}")
    return cert


def _install(config: AgentConfig, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate,
             ca_cert: x509.Certificate) -> None:
    """Write the three files whole: each goes to a temporary file that is synced, then all
    are renamed into place; a failure before the renames leaves the old state untouched."""
    pem = serialization.Encoding.PEM
    contents = (
        (config.ca_path, ca_cert.public_bytes(pem), EVIDENCE_MODE),
        (config.cert_path, cert.public_bytes(pem), EVIDENCE_MODE),
        (config.key_path, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()), KEY_MODE),
    )
    staged: list[tuple[Path, Path]] = []
    try:
        make_private_dirs(config.state_dir)
        for path, data, mode in contents:
            staged.append((_staged_copy(path, data, mode), path))
        # Cut off between two renames (power loss), the key and certificate left do not fit
        # together: client_context then says so in one line instead of using a mixture.
        for temporary, path in staged:
            temporary.replace(path)
        _sync_directory(config.state_dir)
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise os_failure(config.state_dir, "write the agent's key and certificate", exc) from exc


def _staged_copy(path: Path, data: bytes, mode: int) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # 0600
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temporary.chmod(mode)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


