"""The order book: a CSV export from the ERP, one row per order line, columns mapped in config."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import logging
from pathlib import Path

from rma_mailbot.config import OrdersConfig
from rma_mailbot.errors import OrderBookError
from rma_mailbot.extract import normalise_order_number
from rma_mailbot.models import Order, OrderLine

log = logging.getLogger(__name__)


class OrderBook:
    """Orders by normalised order number. Reloaded when the CSV file changes."""

    def __init__(self, config: OrdersConfig):
        self._config = config
        self._stamp: tuple[int, int] | None = None
        self._orders: dict[str, Order] = {}

    def get(self, order_number: str) -> Order | None:
        self._reload_if_changed()
        return self._orders.get(normalise_order_number(order_number))

    def __len__(self) -> int:
        self._reload_if_changed()
        return len(self._orders)

    def _reload_if_changed(self) -> None:
        path = self._config.csv
        try:
            stat = path.stat()
        except OSError as exc:
            raise OrderBookError(f"orders file {path} cannot be read: {exc.strerror}") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._orders = read_orders(path, self._config)
            self._stamp = stamp
            log.info("loaded %d orders from %s", len(self._orders), path)


def read_orders(path: Path, config: OrdersConfig) -> dict[str, Order]:
    columns = {key: name for key, name in dataclasses.asdict(config.columns).items() if name}
    sensitive_parts = read_part_list(config.sensitive_parts) if config.sensitive_parts else frozenset()
    orders: dict[str, Order] = {}
    try:
        with path.open(newline="", encoding=config.encoding) as handle:
            reader = csv.DictReader(handle, delimiter=config.delimiter)
            header = set(reader.fieldnames or ())
            absent = [f"orders.columns.{key} = {name!r}" for key, name in columns.items() if name not in header]
            if absent:
                raise OrderBookError(f"{path}: no column for {', '.join(absent)} (the file has: "
                                     f"{', '.join(sorted(header))})")
            for row in reader:
                line_no = reader.line_num
                values = {key: (row.get(columns.get(key, "")) or "").strip()
                          for key in dataclasses.asdict(config.columns)}
                if not values["order_id"]:
                    continue
                try:
                    order = _order(values, config.date_format, f"{path}:{line_no}", sensitive_parts)
                except OrderBookError as exc:
                    log.error("skipping order row: %s", exc)  # one bad row must not hide the others
                    continue
                key = normalise_order_number(order.order_id)
                known = orders.get(key)
                orders[key] = dataclasses.replace(known, lines=known.lines + order.lines) if known else order
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OrderBookError(f"orders file {path} cannot be read: {exc}") from None
    return orders


def read_part_list(path: Path) -> frozenset[str]:
    """Part numbers, one per line; blank lines and # comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise OrderBookError(f"parts list {path} cannot be read: {exc}") from None
    lines = (line.split("#", 1)[0].strip().upper() for line in text.splitlines())
    return frozenset(line for line in lines if line)


_YES = {"y", "yes", "true", "1", "x", "esd", "msl", "ja", "oui", "si", "sí"}


def _order(values: dict[str, str], date_format: str, where: str, sensitive_parts: frozenset[str]) -> Order:
    lines = ()
    if values["part"]:
        sensitive = values["sensitive"].lower() in _YES or values["part"].upper() in sensitive_parts
        lines = (OrderLine(values["part"], _int(values["quantity"] or "0", "quantity", where), sensitive),)
    return Order(
        order_id=values["order_id"],
        customer_email=values["customer_email"].lower(),
        ship_date=_date(values["ship_date"], date_format, "ship_date", where),
        delivery_date=_date(values["delivery_date"], date_format, "delivery_date", where),
        shipping_method=values["shipping_method"],
        boxes=_int(values["boxes"] or "1", "boxes", where),
        lines=lines,
        carrier_status=values["carrier_status"],
        value=_number(values["value"], "value", where) if values["value"] else None,
    )


def _date(value: str, date_format: str, field: str, where: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, date_format).date()
    except ValueError:
        raise OrderBookError(f"{where}: {field} {value!r} does not match orders.date_format "
                             f"{date_format!r}") from None


def _number(value: str, field: str, where: str) -> float:
    try:
        return float(value.replace(",", "").replace(" ", ""))
    except ValueError:
        raise OrderBookError(f"{where}: {field} {value!r} is not a number") from None


def _int(value: str, field: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise OrderBookError(f"{where}: {field} {value!r} is not a whole number") from None
