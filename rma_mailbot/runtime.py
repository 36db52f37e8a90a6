"""What every cycle needs, opened once per process: config, store, order book, templates."""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2

from rma_mailbot import refs, replies
from rma_mailbot.config import Config
from rma_mailbot.orders import OrderBook
from rma_mailbot.parse_pool import ParsePool, default_processes
from rma_mailbot.resources import templates_dir
from rma_mailbot.store import Store


@dataclass
class Runtime:
    config: Config
    store: Store
    orders: OrderBook
    templates: jinja2.Environment
    reported: set[str] = field(default_factory=set)  # problems already logged by this process
    parser: ParsePool = field(init=False)

    def __post_init__(self) -> None:
        self.parser = ParsePool(default_processes() if self.config.bot.parse_in_workers else 0, self.parse_options())

    @classmethod
    def open(cls, config: Config, *, read_only: bool = False) -> Runtime:
        return cls(
            config=config,
            store=Store(config.bot.database, config.bot.data_dir, read_only=read_only),
            orders=OrderBook(config.orders),
            templates=replies.environment(config.bot.templates_dir or templates_dir()),
        )

    def close(self) -> None:
        self.parser.close()
        self.store.close()

    def parse_options(self) -> dict:
        """What parse() needs to know of us, besides the bytes."""
        return {"own_addresses": self.own_addresses(), "staff_addresses": self.staff_addresses(),
                "authserv_id": self.config.review.authserv_id, "max_bytes": self.config.limits.max_message_bytes}

    def claim_ref(self, claim_id: int) -> str:
        return refs.claim_ref(self.config.bot.claim_ref_prefix, claim_id)

    def claim_ids_in(self, subject: str) -> list[int]:
        return refs.claim_ids_in(subject, self.config.bot.claim_ref_prefix)

    def own_addresses(self) -> frozenset[str]:
        """Mail from these is our own: stored, never answered, never a claim."""
        return frozenset({self.config.bot.support_address.lower()})

    def staff_addresses(self) -> frozenset[str]:
        """Our own people: their answers may decide a claim (the warehouse loop); never answered."""
        return frozenset({self.config.warehouse.address.lower()}) if self.config.warehouse else frozenset()
