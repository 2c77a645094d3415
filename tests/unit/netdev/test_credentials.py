"""Where a device login comes from: the environment first, then Ansible Vault — opened with
ansible-core's own VaultLib, as ansible-vault would."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from dlict.core.errors import InputError
from dlict.core.logging import redact
from dlict.inventory.models import Host, Role
from dlict.netdev.credentials import credentials_for, env_name


def device(**settings: object) -> Host:
    return Host(name="s4401010001-gw", address="127.0.0.1", site="4401010001",
                roles=frozenset({Role.NETWORK_DEVICE}), device_type="mikrotik_routeros",
                user="dlict", settings=dict(settings))


def vaulted(text: str, password: bytes) -> dict[str, str]:
    """What ansible-inventory --export gives for a !vault value."""
    cipher = VaultLib([("default", VaultSecret(password))]).encrypt(text)
    return {"__ansible_vault": cipher.decode()}


def test_host_variable_beats_district_variable_beats_inventory() -> None:
    host = device(ansible_password={"__ansible_vault": "never opened"})
    env = {"DLICT_NETDEV_PASSWORD": "district-pw",
           "DLICT_NETDEV_PASSWORD_S4401010001_GW": "host-pw"}
    assert env_name("DLICT_NETDEV_PASSWORD", host.name) == "DLICT_NETDEV_PASSWORD_S4401010001_GW"
    assert credentials_for(host, env).password == "host-pw"
    del env["DLICT_NETDEV_PASSWORD_S4401010001_GW"]
    assert credentials_for(host, env).password == "district-pw"


def test_a_vaulted_password_is_opened_and_never_logged(tmp_path: Path) -> None:
    password_file = tmp_path / "vault-pass"
    password_file.write_text("correct horse\n")
    host = device(ansible_password=vaulted("Router-Secret-9", b"correct horse"),
                  ansible_become_password=vaulted("Enable-Secret-9", b"correct horse"))
    login = credentials_for(host, {"ANSIBLE_VAULT_PASSWORD_FILE": str(password_file)})
    assert (login.user, login.password, login.secret) == ("dlict", "Router-Secret-9",
                                                          "Enable-Secret-9")
    assert "Router-Secret-9" not in repr(login)
    assert "Router-Secret-9" not in redact("login with Router-Secret-9 failed")


def test_a_wrong_vault_password_or_none_is_one_clear_line(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    host = device(ansible_password=vaulted("x", b"correct horse"))
    with pytest.raises(InputError, match="ansible_password: the vault password does not open"):
        credentials_for(host, {"ANSIBLE_VAULT_PASSWORD_FILE": str(wrong)})
    with pytest.raises(InputError, match="is vaulted: set ANSIBLE_VAULT_PASSWORD_FILE"):
        credentials_for(host, {})


def test_an_env_lookup_and_a_key_file() -> None:
    host = device(ansible_password="{{ lookup('env', 'GW_PASSWORD') }}")
    assert credentials_for(host, {"GW_PASSWORD": "from-env"}).password == "from-env"
    with pytest.raises(InputError, match=r"looks up \$GW_PASSWORD, which is not set"):
        credentials_for(host, {})
    keyed = device(ansible_ssh_private_key_file="/root/.ssh/id_ed25519")
    login = credentials_for(keyed, {})
    assert (login.password, login.key_file) == (None, "/root/.ssh/id_ed25519")


def test_no_password_at_all_names_the_variables_to_set() -> None:
    with pytest.raises(InputError) as caught:
        credentials_for(device(), {})
    assert str(caught.value) == (
        "s4401010001-gw: no password for dlict: set DLICT_NETDEV_PASSWORD_S4401010001_GW or "
        "DLICT_NETDEV_PASSWORD, or a vaulted ansible_password in the inventory")
