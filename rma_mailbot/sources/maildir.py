"""A Maildir on the local disk (stdlib mailbox): for the mail host itself, and for the demo."""

from __future__ import annotations

import datetime as dt
import logging
import mailbox
import zoneinfo
from itertools import islice

from rma_mailbot.config import MaildirConfig
from rma_mailbot.errors import SourceError
from rma_mailbot.models import IncomingMail, SourceRef
from rma_mailbot.sources.base import KnownLocations, Scan

log = logging.getLogger(__name__)

BATCH = 50
UIDVALIDITY = 0  # Maildir keys are unique for ever, so they never need a validity epoch


class MaildirSource:
    def __init__(self, config: MaildirConfig, tz: zoneinfo.ZoneInfo):
        self._config = config
        self._tz = tz
        self.mailbox = f"maildir:{config.path.name}"
        try:
            self._md = mailbox.Maildir(config.path, factory=None, create=True)
        except OSError as exc:
            raise SourceError(f"maildir {config.path} cannot be opened: {exc}") from None

    def scan(self, known: KnownLocations) -> Scan:
        self._md.clean()
        keys = [k for k in self._md.keys() if not known.location_known(self._ref(k))]
        dated = sorted((self._received(k), k) for k in keys)
        return Scan(total=len(dated), batches=self._batches(dated))

    def _batches(self, dated):
        it = iter(dated)
        while chunk := list(islice(it, BATCH)):
            batch = []
            for received, key in chunk:
                try:
                    raw = self._md.get_bytes(key)
                except KeyError:
                    continue  # removed by someone else since the scan
                batch.append(IncomingMail(self._ref(key), raw, received))
            yield batch

    def finish(self, refs: list[SourceRef]) -> list[SourceRef]:
        if not self._config.processed_folder:
            return []
        target = self._processed()
        moved = []
        for ref in refs:
            try:
                # The bytes as they came: a message object is written anew, and the stdlib's folding of a
                # long header takes minutes.
                target.add(self._md.get_bytes(ref.uid))
            except KeyError:
                pass  # already gone from the inbox: nothing left to move
            self._md.discard(ref.uid)
            moved.append(ref)
        return moved

    def leftovers(self, known: KnownLocations) -> list[SourceRef]:
        return [ref for ref in known.unmoved(self.mailbox, UIDVALIDITY) if ref.uid in self._md]

    def close(self) -> None:
        self._md.close()

    def _processed(self) -> mailbox.Maildir:
        name = self._config.processed_folder
        try:
            return self._md.get_folder(name)
        except mailbox.NoSuchMailboxError:
            return self._md.add_folder(name)

    def _ref(self, key: str) -> SourceRef:
        return SourceRef(self.mailbox, UIDVALIDITY, key)

    def _received(self, key: str) -> dt.datetime:
        # The file's delivery time stands in for IMAP INTERNALDATE.
        stamp = self._md.get_message(key).get_date()
        return dt.datetime.fromtimestamp(stamp, tz=self._tz)
