"""What dlict keeps of a FortiOS configuration in the backup history."""

from __future__ import annotations

import re

REDACTED = "<redacted>"

CONF_FILE_VER = re.compile(r"^#conf_file_ver=.*\n?", re.MULTILINE)
# FortiOS encrypts these again, with a new salt, every time the configuration is shown.
ENCRYPTED = re.compile(r"^(\s*set \S+ ENC) \S+", re.MULTILINE)
PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----",
                         re.DOTALL)


def normalize_config(text: str) -> str:
    """The configuration as kept in the backup history: without the file counter FortiOS
    changes on every save and with encrypted values and private keys replaced by a marker."""
    text = CONF_FILE_VER.sub("", text.replace("\r\n", "\n"))
    text = ENCRYPTED.sub(rf"\1 {REDACTED}", text)
    return PRIVATE_KEY.sub(REDACTED, text)
