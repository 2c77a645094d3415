"""TLS and basic auth for /metrics, from a web configuration file in the format of the
Prometheus exporter toolkit (``--web.config.file``), so one file serves every exporter:

    tls_server_config:
      cert_file: /etc/dlict/monitor.crt
      key_file: /etc/dlict/monitor.key
      client_auth_type: RequireAndVerifyClientCert   # optional, with client_ca_file
      client_ca_file: /etc/dlict/prometheus-ca.crt
      min_version: TLS12
    basic_auth_users:
      prometheus: $2b$12$...                         # bcrypt hash (htpasswd -nBC 12 "")
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlict.core.errors import InputError
from dlict.core.yamlfile import load_yaml_file
from dlict.exporter.basic_auth import BasicAuth, Verdict

_TLS_KEYS = {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version"}
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# $2b$, the cost (04-31), then 53 characters of salt and hash in bcrypt's base64
_BCRYPT_HASH = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}


@dataclass
class WebConfig:
    tls: ssl.SSLContext | None = None
    auth: BasicAuth | None = None  # None: no basic_auth_users, every request is let in
    client_certs_verified: bool = False  # TLS asks every client for a certificate it trusts

    def check(self, header: str | None, client: str) -> Verdict:
        """What a request's ``Authorization`` header, from address ``client``, is worth."""
        return Verdict.ALLOWED if self.auth is None else self.auth.check(header, client)


def _problem(path: Path, message: str) -> InputError:
    return InputError(f"{path}: {message}")


def _tls_context(path: Path, tls: dict[str, Any]) -> ssl.SSLContext:
    unknown = sorted(set(tls) - _TLS_KEYS)
    if unknown:
        raise _problem(path, f"tls_server_config: unknown key {unknown[0]}")
    if not tls.get("cert_file") or not tls.get("key_file"):
        raise _problem(path, "tls_server_config: cert_file and key_file are both required")
    base = path.parent
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    version = str(tls.get("min_version", "TLS12"))
    if version not in _VERSIONS:
        raise _problem(path, f"tls_server_config: min_version '{version}' is not TLS12 or "
                       "TLS13")
    context.minimum_version = _VERSIONS[version]
    try:
        context.load_cert_chain(base / str(tls["cert_file"]), base / str(tls["key_file"]))
    except (OSError, ssl.SSLError) as exc:
        raise _problem(path, f"tls_server_config: cannot load the certificate and key: "
                       f"{exc}") from exc
    auth = str(tls.get("client_auth_type", "NoClientCert"))
    if auth not in _CLIENT_AUTH:
        raise _problem(path, f"tls_server_config: client_auth_type '{auth}' is not one of "
                       f"{', '.join(_CLIENT_AUTH)}")
    context.verify_mode = _CLIENT_AUTH[auth]
    if "Verify" in auth:
        ca = tls.get("client_ca_file")
        if not ca:
            raise _problem(path, f"tls_server_config: client_auth_type {auth} needs "
                           "client_ca_file")
        try:
            context.load_verify_locations(base / str(ca))
        except (OSError, ssl.SSLError) as exc:
            raise _problem(path, f"tls_server_config: cannot load client_ca_file: "
                           f"{exc}") from exc
    return context


def load_web_config(path: Path) -> WebConfig:
    """Read and check a web configuration file; any problem is one line naming the file."""
    data = load_yaml_file(path) or {}
    if not isinstance(data, dict):
        raise _problem(path, "must be a mapping")
    unknown = sorted(set(data) - {"tls_server_config", "basic_auth_users"})
    if unknown:
        raise _problem(path, f"unknown key {unknown[0]} (dlict reads tls_server_config and "
                       "basic_auth_users)")
    config = WebConfig()
    if data.get("tls_server_config"):
        tls = dict(data["tls_server_config"])
        config.tls = _tls_context(path, tls)
        config.client_certs_verified = tls.get("client_auth_type") == "RequireAndVerifyClientCert"
    users = {}
    for user, hashed in dict(data.get("basic_auth_users") or {}).items():
        text = str(hashed)
        if not _BCRYPT_HASH.fullmatch(text):
            raise _problem(path, f"basic_auth_users: {user}: the password must be a bcrypt "
                           "hash, never the password itself")
        users[str(user)] = text.encode()
    if users:
        config.auth = BasicAuth(users)
    return config
