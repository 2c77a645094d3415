"""The enrolment CA's files, certificates and tokens, read back as an admin would check them."""

from __future__ import annotations

import hashlib
import ipaddress
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dlict.agent.token import parse_token
from dlict.cli.ca import parse_ttl
from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore
from dlict.intake.ca import ca_files, init_ca, issue_token


def test_init_makes_a_ten_year_p256_ca_and_an_intake_certificate_for_its_names(
        tmp_path: Path) -> None:
    files = init_ca(tmp_path, names=["intake.district.example", "10.20.0.5"])

    assert files == ca_files(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert 3650 <= (ca.not_valid_after_utc - ca.not_valid_before_utc).days <= 3653
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["intake.district.example", "localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.20.0.5"), ipaddress.ip_address("127.0.0.1")]
    key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
    assert key.public_key() == server.public_key()


def test_an_existing_ca_is_never_overwritten(tmp_path: Path) -> None:
    files = init_ca(tmp_path, names=[])
    before = {p.name: p.read_bytes() for p in files.directory.iterdir()}

    with pytest.raises(InputError, match="exists already") as refused:
        init_ca(tmp_path, names=["other.example"])

    assert refused.value.exit_code == 2
    assert {p.name: p.read_bytes() for p in files.directory.iterdir()} == before


def test_an_empty_ca_directory_is_filled(tmp_path: Path) -> None:
    (tmp_path / "ca").mkdir()
    assert init_ca(tmp_path, names=[]).ca_key.is_file()


def test_a_token_pins_the_ca_and_the_store_keeps_only_its_secrets_hash(tmp_path: Path) -> None:
    files = init_ca(tmp_path, names=[])
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as store:
        text = issue_token(store, files, "S1001", "pi-01", timedelta(hours=24))
        token = parse_token(text)
        record = store.enrol_token(token.token_id)

    ca_der = x509.load_pem_x509_certificate(files.ca_cert.read_bytes()).public_bytes(
        serialization.Encoding.DER)
    assert text == f"dlict1.{token.token_id}.{token.secret}.{hashlib.sha256(ca_der).hexdigest()}"
    assert record is not None
    assert record.secret_sha256 == hashlib.sha256(token.secret.encode()).hexdigest()
    assert (record.site, record.host, record.used_at) == ("S1001", "pi-01", None)
    assert timedelta(hours=23, minutes=59) < record.expires_at - record.created_at <= timedelta(
        hours=24)
    with sqlite3.connect(tmp_path / "evidence.sqlite") as raw:
        dumped = "\n".join(raw.iterdump())
    assert token.secret not in dumped
    assert token.secret not in repr(token)


def test_two_tokens_never_share_an_id_or_a_secret(tmp_path: Path) -> None:
    files = init_ca(tmp_path, names=[])
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as store:
        tokens = [parse_token(issue_token(store, files, "S1001", "pi-01", timedelta(hours=1)))
                  for _ in range(20)]
    assert len({t.token_id for t in tokens}) == len({t.secret for t in tokens}) == 20


@pytest.mark.parametrize(("site", "host", "ttl", "why"), [
    ("S1001/x", "pi-01", timedelta(hours=1), "site 'S1001/x' is not a valid name"),
    ("S1001", "pi:01", timedelta(hours=1), "host 'pi:01' is not a valid name"),
    ("S1001", "pi-01", timedelta(0), "the token's lifetime must be positive"),
])
def test_a_token_is_refused_for_names_that_would_blur_the_certificate(
        tmp_path: Path, site: str, host: str, ttl: timedelta, why: str) -> None:
    files = init_ca(tmp_path, names=[])
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as store:
        with pytest.raises(InputError, match=why):
            issue_token(store, files, site, host, ttl)
        assert store.enrol_tokens() == []


def test_no_token_without_a_ca(tmp_path: Path) -> None:
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as store, \
            pytest.raises(InputError, match="run dlict ca init first"):
        issue_token(store, ca_files(tmp_path), "S1001", "pi-01", timedelta(hours=1))


@pytest.mark.parametrize(("text", "expected"), [
    ("24h", timedelta(hours=24)), ("90m", timedelta(minutes=90)), ("7d", timedelta(days=7)),
    ("300s", timedelta(minutes=5)), ("30d", timedelta(days=30)),
])
def test_ttl_spans(text: str, expected: timedelta) -> None:
    assert parse_ttl(text) == expected


@pytest.mark.parametrize("text", ["", "24", "4m", "31d", "1y", "-1h", "1.5h", "9" * 40 + "d"])
def test_ttl_out_of_range_or_unreadable_is_one_line(text: str) -> None:
    with pytest.raises(InputError, match="--ttl"):
        parse_ttl(text)


@pytest.mark.parametrize("text", [
    "", "dlict1", "dlict2.0123456789abcdef." + "a" * 43 + "." + "0" * 64,
    "dlict1.0123456789abcdef." + "a" * 42 + "." + "0" * 64,
    "dlict1.0123456789ABCDEF." + "a" * 43 + "." + "0" * 64,
    "x" * 10_000,
])
def test_a_malformed_token_is_refused_without_being_repeated(text: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_token(text)
    assert refused.value.exit_code == 2
    assert ("a" * 20) not in str(refused.value)
