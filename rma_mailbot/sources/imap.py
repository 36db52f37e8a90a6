"""The support inbox on an IMAP server, through imapclient.

Never selects by \\Seen (a person reading the inbox must not hide mail from the bot) and
fetches with BODY.PEEK[] so nothing is marked read before it is stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import ssl
from itertools import islice

import imapclient
from imapclient.exceptions import IMAPClientError

from rma_mailbot.config import ImapConfig, TLSMode
from rma_mailbot.errors import SourceError
from rma_mailbot.models import IncomingMail, SourceRef
from rma_mailbot.sources.base import KnownLocations, Scan

log = logging.getLogger(__name__)

IMAP_ERRORS = (IMAPClientError, OSError, ssl.SSLError, socket.timeout)
_SIZE_CHUNK = 500


def tls_context(ca_file) -> ssl.SSLContext:
    """Certificate verification always on; a CA file adds trust for a private server."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def connect(config: ImapConfig) -> imapclient.IMAPClient:
    """The one place that opens a socket to the IMAP server and logs in."""
    try:
        client = imapclient.IMAPClient(
            config.host, port=config.port, ssl=config.tls is TLSMode.IMPLICIT,
            ssl_context=tls_context(config.ca_file) if config.tls is TLSMode.IMPLICIT else None,
            timeout=config.timeout_seconds,
        )
        _quiet_unless_logged(client)
        if config.tls is TLSMode.STARTTLS:
            client.starttls(tls_context(config.ca_file))
        client.normalise_times = False  # keep INTERNALDATE's zone: claims are judged on the server's day
        client.login(config.username, config.password())
    except imapclient.exceptions.LoginError as exc:
        raise SourceError(f"IMAP login to {config.host}:{config.port} as {config.username} failed: "
                          f"{_text(exc)}") from None
    except IMAP_ERRORS as exc:
        raise SourceError(f"IMAP server {config.host}:{config.port} unreachable: {_text(exc)}") from None
    return client


def _quiet_unless_logged(client: imapclient.IMAPClient) -> None:
    """imapclient sets imaplib's debug level to 5 to feed its "imapclient.imaplib" logger, and imaplib
    then formats a repr of every line and literal it reads (whole mails, and each FETCH response again)
    before the logger drops it: a fifth of the bot's own time in a backlog. Keep that only when the
    logger would print it."""
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        client._imap.debug = 0


