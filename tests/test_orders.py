"""orders.py: the ERP's CSV export, columns mapped in config, reloaded when the file changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tomllib
from pathlib import Path

import pytest

from rma_mailbot import config
from rma_mailbot.errors import OrderBookError
from rma_mailbot.models import OrderLine
from rma_mailbot.orders import OrderBook, read_orders

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"

EXAMPLE_HEADER = "Order No,Customer Email,Ship Date,Delivery Date,Ship Via,Boxes,Part No,Qty"


def orders_config(tmp_path: Path, **changes) -> config.OrdersConfig:
    """The [orders] section of config.example.toml, pointed at tmp_path/orders.csv."""
    with EXAMPLE.open("rb") as handle:
        data = tomllib.load(handle)
    data["orders"]["csv"] = "orders.csv"
    # The optional columns are tested on their own below; these tables use the required ones.
    data["orders"]["columns"].update(carrier_status="", sensitive="", value="")
    columns = changes.pop("columns", None)
    if columns:
        data["orders"]["columns"].update(columns)
    data["orders"].update(changes)
    return config.parse(data, base_dir=tmp_path, path=tmp_path / "config.toml").orders


def write(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def test_example_columns(tmp_path):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER,
          "SO104233,Jane@Customer.Example,2025-03-03,2025-03-10,DHL Express,3,LM2596S,40")
    order = OrderBook(cfg).get("SO104233")
    assert order.order_id == "SO104233"
    assert order.customer_email == "jane@customer.example"  # compared with the lower-cased sender
    assert order.ship_date == dt.date(2025, 3, 3)
    assert order.delivery_date == dt.date(2025, 3, 10)
    assert order.shipping_method == "DHL Express"
    assert order.boxes == 3
    assert order.lines == (OrderLine("LM2596S", 40),)


MAPPINGS = [
    ("german_erp", {"order_id": "Auftrag", "customer_email": "E-Mail", "ship_date": "Versanddatum",
                    "delivery_date": "Zustelldatum", "shipping_method": "Versandart", "boxes": "Pakete",
                    "part": "Artikel", "quantity": "Menge"},
     {"delimiter": ";", "date_format": "%d.%m.%Y"},
     ["Auftrag;E-Mail;Versanddatum;Zustelldatum;Versandart;Pakete;Artikel;Menge",
      "SO-104233;jane@customer.example;03.03.2025;10.03.2025;DHL Express;3;LM2596S;40"]),
    ("snake_case_reordered", {"order_id": "order_id", "customer_email": "email", "ship_date": "shipped",
                              "delivery_date": "delivered", "shipping_method": "carrier", "boxes": "parcels",
                              "part": "sku", "quantity": "qty"},
     {},
     ["qty,sku,parcels,carrier,delivered,shipped,email,order_id,notes",
      "40,LM2596S,3,DHL Express,2025-03-10,2025-03-03,jane@customer.example,so104233,extra columns are ignored"]),
    ("tab_separated_us_dates", {"order_id": "SO", "customer_email": "Mail", "ship_date": "Shipped",
                                "delivery_date": "Delivered", "shipping_method": "Via", "boxes": "Cartons",
                                "part": "MPN", "quantity": "Units"},
     {"delimiter": "\t", "date_format": "%m/%d/%Y"},
     ["SO\tMail\tShipped\tDelivered\tVia\tCartons\tMPN\tUnits",
      "SO104233\tjane@customer.example\t03/03/2025\t03/10/2025\tDHL Express\t3\tLM2596S\t40"]),
]


@pytest.mark.parametrize(("columns", "settings", "lines"), [row[1:] for row in MAPPINGS],
                         ids=[row[0] for row in MAPPINGS])
def test_column_mapping_from_config(tmp_path, columns, settings, lines):
    cfg = orders_config(tmp_path, columns=columns, **settings)
    write(cfg.csv, *lines)
    book = OrderBook(cfg)
    assert len(book) == 1
    order = book.get("so-104233")  # looked up by the normalised number, however the ERP writes it
    assert order is not None
    assert order.customer_email == "jane@customer.example"
    assert (order.ship_date, order.delivery_date) == (dt.date(2025, 3, 3), dt.date(2025, 3, 10))
    assert order.shipping_method == "DHL Express"
    assert order.boxes == 3
    assert order.lines == (OrderLine("LM2596S", 40),)


def test_byte_order_mark_is_not_part_of_the_first_header(tmp_path):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER, "SO104233,jane@customer.example,2025-03-03,,DHL Express,1,LM2596S,40",
          encoding="utf-8-sig")
    assert OrderBook(cfg).get("SO104233") is not None


def test_multiple_rows_per_order_merge_their_lines(tmp_path):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER,
          "SO104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,3,LM2596S,40",
          "SO104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,3,NE555P,100",
          "SO104234,bob@other.example,2025-03-04,,UPS Standard,1,AMS1117-3.3,25",
          "SO-104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,3,LM317T,5")
    book = OrderBook(cfg)
    assert len(book) == 2
    assert book.get("SO104233").lines == (OrderLine("LM2596S", 40), OrderLine("NE555P", 100), OrderLine("LM317T", 5))
    assert book.get("SO104234").lines == (OrderLine("AMS1117-3.3", 25),)
    assert book.get("SO104234").delivery_date is None


@pytest.mark.parametrize(
    ("missing", "key"),
    [("Order No", "order_id"), ("Customer Email", "customer_email"), ("Ship Date", "ship_date"),
     ("Delivery Date", "delivery_date"), ("Ship Via", "shipping_method"), ("Boxes", "boxes"),
     ("Part No", "part"), ("Qty", "quantity")],
    ids=["order_id", "customer_email", "ship_date", "delivery_date", "shipping_method", "boxes", "part",
         "quantity"],
)
def test_missing_mapped_column_names_the_config_key(tmp_path, missing, key):
    cfg = orders_config(tmp_path)
    header = [name for name in EXAMPLE_HEADER.split(",") if name != missing]
    write(cfg.csv, ",".join(header), ",".join("x" for _ in header))
    with pytest.raises(OrderBookError) as caught:
        OrderBook(cfg).get("SO104233")
    message = str(caught.value)
    assert f"orders.columns.{key} = {missing!r}" in message
    assert message.count("orders.columns.") == 1  # only the absent one
    assert str(cfg.csv) in message


def test_renamed_column_in_export(tmp_path):
    cfg = orders_config(tmp_path, columns={"quantity": "Quantity"})
    write(cfg.csv, EXAMPLE_HEADER, "SO104233,jane@customer.example,2025-03-03,,DHL Express,1,LM2596S,40")
    with pytest.raises(OrderBookError, match=r"orders\.columns\.quantity = 'Quantity'"):
        read_orders(cfg.csv, cfg)


BAD_ROWS = [
    ("bad_ship_date", "SO104235,x@y.example,03/03/2025,,DHL Express,1,LM2596S,40"),
    ("bad_delivery_date", "SO104235,x@y.example,2025-03-03,2025-13-45,DHL Express,1,LM2596S,40"),
    ("bad_quantity", "SO104235,x@y.example,2025-03-03,,DHL Express,1,LM2596S,forty"),
    ("bad_boxes", "SO104235,x@y.example,2025-03-03,,DHL Express,two,LM2596S,40"),
]


@pytest.mark.parametrize("bad_row", [row[1] for row in BAD_ROWS], ids=[row[0] for row in BAD_ROWS])
def test_bad_row_is_skipped_others_still_load(tmp_path, caplog, bad_row):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER,
          "SO104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,3,LM2596S,40",
          bad_row,
          "SO104234,bob@other.example,2025-03-04,,UPS Standard,1,NE555P,100")
    book = OrderBook(cfg)
    assert book.get("SO104235") is None
    assert book.get("SO104233") is not None and book.get("SO104234") is not None
    assert len(book) == 2
    assert any("orders.csv:3" in record.getMessage() for record in caplog.records)  # staff can find the row


def test_row_without_order_id_is_ignored(tmp_path):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER, ",,,,,,,", "SO104233,jane@customer.example,2025-03-03,,DHL Express,,,")
    book = OrderBook(cfg)
    assert len(book) == 1
    order = book.get("SO104233")
    assert order.boxes == 1 and order.lines == ()


def test_missing_file(tmp_path):
    cfg = orders_config(tmp_path)
    with pytest.raises(OrderBookError, match="cannot be read"):
        OrderBook(cfg).get("SO104233")


def test_undecodable_file(tmp_path):
    cfg = orders_config(tmp_path)
    cfg.csv.write_bytes(EXAMPLE_HEADER.encode() + b"\nSO104233,j\xff\xfe@x,2025-03-03,,DHL,1,A,1\n")
    with pytest.raises(OrderBookError, match="cannot be read"):
        OrderBook(cfg).get("SO104233")


def _touch(path: Path, ns: int) -> None:
    # Set the mtime explicitly instead of sleeping: a coarse file-system clock must not hide a change.
    os.utime(path, ns=(ns, ns))


def test_reload_when_the_file_changes(tmp_path):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER, "SO104233,jane@customer.example,2025-03-03,,DHL Express,1,LM2596S,40")
    _touch(cfg.csv, 1_700_000_000_000_000_000)
    book = OrderBook(cfg)
    assert book.get("SO104233").delivery_date is None
    assert book.get("SO104234") is None

    write(cfg.csv, EXAMPLE_HEADER,
          "SO104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,1,LM2596S,40",
          "SO104234,bob@other.example,2025-03-04,,UPS Standard,1,NE555P,100")
    _touch(cfg.csv, 1_700_000_001_000_000_000)
    assert book.get("SO104233").delivery_date == dt.date(2025, 3, 10)
    assert book.get("SO104234") is not None
    assert len(book) == 2


def test_same_size_rewrite_within_one_mtime_tick_still_reloads_when_mtime_moves(tmp_path):
    cfg = orders_config(tmp_path)
    row = "SO104233,jane@customer.example,2025-03-03,,DHL Express,1,LM2596S,40"
    write(cfg.csv, EXAMPLE_HEADER, row)
    _touch(cfg.csv, 1_700_000_000_000_000_000)
    book = OrderBook(cfg)
    assert book.get("SO104233").lines == (OrderLine("LM2596S", 40),)
    write(cfg.csv, EXAMPLE_HEADER, row.replace("LM2596S,40", "LM2596S,41"))  # same size
    _touch(cfg.csv, 1_700_000_000_000_000_001)
    assert book.get("SO104233").lines == (OrderLine("LM2596S", 41),)


def test_unchanged_file_is_not_read_again(tmp_path):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER, "SO104233,jane@customer.example,2025-03-03,,DHL Express,1,LM2596S,40")
    book = OrderBook(cfg)
    first = book.get("SO104233")
    stat = cfg.csv.stat()
    # Replace the file's content by a broken one but keep its size and mtime: the cached book stays.
    broken = b"X" * stat.st_size
    cfg.csv.write_bytes(broken)
    os.utime(cfg.csv, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert book.get("SO104233") is first


def test_file_removed_after_loading(tmp_path):
    cfg = orders_config(tmp_path)
    write(cfg.csv, EXAMPLE_HEADER, "SO104233,jane@customer.example,2025-03-03,,DHL Express,1,LM2596S,40")
    book = OrderBook(cfg)
    assert book.get("SO104233") is not None
    cfg.csv.unlink()
    with pytest.raises(OrderBookError, match="cannot be read"):
        book.get("SO104233")


def test_orders_config_is_what_parse_gives(tmp_path):
    cfg = orders_config(tmp_path, columns={"part": "MPN"})
    assert cfg.csv == (tmp_path / "orders.csv").resolve()
    assert cfg.columns.part == "MPN"
    assert dataclasses.asdict(cfg.columns)["order_id"] == "Order No"


def test_optional_columns_carrier_status_and_sensitive_flag(tmp_path):
    cfg = orders_config(tmp_path, columns={"carrier_status": "Carrier Status", "sensitive": "ESD/MSL"})
    write(cfg.csv, EXAMPLE_HEADER + ",Carrier Status,ESD/MSL",
          "SO104233,jane@customer.example,2025-03-03,,UPS Standard,1,LM2596S,40,Returned: wrong address,",
          "SO104233,jane@customer.example,2025-03-03,,UPS Standard,1,STM32F103C8T6,10,Returned: wrong address,yes")
    order = OrderBook(cfg).get("SO104233")
    assert order.carrier_status == "Returned: wrong address"
    assert order.lines == (OrderLine("LM2596S", 40, sensitive=False), OrderLine("STM32F103C8T6", 10, sensitive=True))


def test_sensitive_parts_list_file(tmp_path):
    (tmp_path / "sensitive.txt").write_text("# ESD and MSL parts\nlm2596s\n\nMPU-6050  # gyro\n")
    cfg = orders_config(tmp_path, sensitive_parts="sensitive.txt")
    write(cfg.csv, EXAMPLE_HEADER,
          "SO104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,1,LM2596S,40",
          "SO104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,1,NE555P,10")
    order = OrderBook(cfg).get("SO104233")
    assert [(line.part, line.sensitive) for line in order.lines] == [("LM2596S", True), ("NE555P", False)]


def test_mapped_optional_column_missing_from_file_names_the_key(tmp_path):
    cfg = orders_config(tmp_path, columns={"carrier_status": "Tracking Status"})
    write(cfg.csv, EXAMPLE_HEADER, "SO104233,jane@customer.example,2025-03-03,2025-03-10,DHL Express,1,LM2596S,40")
    with pytest.raises(OrderBookError, match="orders.columns.carrier_status = 'Tracking Status'"):
        OrderBook(cfg).get("SO104233")
