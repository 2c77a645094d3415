"""Forwarding: take the oldest records from the outbox, send them, and only then let them go.

``push_once`` sends batch after batch until the outbox is empty, a send fails or
``max_batches`` went out; with nothing to send it sends a batch of no records, so the office
still hears that the agent is alive and how full its outbox is. A record leaves the outbox
only after its receiver answered 2xx: a power cut between the send and the ack sends the same
records, with the same keys, again, and the office stores each key once (at-least-once
delivery, exactly-once storage).

Results and events go to the office's intake. Samples go there too, unless remote_write is
configured: then they go to the remote_write receiver, while results and events still go to
the intake.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from loguru import logger

from dlict.agent.outbox import Outbox
from dlict.agent.records import Kind, Record
from dlict.agent.transport import Delivery, Outcome
from dlict.agent.wire import BatchHeader, WireError, decode_batch, encode_batch

DEFAULT_MAX_BATCHES = 50
INTAKE_KINDS_WITH_REMOTE_WRITE = frozenset({Kind.RESULT, Kind.EVENT})
SAMPLES = frozenset({Kind.SAMPLE})


class Backoff:
    """How long to wait after a failed push: exponential with full jitter — a random wait
    between 0 and ``min(max_s, base_s * 2**failures)`` — so 500 schools whose link came back
    at the same moment do not all knock at once. A success starts again from the base."""

    def __init__(self, max_s: float, base_s: float = 2.0,
                 rng: random.Random | None = None) -> None:
        self.max_s = max_s
        self.base_s = min(base_s, max_s)
        self.failures = 0
        self._rng = rng or random.SystemRandom()

    def ceiling(self) -> float:
        """The longest the next wait may be."""
        return min(self.max_s, self.base_s * 2.0 ** min(self.failures, 62))

    def failed(self) -> float:
        """Count a failure; returns the wait before the next try."""
        self.failures += 1
        return self._rng.uniform(0, self.ceiling())

    def refused(self) -> float:
        """The office refused: nothing helps until someone acts, so wait the longest."""
        self.failures += 1
        return self.max_s

    def succeeded(self) -> None:
        self.failures = 0


class SampleSender(Protocol):
    """Where samples go instead of the intake (remote_write), seen as one call a batch."""

    def __call__(self, records: Sequence[Record]) -> Delivery: ...


BatchSender = Callable[[bytes], Delivery]
HeaderSource = Callable[[], BatchHeader]


# Past this the results' times are wrong enough to mislead (the office alerts at 60 s too).
CLOCK_TOLERANCE_S = 60.0


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What one push did: its outcome (delivered also when there was nothing to send), how
    many records were delivered and dropped as unsendable, whether more are waiting."""

    outcome: Outcome
    delivered: int = 0
    unsendable: int = 0
    more: bool = False
    detail: str = ""
    # The office's clock minus this machine's, from the last answer of the intake (None: none).
    clock_offset_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DELIVERED

    @property
    def clock_is_off(self) -> bool:
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > CLOCK_TOLERANCE_S


def push_once(outbox: Outbox, header_fn: HeaderSource, send: BatchSender, *,
              samples: SampleSender | None = None, batch_records: int = 2_000,
              max_batches: int = DEFAULT_MAX_BATCHES) -> PushOutcome:
    """Send the outbox's records, oldest first, acking each batch once it was taken.

    Arguments:
        outbox: where the records wait.
        header_fn: the header of the next batch (who sends, the outbox's state now).
        send: posts an encoded batch to the intake.
        samples: where samples go instead of the intake (remote_write), if anywhere.
        batch_records: records in one batch at most.
        max_batches: batches in this push at most (then ``more`` says whether any wait).

    Raises:
        OutboxError: the outbox cannot be read or written.
    """
    intake = _Channel(outbox, None if samples is None else INTAKE_KINDS_WITH_REMOTE_WRITE,
                      batch_records, _IntakeDelivery(outbox, header_fn, send))
    outcomes = [intake.drain(max_batches)]
    if outcomes[0].ok and outcomes[0].delivered == 0:
        outcomes[0] = _heartbeat(header_fn, send)
    if samples is not None:
        outcomes.append(_Channel(outbox, SAMPLES, batch_records, samples).drain(max_batches))
    failed = [o for o in outcomes if not o.ok]
    worst = next((o for o in failed if o.outcome is Outcome.REFUSED), None) or (
        failed[0] if failed else None)
    return PushOutcome(
        outcome=worst.outcome if worst else Outcome.DELIVERED,
        delivered=sum(o.delivered for o in outcomes),
        unsendable=sum(o.unsendable for o in outcomes),
        more=any(o.more for o in outcomes),
        detail="; ".join(o.detail for o in failed))


