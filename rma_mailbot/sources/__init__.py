"""Where mail comes from. Every source keeps one contract (see base.Source)."""

from __future__ import annotations

from rma_mailbot.config import Config, SourceKind
from rma_mailbot.sources.base import Scan, Source


def open_source(config: Config) -> Source:
    """The one factory that knows which source a config asks for."""
    if config.source.kind is SourceKind.IMAP:
        from rma_mailbot.sources.imap import ImapSource

        return ImapSource(config.imap)
    from rma_mailbot.sources.maildir import MaildirSource

    return MaildirSource(config.maildir, config.tz)


__all__ = ["Scan", "Source", "open_source"]
