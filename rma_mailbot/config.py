"""The TOML config file, loaded into frozen dataclasses.

Every problem becomes a ConfigError naming the key path, e.g. ``imap.port: expected an
integer, got "abc"``. Relative paths are resolved against the config file's folder.
Passwords never live in the file: it names the environment variable that holds each one.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rma_mailbot import refs
from rma_mailbot.errors import ConfigError
from rma_mailbot.models import ClaimKind

ENV_VAR = "RMA_MAILBOT_CONFIG"


class SourceKind(StrEnum):
    IMAP = "imap"
    MAILDIR = "maildir"


class TLSMode(StrEnum):
    IMPLICIT = "implicit"
    STARTTLS = "starttls"
    NONE = "none"


class OutboxMode(StrEnum):
    SMTP = "smtp"
    DRAFTS = "drafts"
    FOLDER = "folder"


class AutoAction(StrEnum):
    """What the bot does with a claim the policy would grant: grant it, or hand it to staff."""

    APPROVE = "approve"
    REVIEW = "review"


@dataclass(frozen=True)
class BotConfig:
    support_address: str
    message_id_domain: str
    timezone: str
    data_dir: Path
    database: Path
    support_name: str = "Returns desk"
    company: str = "KST"
    claim_ref_prefix: str = "CLM"
    poll_interval_seconds: int = 60
    templates_dir: Path | None = None
    parse_in_workers: bool = True  # one fewer worker processes than the machine has cores


@dataclass(frozen=True)
class SourceConfig:
    kind: SourceKind


@dataclass(frozen=True)
class MaildirConfig:
    path: Path
    processed_folder: str = "Processed"


@dataclass(frozen=True)
class ImapConfig:
    host: str
    username: str
    password_env: str
    port: int = 993
    tls: TLSMode = TLSMode.IMPLICIT
    ca_file: Path | None = None
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    batch_bytes: int = 10_000_000
    batch_messages: int = 50
    timeout_seconds: int = 60

    def password(self) -> str:
        return _secret("imap.password_env", self.password_env)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    tls: TLSMode = TLSMode.STARTTLS
    ca_file: Path | None = None
    username: str = ""
    password_env: str = ""
    timeout_seconds: int = 60

    def password(self) -> str:
        return _secret("smtp.password_env", self.password_env) if self.username else ""


@dataclass(frozen=True)
class OutboxConfig:
    mode: OutboxMode
    folder: Path | None = None
    drafts_folder: str = "Drafts"
    max_attempts: int = 5
    # mode = "smtp": the IMAP folder the provider files our SMTP submissions in; "" when it files none.
    sent_folder: str = ""


@dataclass(frozen=True)
class OrderColumns:
    order_id: str
    customer_email: str
    ship_date: str
    delivery_date: str
    shipping_method: str
    boxes: str
    part: str
    quantity: str
    carrier_status: str = ""  # optional: "" when the export has no such column
    sensitive: str = ""  # optional: a yes/no flag per line for ESD or moisture-sensitive parts
    value: str = ""  # optional: the order's total value, for review routing


@dataclass(frozen=True)
class OrdersConfig:
    csv: Path
    columns: OrderColumns
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    sensitive_parts: Path | None = None  # a text file, one ESD/moisture-sensitive part number per line


@dataclass(frozen=True)
class PolicyConfig:
    order_number_pattern: str
    shipping_days: dict[str, int]
    default_shipping_days: int = 20
    return_window_days: int = 7
    warranty_days: int = 365
    non_receipt_overdue: AutoAction = AutoAction.APPROVE
    recognised_labs: tuple[str, ...] = ()
    recognised_report: AutoAction = AutoAction.REVIEW
    missing_items_review_after_days: int = 30
    delivered_statuses: tuple[str, ...] = ("delivered",)
    customer_failure_statuses: tuple[str, ...] = ()
    reminder_after_days: int = 5
    close_after_days: int = 14
    rma_format: str = "RMA-{year}-{seq:05d}"


@dataclass(frozen=True)
class WarehouseConfig:
    address: str


@dataclass(frozen=True)
class LimitsConfig:
    max_message_bytes: int = 25_000_000
    max_attachments: int = 20
    max_attachment_bytes: int = 15_000_000
    max_claim_bytes: int = 100_000_000
    max_replies_per_sender: int = 10
    reply_window_minutes: int = 60
    max_replies_per_sender_per_day: int = 20  # a loop the window alone lets through gets 240 a day


@dataclass(frozen=True)
class RoutingRule:
    """Claims matching every condition given go to staff instead of an automatic answer."""

    name: str
    kinds: tuple[ClaimKind, ...] = ()
    order_value_over: float | None = None
    claims_in_30_days_over: int | None = None
    sender_mismatch: bool = False
    auth_failed: bool = False

    def conditions(self) -> int:
        return sum((bool(self.kinds), self.order_value_over is not None, self.claims_in_30_days_over is not None,
                    self.sender_mismatch, self.auth_failed))


@dataclass(frozen=True)
class ReviewConfig:
    overrides_file: Path | None = None
    # The authserv-id of our receiving mail server, whose Authentication-Results we trust.
    authserv_id: str = ""
    rules: tuple[RoutingRule, ...] = ()


@dataclass(frozen=True)
class Config:
    path: Path
    bot: BotConfig
    source: SourceConfig
    outbox: OutboxConfig
    orders: OrdersConfig
    policy: PolicyConfig
    maildir: MaildirConfig | None = None
    imap: ImapConfig | None = None
    smtp: SmtpConfig | None = None
    warehouse: WarehouseConfig | None = None
    review: ReviewConfig = ReviewConfig()
    limits: LimitsConfig = LimitsConfig()
    tz: zoneinfo.ZoneInfo = field(default=zoneinfo.ZoneInfo("UTC"), compare=False)
    order_number_re: re.Pattern[str] = field(default=re.compile(r"$^"), compare=False)


def _secret(key: str, env_name: str) -> str:
    if not env_name:
        raise ConfigError(key, "names no environment variable")
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(key, f"environment variable {env_name} is not set")
    return value


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file from --config, else $RMA_MAILBOT_CONFIG, else ./config.toml."""
    chosen = explicit or os.environ.get(ENV_VAR) or "config.toml"
    return Path(chosen)


