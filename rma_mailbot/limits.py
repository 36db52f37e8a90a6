"""Which attachments of a mail are kept, and which are refused for their size, number or kind. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from rma_mailbot.config import LimitsConfig
from rma_mailbot.models import Part
from rma_mailbot.sanitise import a_labels

ARCHIVES = {"application/zip", "application/x-rar-compressed", "application/x-7z-compressed", "application/gzip",
            "application/x-tar", "application/x-bzip2", "application/x-xz"}
PROGRAMS = {"application/x-msdownload", "application/x-executable", "application/x-mach-binary",
            "application/x-sharedlib", "application/vnd.microsoft.portable-executable", "application/x-dosexec"}


@dataclass(frozen=True)
class Refused:
    part: Part
    why: str  # said to the customer: what was wrong and how to send it instead

    def describe(self) -> str:
        name = self.part.filename or self.part.sniffed or self.part.content_type
        return f"{name} ({megabytes(len(self.part.payload))}): {self.why}"


def mailbox_of(address: str) -> str:
    """The mailbox an address reaches, as the reply limits count them: its case, quotes and a +tag make
    no other mailbox, nor does a domain written in A-labels, so a forger cannot make the bot mail one
    person under many spellings."""
    local, _, domain = address.lower().rpartition("@")
    local = local.replace('"', "").replace("\\", "")
    return f"{local.split('+', 1)[0] or local}@{a_labels(domain.rstrip('.'))}"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def split(parts: tuple[Part, ...], limits: LimitsConfig, *, message_bytes: int,
          claim_bytes: int) -> tuple[tuple[Part, ...], tuple[Refused, ...]]:
    """Keep parts in order while every limit holds; the rest is refused with the reason."""
    kept: list[Part] = []
    refused: list[Refused] = []
    total = claim_bytes
    for part in parts:
        size = len(part.payload)
        if part.sniffed in PROGRAMS:
            why = "programs are not accepted"
        elif message_bytes > limits.max_message_bytes:
            why = (f"the whole mail was {megabytes(message_bytes)}, over our limit of "
                   f"{megabytes(limits.max_message_bytes)}: please send fewer or smaller photos per mail")
        elif size > limits.max_attachment_bytes:
            why = (f"over our limit of {megabytes(limits.max_attachment_bytes)} per file: please send a smaller "
                   "photo (most phones can share a photo at a lower size)")
        elif len(kept) >= limits.max_attachments:
            why = f"more than {limits.max_attachments} files in one mail: please send the rest in another mail"
        elif total + size > limits.max_claim_bytes:
            why = (f"the files of this claim would exceed {megabytes(limits.max_claim_bytes)} in total: please send "
                   "only the photos we asked for")
        else:
            kept.append(part)
            total += size
            continue
        refused.append(Refused(part, why))
    return tuple(kept), tuple(refused)


def oversized_note(message_bytes: int, limits: LimitsConfig) -> str:
    return (f"Your mail was {megabytes(message_bytes)}, over our limit of {megabytes(limits.max_message_bytes)} "
            "per mail, so none of its attachments could be kept: please send fewer or smaller photos per mail "
            "(most phones can share a photo at a lower size).")


def archive_note(parts: tuple[Part, ...]) -> str:
    """Archives are kept but never opened: the customer should know the photos inside did not count."""
    if any(p.sniffed in ARCHIVES for p in parts):
        return "We do not open archives (zip, rar, 7z): please attach photos and reports to the mail directly."
    return ""
