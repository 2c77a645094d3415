"""Hostile values given to the case book: refused with one line naming the case and the
field, nothing stored; what is stored is printed as text, never as terminal or Rich markup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dlict.core.errors import InputError
from dlict.core.store import EvidenceStore
from dlict.incidents.cases import CaseBook, who_is
from dlict.incidents.model import ObservableKind
from tests.conftest import CliRunner


@pytest.fixture
def book(tmp_path: Path) -> Iterator[CaseBook]:
    with EvidenceStore.open(tmp_path / "evidence.sqlite") as store:
        yield CaseBook(store, actor="somchai")


@pytest.mark.parametrize(("kind", "value", "why"), [
    (ObservableKind.IP, "10.0.0.1; rm -rf /", "not an IP address"),
    (ObservableKind.IP, "::ffff:1.2.3.4.5", "not an IP address"),
    (ObservableKind.DOMAIN, "evil..example", "not a domain name"),
    (ObservableKind.DOMAIN, "-bad.example", "not a domain name"),
    (ObservableKind.DOMAIN, "a" * 64 + ".example", "not a domain name"),
    (ObservableKind.URL, "javascript-alert(1)", "not a URL"),
    (ObservableKind.URL, "http://[::1", "not a URL"),
    (ObservableKind.HASH, "d41d8cd98f00b204e9800998ecf8427", "not an MD5/SHA-1"),
    (ObservableKind.HASH, "z" * 64, "not an MD5/SHA-1"),
    (ObservableKind.MAC, "aa:bb:cc:dd:ee:fg", "not a MAC address"),
    (ObservableKind.ACCOUNT, "root\x1b[2J", "contains control characters"),
    (ObservableKind.ACCOUNT, "x" * 5000, "longer than 2048 characters"),
    (ObservableKind.ACCOUNT, "   ", "empty value"),
])
def test_a_bad_observable_is_refused_and_nothing_is_stored(
        book: CaseBook, kind: ObservableKind, value: str, why: str) -> None:
    case = book.open(title="scan")
    with pytest.raises(InputError, match=f"^{case.id}: observable {kind.value}: {why}"):
        book.observe(case.id, kind, value)
    assert book.observables(case.id) == [] and len(book.trail(case.id)) == 1


def test_observables_have_one_spelling_each(book: CaseBook) -> None:
    case = book.open(title="phishing")
    pairs = [
        # the Thai name as the idna package (IDNA 2008) spells it
        (ObservableKind.DOMAIN, "โรงเรียน.ไทย", "xn--72c0b0acb2i5cn.xn--o3cw4h"),
        (ObservableKind.URL, "HTTPS://User@Evil.Example/Login?A=B",
         "https://User@evil.example/Login?A=B"),
        (ObservableKind.HASH, "D41D8CD98F00B204E9800998ECF8427E",
         "d41d8cd98f00b204e9800998ecf8427e"),
        (ObservableKind.MAC, "aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
        (ObservableKind.IP, "::FFFF:10.0.0.1", "::ffff:a00:1"),
    ]
    for kind, given, spelled in pairs:
        seen, added = book.observe(case.id, kind, given)
        assert (seen.value, added) == (spelled, True)
        assert book.observe(case.id, kind, spelled)[1] is False


@pytest.mark.parametrize(("fields", "why"), [
    ({"title": "two\nlines"}, "title: must be one line"),
    ({"title": ""}, "title: must not be empty"),
    ({"title": "x" * 201}, "title: longer than 200 characters"),
    ({"owner": "a\x00b"}, "owner: must be one line"),
    ({"description": "bell\x07"}, "description: contains control characters"),
    ({"category": "ransomware"}, "category: 'ransomware' is not one of"),
    ({"personal_data": "yes"}, "personal data must be yes or no"),
    ({"hosts": ["web\n01"]}, "host: must be one line"),
])
def test_bad_fields_are_refused_naming_the_case_and_the_field(
        book: CaseBook, fields: dict[str, object], why: str) -> None:
    case = book.open(title="defaced")
    with pytest.raises(InputError, match=f"^{case.id}: {why}"):
        book.update(case.id, **fields)
    assert book.get(case.id) == case and len(book.trail(case.id)) == 1


def test_a_claimed_actor_never_hides_the_login_and_cannot_forge_lines() -> None:
    assert who_is("alertmanager").startswith("alertmanager (login ")
    with pytest.raises(InputError, match="actor: must be one line"):
        who_is("somchai\nroot")


def test_markup_and_escapes_in_stored_text_are_printed_as_text(cli: CliRunner) -> None:
    opened = cli("--lang", "en", "incident", "open", "--title", "[bold red]owned[/bold red]")
    assert opened.code == 0, opened.stderr
    case_id = opened.stdout.split(":")[0]
    noted = cli("incident", "note", case_id, "line one\n[link=http://evil]click[/link]")
    assert noted.code == 0, noted.stderr
    escaped = cli("incident", "note", case_id, "\x1b]0;pwned\x07")
    assert escaped.code == 2 and "contains control characters" in escaped.stderr
    shown = cli("--lang", "en", "incident", "show", case_id)
    assert "[bold red]owned[/bold red]" in shown.stdout
    assert "[link=http://evil]" in shown.stdout
    assert "\x1b" not in shown.stdout