def load(path: str | os.PathLike[str]) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"config file {path} not found (pass --config or set {ENV_VAR})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"config file {path} cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{path} is not valid TOML: {exc}") from None
    return parse(data, base_dir=path.resolve().parent, path=path)


_DERIVED = {"path", "tz", "order_number_re"}


def parse(data: dict, *, base_dir: Path, path: Path) -> Config:
    """Turn the TOML document into a Config, checking every key."""
    values = _fields(Config, data, "", base_dir, skip=_DERIVED)
    config = Config(path=path, **values)
    try:
        tz = zoneinfo.ZoneInfo(config.bot.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError("bot.timezone", f"unknown time zone {config.bot.timezone!r}") from None
    try:
        pattern = refs.order_number_pattern(config.policy.order_number_pattern)
    except re.error as exc:
        raise ConfigError("policy.order_number_pattern", f"not a valid regular expression: {exc}") from None
    _require_sections(config)
    try:
        config.policy.rma_format.format(year=2026, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError("policy.rma_format", f"only {{year}} and {{seq}} can be filled in: {exc}") from None
    for n, rule in enumerate(config.review.rules):
        if not rule.conditions():
            raise ConfigError(f"review.rules[{n}]", f"rule {rule.name!r} has no condition, so it would match every "
                                                     "claim (give kinds, order_value_over, ...)")
    if config.policy.close_after_days <= config.policy.reminder_after_days:
        raise ConfigError("policy.close_after_days", "must be more days than policy.reminder_after_days")
    return dataclasses.replace(config, tz=tz, order_number_re=pattern)


def _require_sections(config: Config) -> None:
    if config.source.kind is SourceKind.IMAP and config.imap is None:
        raise ConfigError("imap", 'missing section, needed because source.kind = "imap"')
    if config.source.kind is SourceKind.MAILDIR and config.maildir is None:
        raise ConfigError("maildir", 'missing section, needed because source.kind = "maildir"')
    if config.outbox.mode is OutboxMode.SMTP and config.smtp is None:
        raise ConfigError("smtp", 'missing section, needed because outbox.mode = "smtp"')
    if config.outbox.mode is OutboxMode.SMTP and config.outbox.sent_folder and config.imap is None:
        raise ConfigError("imap", "missing section, needed because outbox.sent_folder is set")
    if config.outbox.mode is OutboxMode.DRAFTS and config.imap is None:
        raise ConfigError("imap", 'missing section, needed because outbox.mode = "drafts"')
    if config.outbox.mode is OutboxMode.FOLDER and config.outbox.folder is None:
        raise ConfigError("outbox.folder", 'missing key, needed because outbox.mode = "folder"')


def _fields(cls: type, data: object, prefix: str, base_dir: Path, skip: set[str] = frozenset()) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(prefix, f"expected a table, got {_show(data)}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in data:
        if key not in known:
            raise ConfigError(_join(prefix, key), f"unknown key (known here: {', '.join(sorted(known))})")
    values = {}
    for name, fld in known.items():
        key = _join(prefix, name)
        if name in data:
            values[name] = _convert(hints[name], data[name], key, base_dir)
        elif fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
            raise ConfigError(key, "missing key")
    return values


def _convert(hint: object, value: object, key: str, base_dir: Path) -> object:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        if inner is Path and value == "":
            return None  # an empty path means "not set"
        return _convert(inner, value, key, base_dir)
    if dataclasses.is_dataclass(hint):
        return hint(**_fields(hint, value, key, base_dir))
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list, got {_show(value)}")
        return tuple(_convert(item_type, item, f"{key}[{n}]", base_dir) for n, item in enumerate(value))
    if origin is dict:
        _, value_type = typing.get_args(hint)
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a table, got {_show(value)}")
        return {str(k): _convert(value_type, v, _join(key, str(k)), base_dir) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        choices = [m.value for m in hint]
        if value not in choices:
            raise ConfigError(key, f"expected one of {', '.join(choices)}, got {_show(value)}")
        return hint(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {_show(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"expected a number, got {_show(value)}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {_show(value)}")
        if value < 0:
            raise ConfigError(key, f"expected a number of zero or more, got {value}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {_show(value)}")
        return value
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(key, f"expected a path, got {_show(value)}")
        return (base_dir / Path(value).expanduser()).resolve()
    raise TypeError(f"config type {hint!r} is not handled")  # a bug in this module, not in the file


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)
