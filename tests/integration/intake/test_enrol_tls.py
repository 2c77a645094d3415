"""Enrolment end to end over real TLS on 127.0.0.1, then identification by a real handshake.

The office side runs in ``tests.enrol_server`` (a loopback HTTPS server mounting
``server_context``, ``handle_ca`` and ``handle_enroll``; the intake helper builds the real
``dlict intake serve`` in parallel). The agent side is ``dlict.agent.enroll`` itself.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dlict.agent.enroll import client_context, enroll
from dlict.core.errors import InputError
from dlict.core.store import EnrolTokenRecord, EvidenceStore
from dlict.intake.ca import Refused, cert_record, identify, revoke, sign_agent_certificate
from tests.enrol_server import Office, RunningServer, agent_config, enrol_server, whoami


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return Office.make(tmp_path / "office")


@pytest.fixture
def server(office: Office) -> Iterator[RunningServer]:
    with enrol_server(office.files, office.store_path) as running:
        yield running


def test_an_agent_enrols_over_tls_and_the_office_knows_it_by_its_certificate(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    config = agent_config(server.url, "S1001", "pi-01", tmp_path / "agent")
    cert_path = enroll(config, office.token("S1001", "pi-01"))

    assert cert_path == config.cert_path
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "S1001/pi-01"
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [
        "dlict:agent:S1001:pi-01"]
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 365 <= lifetime.days <= 366
    assert config.ca_path.read_bytes() == office.files.ca_cert.read_bytes()
    assert config.key_path.stat().st_mode & 0o777 == 0o600

    status, answer = whoami(server.port, client_context(config))
    assert status == 200
    serial = format(cert.serial_number, "x")
    assert answer == {"site": "S1001", "host": "pi-01", "serial": serial}
    [issued] = office.issued()
    assert (issued.site, issued.host, issued.serial) == ("S1001", "pi-01", serial)
    assert server.seen.requests == ["GET /v1/ca", "POST /v1/enroll", "GET /whoami"]


def _forged_context(office_ca: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
                    where: Path) -> ssl.SSLContext:
    """What an impostor would build: trusts the office, presents its own certificate."""
    where.mkdir()
    (where / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (where / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=office_ca)
    context.load_cert_chain(where / "c.pem", where / "k.pem")
    return context


def test_a_certificate_from_another_ca_fails_the_handshake(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    other = Office.make(tmp_path / "other-office")
    key = ec.generate_private_key(ec.SECP256R1())
    forged = sign_agent_certificate(other.files, "S1001", "pi-01", key.public_key(),
                                    datetime.now(UTC))
    context = _forged_context(office.files.ca_cert, forged, key, tmp_path / "forged")

    with pytest.raises((ssl.SSLError, ConnectionError)):
        whoami(server.port, context)
    assert "certificate verify failed" in server.seen.first_handshake_failure()
    assert server.seen.requests == []


def test_a_certificate_signed_with_the_ca_key_but_never_issued_is_refused(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    """The CA key alone is not enough (a copy of it, a leaked backup): identify trusts only
    the certificates the store recorded when a token was used."""
    key = ec.generate_private_key(ec.SECP256R1())
    unrecorded = sign_agent_certificate(office.files, "S1001", "pi-01", key.public_key(),
                                        datetime.now(UTC))
    context = _forged_context(office.files.ca_cert, unrecorded, key, tmp_path / "copy")

    status, answer = whoami(server.port, context)

    assert status == 403
    assert "was not issued by this office's enrolment CA" in answer["error"]


def test_a_revoked_agent_is_refused(office: Office, server: RunningServer,
                                    tmp_path: Path) -> None:
    config = agent_config(server.url, "S1001", "pi-01", tmp_path / "agent")
    enroll(config, office.token("S1001", "pi-01"))
    der = x509.load_pem_x509_certificate(config.cert_path.read_bytes()).public_bytes(
        serialization.Encoding.DER)
    assert whoami(server.port, client_context(config))[0] == 200

    with EvidenceStore.open(office.store_path) as store:
        assert revoke(store, "S1001", "pi-01") == 1
        with pytest.raises(Refused, match="revoked at") as refused:
            identify(store, der)
    assert refused.value.exit_code == 2
    status, answer = whoami(server.port, client_context(config))
    assert status == 403
    assert "S1001/pi-01" in answer["error"] and "revoked" in answer["error"]


def test_enrolling_again_supersedes_the_old_certificate(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    old = agent_config(server.url, "S1001", "pi-01", tmp_path / "old-disk")
    new = agent_config(server.url, "S1001", "pi-01", tmp_path / "new-disk")
    enroll(old, office.token("S1001", "pi-01"))
    enroll(new, office.token("S1001", "pi-01"))

    assert whoami(server.port, client_context(new))[0] == 200
    status, answer = whoami(server.port, client_context(old))
    assert status == 403
    assert "superseded" in answer["error"]


def test_a_wrong_pin_in_the_token_makes_enroll_refuse_and_write_nothing(
        office: Office, server: RunningServer, tmp_path: Path) -> None:
    token = office.token("S1001", "pi-01")
    wrong_pin = token[:-64] + "0" * 64
    config = agent_config(server.url, "S1001", "pi-01", tmp_path / "agent")

    with pytest.raises(InputError, match=r"pins 0{64}") as refused:
        enroll(config, wrong_pin)

    assert refused.value.exit_code == 2
    assert len(refused.value.lines()) == 1
    assert not config.state_dir.exists()
    assert server.seen.requests == ["GET /v1/ca"]  # the token never left the agent
    assert office.issued() == []
    enroll(config, token)  # the token itself is still good
    assert config.cert_path.is_file()


def test_client_context_before_enrolment_is_one_line(tmp_path: Path) -> None:
    config = agent_config("https://127.0.0.1:9", "S1001", "pi-01", tmp_path / "agent")
    with pytest.raises(InputError) as missing:
        client_context(config)
    assert missing.value.lines() == [
        f"{config.state_dir}: the agent is not enrolled (agent.key, agent.crt, office-ca.crt "
        "missing): run dlict agent enroll --config FILE --token TOKEN"]


def test_an_unreachable_office_is_operational_and_writes_nothing(
        office: Office, tmp_path: Path) -> None:
    with enrol_server(office.files, office.store_path) as running:
        url = running.url
    config = agent_config(url, "S1001", "pi-01", tmp_path / "agent")
    with pytest.raises(Exception, match="unreachable") as failed:
        enroll(config, office.token("S1001", "pi-01"))
    assert getattr(failed.value, "exit_code", None) == 3
    assert not config.state_dir.exists()


def test_identify_refuses_what_is_not_a_certificate(office: Office) -> None:
    with EvidenceStore.open(office.store_path) as store:
        for nothing in (b"", None):
            with pytest.raises(Refused, match="no client certificate"):
                identify(store, nothing)
        with pytest.raises(Refused, match="cannot be read"):
            identify(store, b"\x30\x03garbage")


def test_an_expired_agent_certificate_is_refused(office: Office) -> None:
    """Signed 367 days ago through the real signing path, and recorded as issued then."""
    long_ago = datetime.now(UTC) - timedelta(days=367)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = sign_agent_certificate(office.files, "S1001", "pi-01", key.public_key(), long_ago)
    with EvidenceStore.open(office.store_path) as store:
        store.add_enrol_token(EnrolTokenRecord(
            id="0123456789abcdef", secret_sha256="0" * 64, site="S1001", host="pi-01",
            created_at=long_ago, expires_at=long_ago + timedelta(days=1)))
        assert store.record_enrolment(
            cert_record(cert, "S1001", "pi-01", "0123456789abcdef", long_ago), long_ago)
        with pytest.raises(Refused, match="expired at"):
            identify(store, cert.public_bytes(serialization.Encoding.DER))


def test_a_client_without_a_certificate_gets_through_tls_but_not_past_identify(
        office: Office, server: RunningServer) -> None:
    """CERT_OPTIONAL: /v1/ca and /v1/enroll need no client certificate; identify does."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=office.files.ca_cert)
    status, answer = whoami(server.port, context)
    assert status == 403
    assert answer["error"].startswith("no client certificate")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_tls_below_1_2_is_refused(office: Office, server: RunningServer) -> None:
    """An old client that offers only TLS 1.1 gets no connection (the server says why)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=office.files.ca_cert)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        whoami(server.port, context)
    assert server.seen.first_handshake_failure() != ""
    assert server.seen.requests == []


def test_an_office_without_https_is_refused_before_any_traffic(
        office: Office, tmp_path: Path) -> None:
    config = agent_config("http://127.0.0.1:9", "S1001", "pi-01", tmp_path / "agent")
    with pytest.raises(InputError, match="only over https"):
        enroll(config, office.token("S1001", "pi-01"))
    assert not config.state_dir.exists()
