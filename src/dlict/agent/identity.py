"""The agent's TLS identity as the long-running agent uses it: the standard library only.

``dlict agent run`` builds this context for every push; importing ``cryptography`` for it
would cost the agent ~9 MB of its 60 MB budget. The deeper check — that agent.crt was
issued by office-ca.crt — is ``dlict agent enroll``'s and ``dlict agent status``'s; a
mismatch that slips past here is refused by the office's TLS handshake, which the forwarder
reports as a refusal.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from dlict.agent.config import AgentConfig
from dlict.core.errors import InputError
from dlict.core.files import os_failure
from dlict.core.printable import printable


def tls_context() -> ssl.SSLContext:
    # A bare context trusts nothing until told: the system's CAs are never loaded.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def require_private(key_path: Path) -> None:
    mode = key_path.stat().st_mode & 0o777
    if mode & 0o077:
        raise InputError(f"{key_path}: the agent's key is readable by others (mode {mode:04o}); "
                         "chmod 600 it, or enrol again")


def reason_of(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return printable(str(reason).splitlines()[0] if str(reason) else type(exc).__name__)


def client_context(config: AgentConfig) -> ssl.SSLContext:
    """TLS to the office: only the pinned office CA is trusted, the agent's certificate is
    presented.

    Raises:
        InputError: the agent is not enrolled, its key is readable by others, or its key and
            certificate do not belong together (one line; enrol again).
    """
    paths = (config.key_path, config.cert_path, config.ca_path)
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise InputError(f"{config.state_dir}: the agent is not enrolled ({', '.join(missing)} "
                         "missing): run dlict agent enroll --config FILE --token TOKEN")
    require_private(config.key_path)
    context = tls_context()
    try:
        context.load_verify_locations(cafile=config.ca_path)
        context.load_cert_chain(config.cert_path, config.key_path)
    except (ssl.SSLError, ValueError) as exc:
        raise InputError(f"{config.state_dir}: agent.crt, agent.key and office-ca.crt do not "
                         f"belong together ({reason_of(exc)}): enrol again") from exc
    except OSError as exc:
        raise os_failure(config.state_dir, "read the agent's certificate", exc) from exc
    return context