class ImapSource:
    def __init__(self, config: ImapConfig):
        self._config = config
        self.mailbox = config.folder
        self._client = connect(config)
        self._uidvalidity = self._select()
        if config.processed_folder:
            self._ensure_folder(config.processed_folder)

    @property
    def client(self) -> imapclient.IMAPClient:
        return self._client

    def scan(self, known: KnownLocations) -> Scan:
        self._uidvalidity = self._select()
        state = known.folder_state(self.mailbox)
        last_uid = 0
        if state is not None:
            if state[0] == self._uidvalidity:
                last_uid = state[1]
            else:
                # Every UID changed meaning: rescan the folder; Message-ID dedupe keeps it idempotent.
                log.warning("UIDVALIDITY of %s changed from %s to %s: rescanning the folder",
                            self.mailbox, state[0], self._uidvalidity)
        try:
            uids = sorted(u for u in self._client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        except IMAP_ERRORS as exc:
            raise SourceError(f"IMAP search in {self.mailbox} failed: {_text(exc)}") from None
        uids = [u for u in uids if not known.location_known(self._ref(u))]
        return Scan(total=len(uids), batches=self._batches(uids))

    def _batches(self, uids: list[int]):
        """Fetch whole messages in batches bounded by count and by RFC822.SIZE."""
        it = iter(uids)
        while chunk := list(islice(it, _SIZE_CHUNK)):
            sizes = self._fetch(chunk, ["RFC822.SIZE"])
            batch: list[int] = []
            batch_bytes = 0
            for uid in chunk:
                if uid not in sizes:
                    continue  # expunged by another client since the search
                size = sizes[uid].get(b"RFC822.SIZE", 0)
                if batch and (len(batch) >= self._config.batch_messages
                              or batch_bytes + size > self._config.batch_bytes):
                    yield self._bodies(batch)
                    batch, batch_bytes = [], 0
                batch.append(uid)
                batch_bytes += size
            if batch:
                yield self._bodies(batch)

    def _bodies(self, uids: list[int]) -> list[IncomingMail]:
        data = self._fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        mails = []
        for uid in uids:
            item = data.get(uid)
            if item is None or b"BODY[]" not in item:
                continue
            received = item.get(b"INTERNALDATE") or dt.datetime.now(dt.UTC)
            mails.append(IncomingMail(self._ref(uid), item[b"BODY[]"], received, watermark=True))
        return mails

    def finish(self, refs: list[SourceRef]) -> list[SourceRef]:
        target = self._config.processed_folder
        uids = [int(r.uid) for r in refs if r.uidvalidity == self._uidvalidity and r.mailbox == self.mailbox]
        if not target or not uids:
            return []
        try:
            self._move(uids, target)
        except IMAP_ERRORS as exc:
            # Someone may have deleted the processed folder: make it again and try once more.
            try:
                if self._client.folder_exists(target):
                    raise
                log.warning("IMAP folder %s is gone: creating it again", target)
                self._client.create_folder(target)
                self._move(uids, target)
            except IMAP_ERRORS:
                log.warning("could not move %d message(s) to %s (will retry): %s", len(uids), target, _text(exc))
                return []
        moved = set(uids)
        return [r for r in refs if int(r.uid) in moved]

    def _move(self, uids: list[int], target: str) -> None:
        if self._client.has_capability("MOVE"):
            self._client.move(uids, target)
        else:
            self._client.copy(uids, target)
            self._client.add_flags(uids, [imapclient.DELETED])
            if self._client.has_capability("UIDPLUS"):
                self._client.uid_expunge(uids)
            else:
                self._client.expunge()

    def leftovers(self, known: KnownLocations) -> list[SourceRef]:
        refs = known.unmoved(self.mailbox, self._uidvalidity)
        if not refs or not self._config.processed_folder:
            return []
        present = set(self._client.search(["UID", ",".join(r.uid for r in refs)]))
        return [r for r in refs if int(r.uid) in present]

    def close(self) -> None:
        try:
            self._client.logout()
        except IMAP_ERRORS:
            pass  # the connection is gone either way

    def _select(self) -> int:
        try:
            info = self._client.select_folder(self.mailbox)
        except IMAP_ERRORS as exc:
            raise SourceError(f"IMAP folder {self.mailbox} cannot be selected: {_text(exc)}") from None
        return int(info[b"UIDVALIDITY"])

    def _ensure_folder(self, name: str) -> None:
        try:
            if not self._client.folder_exists(name):
                self._client.create_folder(name)
                log.info("created IMAP folder %s", name)
        except IMAP_ERRORS as exc:
            raise SourceError(f"IMAP folder {name} cannot be created: {_text(exc)}") from None

    def _fetch(self, uids: list[int], items: list[str]) -> dict:
        try:
            return self._client.fetch(uids, items)
        except IMAP_ERRORS as exc:
            raise SourceError(f"IMAP fetch from {self.mailbox} failed: {_text(exc)}") from None

    def _ref(self, uid: int) -> SourceRef:
        return SourceRef(self.mailbox, self._uidvalidity, str(uid))


def _text(exc: BaseException) -> str:
    """imapclient passes the server's bytes as the only argument; everything else has a good str()."""
    if len(exc.args) == 1 and isinstance(exc.args[0], bytes):
        return exc.args[0].decode(errors="replace")
    return str(exc) or type(exc).__name__
