"""chrony's ``chronyc -c tracking`` line, as each host logs it every 15 minutes (tag dlict-chrony).

The CSV fields, in chronyc's order: reference ID, reference name or address, stratum,
reference time, system time (offset of the system clock from NTP time, seconds), last offset,
RMS offset, frequency, residual frequency, skew, root delay, root dispersion, update interval,
leap status.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELD_COUNT = 14
NOT_SYNCHRONISED = "Not synchronised"


@dataclass(frozen=True)
class Tracking:
    reference_id: str
    reference: str
    stratum: int
    system_time: float
    last_offset: float
    root_delay: float
    root_dispersion: float
    leap_status: str

    @property
    def synchronised(self) -> bool:
        return self.leap_status != NOT_SYNCHRONISED and self.stratum > 0

    @property
    def offset_seconds(self) -> float:
        """The clock's current offset from NTP time as chronyd estimates it."""
        return abs(self.system_time)

    @property
    def error_bound_seconds(self) -> float:
        """The most the clock can be off the reference at stratum 0 (RFC 5905 style)."""
        return abs(self.system_time) + self.root_dispersion + self.root_delay / 2


def parse_tracking(line: str) -> Tracking | None:
    """Parse one ``chronyc -c tracking`` line; None when it is not one."""
    fields = line.strip().split(",")
    if len(fields) != FIELD_COUNT:
        return None
    try:
        return Tracking(
            reference_id=fields[0], reference=fields[1], stratum=int(fields[2]),
            system_time=float(fields[4]), last_offset=float(fields[5]),
            root_delay=float(fields[10]), root_dispersion=float(fields[11]),
            leap_status=fields[13],
        )
    except ValueError:
        return None
