"""rma_mailbot: a returns desk that runs by email."""

__version__ = "0.1.0"
