"""One error hierarchy for the whole toolkit, mapped to the exit codes of the design.

Exit codes: 0 ok / all pass; 1 findings; 2 bad input or usage (one clear line, nothing
written); 3 operational error (unreachable, a needed program missing).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    OPERATIONAL = 3


class DlictError(Exception):
    """Base of every error dlict raises on purpose; the CLI prints its lines and exits."""

    exit_code: ExitCode = ExitCode.OPERATIONAL

    def lines(self) -> list[str]:
        """The message as the user should see it, one problem a line."""
        return [str(self)]


class InputError(DlictError):
    """The user gave something dlict cannot use: a file, an option, a value."""

    exit_code = ExitCode.BAD_INPUT


class ConfigError(InputError):
    """The configuration file or a DLICT_* variable is wrong."""


class InventoryError(InputError):
    """The inventory has one or more problems; each is one line naming file and host or group."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def lines(self) -> list[str]:
        return list(self.problems)


class CsvImportError(InputError):
    """Rows of a school list that cannot become an inventory; each line names its row."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def lines(self) -> list[str]:
        return list(self.problems)


class RunNotFoundError(InputError):
    """The user asked for a run the evidence store does not hold."""


class OperationalError(DlictError):
    """Something around dlict failed: a host, a program, the disk."""

    exit_code = ExitCode.OPERATIONAL


class MissingProgramError(OperationalError):
    """A program dlict needs is not installed."""

    def __init__(self, program: str, hint: str = "") -> None:
        self.program = program
        text = f"required program not found on PATH: {program}"
        super().__init__(f"{text} ({hint})" if hint else text)


class StoreError(OperationalError):
    """The evidence store cannot be opened or written."""


class RetryableSendError(OperationalError):
    """A send that may pass later (unreachable, timed out, 5xx, 429): keep what was being sent
    and try again after a back-off."""
