"""How dlict logs in to a device: the user from the inventory, secrets from the environment
or Ansible Vault — never from a file in clear, never into a log line."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from dlict.core.errors import InputError
from dlict.core.logging import register_secret
from dlict.inventory.models import KEY_FILE_VARS, Host

PASSWORD_VARS = ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
SECRET_VAR = "ansible_become_password"  # noqa: S105 - a variable name
VAULT_PASSWORD_FILE_ENV = "ANSIBLE_VAULT_PASSWORD_FILE"  # noqa: S105 - a variable name
_ENV_LOOKUP = re.compile(r"^\{\{\s*lookup\(\s*['\"]env['\"]\s*,\s*['\"](\w+)['\"]\s*\)\s*\}\}$")


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)  # IOS enable secret
    key_file: str | None = None


def env_name(base: str, host: str) -> str:
    """DLICT_NETDEV_PASSWORD + host s01-gw → DLICT_NETDEV_PASSWORD_S01_GW."""
    return f"{base}_{re.sub(r'[^A-Za-z0-9]', '_', host).upper()}"


def credentials_for(host: Host, environ: Mapping[str, str] | None = None) -> Credentials:
    """The login for ``host``.

    Password: DLICT_NETDEV_PASSWORD_<HOST>, then DLICT_NETDEV_PASSWORD, then the inventory's
    ansible_password (vaulted, or a ``lookup('env', …)``). Enable secret:
    DLICT_NETDEV_SECRET_<HOST>, DLICT_NETDEV_SECRET, then ansible_become_password. A key file
    (ansible_ssh_private_key_file) may replace the password.

    Raises:
        InputError: no user, no password or key, or a vaulted value that cannot be opened.
    """
    env = os.environ if environ is None else environ
    user = env.get(env_name("DLICT_NETDEV_USER", host.name)) or env.get("DLICT_NETDEV_USER") \
        or host.user
    if not user:
        raise InputError(f"{host.name}: no user to log in as: set ansible_user in the inventory "
                         "or DLICT_NETDEV_USER")
    password = _first_secret(host, env, "DLICT_NETDEV_PASSWORD", PASSWORD_VARS)
    secret = _first_secret(host, env, "DLICT_NETDEV_SECRET", (SECRET_VAR,))
    key_file = next((str(host.settings[v]) for v in KEY_FILE_VARS if host.settings.get(v)), None)
    if password is None and key_file is None:
        per_host = env_name("DLICT_NETDEV_PASSWORD", host.name)
        raise InputError(f"{host.name}: no password for {user}: set {per_host} or "
                         "DLICT_NETDEV_PASSWORD, or a vaulted ansible_password in the inventory")
    return Credentials(user=str(user), password=password, secret=secret, key_file=key_file)


def _first_secret(host: Host, env: Mapping[str, str], base: str,
                  variables: tuple[str, ...]) -> str | None:
    for name in (env_name(base, host.name), base):
        if env.get(name):
            register_secret(env[name])
            return env[name]
    for variable in variables:
        value = host.settings.get(variable)
        if value is None:
            continue
        text = _open_value(host.name, variable, value, env)
        register_secret(text)
        return text
    return None


def _open_value(host: str, variable: str, value: object, env: Mapping[str, str]) -> str:
    if isinstance(value, Mapping) and "__ansible_vault" in value:
        return _vault_decrypt(host, variable, str(value["__ansible_vault"]), env)
    if isinstance(value, str):
        lookup = _ENV_LOOKUP.match(value.strip())
        if lookup:
            found = env.get(lookup.group(1))
            if not found:
                raise InputError(f"{host}: {variable} looks up ${lookup.group(1)}, which is not "
                                 "set")
            return found
    # A plaintext secret is refused when the inventory is loaded; anything else is a template
    # dlict cannot evaluate without Ansible.
    raise InputError(f"{host}: {variable} must be vaulted or lookup('env', 'NAME')")


def _vault_decrypt(host: str, variable: str, ciphertext: str, env: Mapping[str, str]) -> str:
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultLib, VaultSecret

    password_file = env.get(VAULT_PASSWORD_FILE_ENV)
    if not password_file:
        raise InputError(f"{host}: {variable} is vaulted: set {VAULT_PASSWORD_FILE_ENV} to the "
                         "vault password file")
    password = _vault_password(password_file)
    try:
        plain = VaultLib([("default", VaultSecret(password))]).decrypt(ciphertext)
    except AnsibleError as exc:
        raise InputError(f"{host}: {variable}: the vault password does not open it "
                         f"({type(exc).__name__})") from exc
    return str(plain.decode("utf-8"))


@cache
def _vault_password(path: str) -> bytes:
    try:
        password = Path(path).read_bytes().strip()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the vault password file: {exc.strerror}") from exc
    register_secret(password.decode("utf-8", "replace"))
    return password
