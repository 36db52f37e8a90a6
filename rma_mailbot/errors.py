"""One error hierarchy: every error the bot raises on purpose is a MailbotError."""


class MailbotError(Exception):
    """Base of every error the bot reports to its user."""


class ConfigError(MailbotError):
    """The config file is missing, unreadable, or a key in it is wrong."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


class OrderBookError(MailbotError):
    """The orders CSV cannot be read or lacks a mapped column."""


class SourceError(MailbotError):
    """The mail source (IMAP server or Maildir) cannot be read."""


class StoreError(MailbotError):
    """The database or the data directory failed; the mail in hand stays on the server."""


class DeliveryError(MailbotError):
    """A reply could not be delivered."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class UnsafeHeader(MailbotError):
    """A header of a reply would carry a line break that starts a header of its own: the reply is not made."""


class UnsendableAddress(DeliveryError):
    """The relay cannot carry the address (one that is not ASCII needs SMTPUTF8): staff must answer."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


class ParseError(MailbotError):
    """A message could not be parsed at all; it is quarantined with this reason."""


class ClaimNotFound(MailbotError):
    """No claim has the id or reference asked for."""


class ReportUnreadable(MailbotError):
    """A PDF report's text cannot be read within our limits; staff read it instead."""