def _heartbeat(header_fn: HeaderSource, send: BatchSender) -> _Drained:
    """A batch of no records: the office learns the agent is alive and how full its outbox
    is even when there is nothing to deliver."""
    answer = send(encode_batch(header_fn(), []))
    return _Drained(answer.outcome, 0, 0, not answer.ok, answer.detail)


class _IntakeDelivery:
    """Encodes a batch for the intake and sends it; records that the intake's own decoder
    would refuse are dropped (and counted) first, so one bad record cannot block the queue."""

    def __init__(self, outbox: Outbox, header_fn: HeaderSource, send: BatchSender) -> None:
        self._outbox = outbox
        self._header_fn = header_fn
        self._send = send
        self.unsendable = 0

    def __call__(self, records: Sequence[Record]) -> Delivery:
        header = self._header_fn()
        body = encode_batch(header, records)
        try:
            decode_batch(body)
        except WireError:
            records = self._without_unsendable(header, records)
            if not records:
                return Delivery(Outcome.DELIVERED, None, "")
            body = encode_batch(self._header_fn(), records)
        return self._send(body)

    def _without_unsendable(self, header: BatchHeader, records: Sequence[Record]
                            ) -> list[Record]:
        kept: list[Record] = []
        bad: list[Record] = []
        for record in records:
            try:
                decode_batch(encode_batch(header, [record]))
            except WireError as exc:
                logger.warning("outbox: record {} ({}) cannot be sent and is dropped: {}",
                               record.key, record.kind, exc)
                bad.append(record)
            else:
                kept.append(record)
        self.unsendable += self._outbox.drop(bad)
        return kept


@dataclass(frozen=True, slots=True)
class _Drained:
    outcome: Outcome
    delivered: int
    unsendable: int
    more: bool
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DELIVERED


class _Channel:
    """Records of some kinds, taken from the outbox and given to one receiver."""

    def __init__(self, outbox: Outbox, kinds: frozenset[Kind] | None, batch_records: int,
                 deliver: Callable[[Sequence[Record]], Delivery]) -> None:
        self._outbox = outbox
        self._kinds = kinds
        self._batch_records = batch_records
        self._deliver = deliver

    def drain(self, max_batches: int) -> _Drained:
        delivered = 0
        for _ in range(max_batches):
            batch = self._outbox.next_batch(self._batch_records, self._kinds)
            if not batch:
                return self._drained(Outcome.DELIVERED, delivered, more=False)
            answer = self._deliver(batch)
            if not answer.ok:
                return self._drained(answer.outcome, delivered, more=True,
                                     detail=answer.detail)
            delivered += self._outbox.ack([record.key for record in batch])
        more = bool(self._outbox.next_batch(1, self._kinds))
        return self._drained(Outcome.DELIVERED, delivered, more=more)

    def _drained(self, outcome: Outcome, delivered: int, *, more: bool,
                 detail: str = "") -> _Drained:
        unsendable = self._deliver.unsendable if isinstance(self._deliver, _IntakeDelivery) else 0
        return _Drained(outcome, delivered, unsendable, more, detail)
