"""The office's side of enrolment: ``GET /v1/ca`` and ``POST /v1/enroll``.

The intake server (``dlict.intake.server``) mounts these handlers; they take bytes and give
back an HTTP status and a body, so they are tested without it as well as behind real TLS.

An enrolment request is ``{"token": "dlict1.…", "csr": "-----BEGIN CERTIFICATE REQUEST…"}``
of at most 16 KiB. The certificate names the site and host the office wrote into the token;
a request that names anything else is refused, as is an unknown, used or expired token.
Answers: 200 ``{"certificate", "ca"}`` (PEM); 400 a malformed request; 403 refused; 413 too
large; 503 the office's CA or store cannot be used now. Every error body is
``{"error": "<one line>"}`` and never repeats the token.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
from loguru import logger

from dlict.agent.token import EnrolmentToken, parse_token
from dlict.core.clock import utc_now
from dlict.core.errors import DlictError, InputError
from dlict.core.store import EnrolTokenRecord, EvidenceStore
from dlict.intake.ca import (
    CaFiles,
    Refused,
    agent_uri,
    ca_certificate,
    ca_pin,
    cert_record,
    sign_agent_certificate,
)

MAX_BODY_BYTES = 16 * 1024
ACCEPTED_CURVES = (ec.SECP256R1, ec.SECP384R1)


class _UnavailableError(DlictError):
    """The office cannot enrol now (its CA or store): the agent may try again later."""


def handle_ca(files: CaFiles) -> tuple[int, bytes]:
    """``GET /v1/ca``: the CA certificate (PEM), which the agent checks against its pin."""
    try:
        return 200, ca_certificate(files).public_bytes(serialization.Encoding.PEM)
    except DlictError as exc:
        logger.error("cannot serve the enrolment CA: {}", exc)
        return 503, _error("the office has no enrolment CA available")


def handle_enroll(store: EvidenceStore, files: CaFiles, body: bytes) -> tuple[int, bytes]:
    """``POST /v1/enroll``: trade a one-time token and a CSR for a client certificate.

    The token is used up in the same transaction that records the certificate.

    Returns:
        (HTTP status, JSON body) as described in the module's docstring.
    """
    if len(body) > MAX_BODY_BYTES:
        return 413, _error(f"the request is over {MAX_BODY_BYTES} bytes")
    try:
        token, csr = _read_request(body)
        record = _live_token(store, files, token)
        _check_names(csr, record.site, record.host)
        answer = _issue(store, files, csr, record)
    except Refused as exc:
        logger.warning("enrolment refused: {}", exc)
        return 403, _error(str(exc))
    except InputError as exc:
        return 400, _error(str(exc))
    except DlictError as exc:
        logger.error("enrolment failed: {}", exc)
        return 503, _error("the office cannot enrol agents now; try again later")
    return 200, json.dumps(answer).encode()


def _error(line: str) -> bytes:
    return json.dumps({"error": line}).encode()


def _read_request(body: bytes) -> tuple[EnrolmentToken, x509.CertificateSigningRequest]:
    try:
        request: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError("the request is not JSON") from None
    if (not isinstance(request, dict) or set(request) != {"token", "csr"}
            or not all(isinstance(v, str) for v in request.values())):
        raise InputError('the request must be {"token": "...", "csr": "..."}')
    token = parse_token(request["token"])
    try:
        csr = x509.load_pem_x509_csr(request["csr"].encode())
    except ValueError:
        raise InputError("csr is not a PEM certificate signing request") from None
    if not csr.is_signature_valid:
        raise InputError("the certificate signing request's signature does not verify")
    _check_key(csr)
    return token, csr


def _check_key(csr: x509.CertificateSigningRequest) -> None:
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("the request's public key cannot be read") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ACCEPTED_CURVES):
        return
    raise InputError("the request's key must be EC P-256, EC P-384 or Ed25519")


def _live_token(store: EvidenceStore, files: CaFiles, token: EnrolmentToken
                ) -> EnrolTokenRecord:
    record = store.enrol_token(token.token_id)
    # One answer for an unknown id and a wrong secret: neither tells a guesser anything.
    if record is None or not hmac.compare_digest(record.secret_sha256, token.secret_digest):
        raise Refused("unknown enrolment token")
    where = f"enrolment token {token.token_id} ({record.site}/{record.host})"
    try:
        pin = ca_pin(files)
    except DlictError as exc:
        raise _UnavailableError(str(exc)) from exc
    if not hmac.compare_digest(pin, token.ca_pin):
        raise Refused(f"{where} pins another CA than this office's")
    if record.used_at is not None:
        raise Refused(f"{where} was used at {record.used_at.isoformat(timespec='seconds')}; "
                      "issue a new one")
    if utc_now() >= record.expires_at:
        raise Refused(f"{where} expired at {record.expires_at.isoformat(timespec='seconds')}; "
                      "issue a new one")
    return record


def _check_names(csr: x509.CertificateSigningRequest, site: str, host: str) -> None:
    """The request may name only what the token says: the office decides the name."""
    expected = f"{site}/{host}"
    names = [a.value for a in csr.subject]
    common = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or len(common) != 1 or common[0].value != expected:
        shown = csr.subject.rfc4514_string()[:120]
        raise Refused(f"the request names {shown!r}; the token is for {expected}")
    try:
        alternative = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return
    except ValueError:
        raise Refused("the request's extensions cannot be read") from None
    if list(alternative.value) != [x509.UniformResourceIdentifier(agent_uri(site, host))]:
        raise Refused(f"the request asks for other names than {agent_uri(site, host)}")


def _issue(store: EvidenceStore, files: CaFiles, csr: x509.CertificateSigningRequest,
           token: EnrolTokenRecord) -> dict[str, str]:
    now = utc_now()
    try:
        cert = sign_agent_certificate(files, token.site, token.host, csr.public_key(), now)
        ca_pem = ca_certificate(files).public_bytes(serialization.Encoding.PEM)
    except DlictError as exc:
        raise _UnavailableError(str(exc)) from exc
    record = cert_record(cert, token.site, token.host, token.id, now)
    if not store.record_enrolment(record, now):
        raise Refused(f"enrolment token {token.id} was used or expired meanwhile")
    logger.info("agent {}/{} enrolled: certificate {} until {} (token {})", token.site,
                token.host, record.serial, record.not_after.isoformat(timespec="seconds"),
                token.id)
    return {"certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "ca": ca_pem.decode()}
