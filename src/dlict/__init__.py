"""dlict — the operations toolkit of a Thai district education office's DLICT group."""

__version__ = "0.1.0"
