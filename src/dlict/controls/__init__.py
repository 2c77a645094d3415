"""The SOP control catalog (YAML shipped as package data) and its typed model."""

from dlict.controls.model import (
    CONTROL_ID,
    DEVICE_PLATFORMS,
    Catalog,
    CheckedBy,
    Control,
    Severity,
    load_catalog,
)

__all__ = ["CONTROL_ID", "DEVICE_PLATFORMS", "Catalog", "CheckedBy", "Control", "Severity",
           "load_catalog"]
