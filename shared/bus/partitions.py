"""How the partitions of a batch subscription are shared out between processes, without locks.

Every partition queue is consumed by at most one process at a time (an exclusive consumer: the
broker refuses a second one). Each process counts the live processes (consumers of the
``.members`` presence queue) every ``bus.partition_claim_seconds`` and applies ``step``:

* it may hold up to its fair share, ``ceil(N / live)``, and takes free partitions up to it;
* above it, it releases one partition per tick (after the batch in hand);
* with ``N % live != 0`` some processes hold one more than others, and "everyone at most
  ``ceil``" can leave one process with none (4 partitions, 3 processes: 2, 2, 0). A process
  holding fewer than ``N // live`` signals it by consuming the ``.waiting`` queue; while anyone
  else waits, the others give back partitions down to ``N // live``.

A process that dies loses its connection; the broker requeues its unacknowledged messages and
frees its partitions, which the survivors take on their next tick.
"""
import math
from dataclasses import dataclass


def fair_share(partitions: int, live: int) -> int:
    """The most partitions one of ``live`` processes should hold."""
    return math.ceil(partitions / max(1, live))


def floor_share(partitions: int, live: int) -> int:
    """What every one of ``live`` processes is owed: below it, a process waits."""
    return partitions // max(1, live)


@dataclass(frozen=True)
class Step:
    take: int          # free partitions to try to take this tick
    release: bool      # give one partition back (after the batch in hand)
    cap: int           # what this process aims to hold


def step(partitions: int, live: int, held: int, others_waiting: int) -> Step:
    """What a process holding ``held`` partitions does on a tick."""
    if others_waiting > 0:
        cap = floor_share(partitions, live)
    else:
        cap = fair_share(partitions, live)
    if held > cap:
        return Step(0, True, cap)
    return Step(cap - held, False, cap)


def waiting(partitions: int, live: int, held: int) -> bool:
    """Whether a process holding ``held`` after its tick should signal that it is starved."""
    return held < floor_share(partitions, live)


def rotation(partitions: int, start: int) -> list[int]:
    """The order in which to try free partitions, from ``start`` (random per process, so that
    processes starting together try different partitions first)."""
    return [(start + i) % partitions for i in range(partitions)]
