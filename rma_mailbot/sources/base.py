"""The contract every mail source keeps."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Protocol

from rma_mailbot.models import IncomingMail, SourceRef


class KnownLocations(Protocol):
    """What a source asks the store: where it stopped, and what it has already seen."""

    def location_known(self, ref: SourceRef) -> bool: ...

    def folder_state(self, mailbox: str) -> tuple[int, int] | None: ...

    def unmoved(self, mailbox: str, uidvalidity: int) -> list[SourceRef]: ...


@dataclass
class Scan:
    """New mail on the source: how many, and the mails themselves in bounded batches."""

    total: int
    batches: Generator[list[IncomingMail], None, None]


class Source(Protocol):
    mailbox: str

    def scan(self, known: KnownLocations) -> Scan:
        """Mail not yet stored, oldest first. Reading must not mark anything as read."""

    def finish(self, refs: list[SourceRef]) -> list[SourceRef]:
        """Move stored mail out of the way; returns the refs that were moved."""

    def leftovers(self, known: KnownLocations) -> list[SourceRef]:
        """Stored mail that a crash or an error left in place, to finish again."""

    def close(self) -> None: ...
