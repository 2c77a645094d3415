"""Enrolment requests the office must refuse, and proof that nothing was issued for them.

Through the agent's real ``enroll`` over TLS on 127.0.0.1 where an agent could send it, and
straight into ``handle_enroll`` for what only a hostile client would send (the server in
``tests.enrol_server`` is a stand-in for the intake helper's ``dlict intake serve``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from dlict.agent.enroll import enroll
from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore
from dlict.intake.enroll import MAX_BODY_BYTES, handle_enroll
from tests.enrol_server import (
    Office,
    RunningServer,
    agent_config,
    enrol_server,
    files_under,
)


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return Office.make(tmp_path / "office")


@pytest.fixture
def server(office: Office) -> Iterator[RunningServer]:
    with enrol_server(office.files, office.store_path) as running:
        yield running


def _refused_by_office(config_dir: Path, office: Office, server: RunningServer, site: str,
                       host: str, token: str) -> str:
    """Run the agent's enroll; it must be refused with exit 2, one line, nothing written."""
    config = agent_config(server.url, site, host, config_dir)
    with pytest.raises(InputError) as refused:
        enroll(config, token)
    assert refused.value.exit_code == 2
    assert len(refused.value.lines()) == 1
    assert files_under(config.state_dir) == {}
    return str(refused.value)


def test_an_expired_token_is_refused_and_nothing_is_issued(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    token = office.token("S1001", "pi-01", ttl=timedelta(seconds=1))
    time.sleep(1.2)
    line = _refused_by_office(tmp_path / "agent", office, server, "S1001", "pi-01", token)
    assert "expired at" in line
    assert office.issued() == []


def test_a_used_token_is_refused_the_second_time(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    token = office.token("S1001", "pi-01")
    enroll(agent_config(server.url, "S1001", "pi-01", tmp_path / "first"), token)
    line = _refused_by_office(tmp_path / "second", office, server, "S1001", "pi-01", token)
    assert "was used at" in line
    assert len(office.issued()) == 1


def test_a_token_for_another_host_is_refused(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    token = office.token("S1001", "pi-02")
    line = _refused_by_office(tmp_path / "agent", office, server, "S1001", "pi-01", token)
    assert "names 'CN=S1001/pi-01'; the token is for S1001/pi-02" in line
    assert office.issued() == []


def test_a_request_naming_another_site_is_refused(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    token = office.token("S1001", "pi-01")
    line = _refused_by_office(tmp_path / "agent", office, server, "S2002", "pi-01", token)
    assert "the token is for S1001/pi-01" in line
    assert office.issued() == []


def test_a_token_with_a_guessed_secret_is_refused(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    prefix, token_id, secret, pin = office.token("S1001", "pi-01").split(".")
    guessed = ".".join([prefix, token_id, "A" * len(secret), pin])
    line = _refused_by_office(tmp_path / "agent", office, server, "S1001", "pi-01", guessed)
    assert "unknown enrolment token" in line
    assert office.issued() == []


# Straight into the handler: requests no dlict agent sends.

def _csr(subject: str, *, uri: str | None = None,
         key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name.from_rfc4514_string(subject))
    if uri is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False)
    signing_key = key or ec.generate_private_key(ec.SECP256R1())
    return builder.sign(signing_key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM).decode()


def _post(office: Office, body: bytes) -> tuple[int, str]:
    with EvidenceStore.open(office.store_path) as store:
        status, answer = handle_enroll(store, office.files, body)
    reason = json.loads(answer).get("error", "")
    assert "\n" not in reason
    return status, reason


def _request(token: str, csr: str) -> bytes:
    return json.dumps({"token": token, "csr": csr}).encode()


@pytest.mark.parametrize(("subject", "uri", "why"), [
    ("CN=S1001/pi-01,O=Another office", None, "names 'CN=S1001/pi-01,O=Another office'"),
    ("CN=S1001/pi-01", "dlict:agent:S2002:pi-01", "asks for other names than"),
    ("CN=S2002/pi-01", "dlict:agent:S2002:pi-01", "the token is for S1001/pi-01"),
])
def test_a_request_that_asks_for_more_or_other_names_is_refused(
        office: Office, subject: str, uri: str | None, why: str) -> None:
    token = office.token("S1001", "pi-01")
    status, reason = _post(office, _request(token, _csr(subject, uri=uri)))
    assert (status, why in reason) == (403, True), reason
    assert office.issued() == []
    status, _ = _post(office, _request(token, _csr("CN=S1001/pi-01",
                                                   uri="dlict:agent:S1001:pi-01")))
    assert status == 200  # the refused attempts did not use the token up


def test_a_request_whose_signature_does_not_verify_is_refused(office: Office) -> None:
    """The CSR's key must belong to whoever asks: a signature over other bytes is refused."""
    token = office.token("S1001", "pi-01")
    good = x509.load_pem_x509_csr(_csr("CN=S1001/pi-01").encode())
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    status, reason = _post(office, _request(token, tampered.decode()))
    assert (status, reason) == (400, "the certificate signing request's signature does not "
                                     "verify")
    assert office.issued() == []


@pytest.mark.parametrize(("body", "status", "reason"), [
    (b"x" * (MAX_BODY_BYTES + 1), 413, f"the request is over {MAX_BODY_BYTES} bytes"),
    (b"\xff\xfe not json", 400, "the request is not JSON"),
    (b"[" * 10_000, 400, "the request is not JSON"),
    (b'{"token": "t"}', 400, 'the request must be {"token": "...", "csr": "..."}'),
    (b'{"token": 1, "csr": 2}', 400, 'the request must be {"token": "...", "csr": "..."}'),
])
def test_a_malformed_request_is_a_one_line_400(office: Office, body: bytes, status: int,
                                                reason: str) -> None:
    assert _post(office, body) == (status, reason)
    assert office.issued() == []


def test_a_malformed_token_or_csr_is_refused_without_echoing_it(office: Office) -> None:
    token = office.token("S1001", "pi-01")
    status, reason = _post(office, _request(token + "x", _csr("CN=S1001/pi-01")))
    assert status == 400 and "malformed" in reason and token not in reason
    status, reason = _post(office, _request(token, "-----BEGIN CERTIFICATE REQUEST-----\nAA"))
    assert (status, reason) == (400, "csr is not a PEM certificate signing request")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point)
    status, reason = _post(office, _request(token, _csr("CN=S1001/pi-01", key=weak)))
    assert (status, reason) == (400, "the request's key must be EC P-256, EC P-384 or Ed25519")
    assert office.issued() == []


def test_a_token_from_another_office_is_refused(office: Office, tmp_path: Path) -> None:
    """Same id and secret, but pinning another CA: the agent would trust someone else."""
    token = office.token("S1001", "pi-01")
    other_pin = Office.make(tmp_path / "other").token("S1001", "pi-01").rsplit(".", 1)[1]
    status, reason = _post(office, _request(token.rsplit(".", 1)[0] + "." + other_pin,
                                            _csr("CN=S1001/pi-01")))
    assert status == 403 and "pins another CA" in reason
    assert office.issued() == []


def test_two_agents_racing_with_one_token_get_one_certificate(office: Office) -> None:
    token = office.token("S1001", "pi-01")
    bodies = [_request(token, _csr("CN=S1001/pi-01")) for _ in range(8)]
    statuses: list[int] = []
    start = threading.Barrier(len(bodies))

    def attempt(body: bytes) -> None:
        start.wait()
        statuses.append(_post(office, body)[0])

    threads = [threading.Thread(target=attempt, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [403] * 7
    assert len(office.issued()) == 1


def test_a_subject_with_only_other_attributes_is_refused(office: Office) -> None:
    token = office.token("S1001", "pi-01")
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "S1001/pi-01")]))
    csr = builder.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    status, _ = _post(office, _request(token, csr.public_bytes(
        serialization.Encoding.PEM).decode()))
    assert status == 403
    assert office.issued() == []
