"""config.py: TOML -> frozen dataclasses; every problem is a ConfigError naming its key path."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from rma_mailbot import config
from rma_mailbot.cli import cli
from rma_mailbot.config import AutoAction, OutboxMode, SourceKind, TLSMode
from rma_mailbot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def example() -> dict:
    with EXAMPLE.open("rb") as handle:
        return tomllib.load(handle)


def write_toml(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def parse(data: dict, tmp_path: Path) -> config.Config:
    return config.parse(data, base_dir=tmp_path, path=tmp_path / "config.toml")


def test_example_config_parses(tmp_path):
    parsed = parse(example(), tmp_path)
    assert parsed.bot.support_address == "support@example.com"
    assert parsed.source.kind is SourceKind.MAILDIR
    assert parsed.outbox.mode is OutboxMode.FOLDER
    assert parsed.imap.port == 993 and parsed.imap.tls is TLSMode.IMPLICIT
    assert parsed.policy.shipping_days == {"DHL Express": 5, "UPS Standard": 10, "China Post": 30}
    assert parsed.policy.non_receipt_overdue is AutoAction.APPROVE
    assert parsed.orders.columns.order_id == "Order No"
    assert parsed.tz.key == "Europe/Berlin"
    assert parsed.order_number_re.search("so-104233")  # compiled case-insensitively
    assert parsed.bot.templates_dir is None  # "" means "use the shipped templates"


def _set(path: str, value):
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for name in parents:
            node = node[name]
        node[last] = value
    return change


def _delete(path: str):
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for name in parents:
            node = node[name]
        del node[last]
    return change


def _both(*changes):
    def change(data: dict) -> None:
        for one in changes:
            one(data)
    return change


ERRORS = [
    # (change to the example config, exact key path, exact message or a regex for it)
    ("missing_key_bot", _delete("bot.support_address"), "bot.support_address", "bot.support_address: missing key"),
    ("missing_key_imap", _delete("imap.host"), "imap.host", "imap.host: missing key"),
    ("missing_key_nested", _delete("orders.columns.part"), "orders.columns.part",
     "orders.columns.part: missing key"),
    ("missing_section_policy", _delete("policy"), "policy", "policy: missing key"),
    ("unknown_key", _set("imap.prot", 143), "imap.prot", re.compile(r"^imap\.prot: unknown key \(known here: .*port")),
    ("unknown_top_level_key", _set("imapp", {}), "imapp", re.compile(r"^imapp: unknown key")),
    ("wrong_type_int", _set("imap.port", "abc"), "imap.port", 'imap.port: expected an integer, got "abc"'),
    ("wrong_type_bool_for_int", _set("imap.port", True), "imap.port", "imap.port: expected an integer, got true"),
    ("wrong_type_str", _set("bot.support_address", 5), "bot.support_address",
     "bot.support_address: expected a string, got 5"),
    ("wrong_type_table", _set("imap", "imap.example.com"), "imap", 'imap: expected a table, got "imap.example.com"'),
    ("wrong_type_shipping_days", _set("policy.shipping_days.DHL Express", "five"), "policy.shipping_days.DHL Express",
     'policy.shipping_days.DHL Express: expected an integer, got "five"'),
    ("bad_enum_source_kind", _set("source.kind", "pop3"), "source.kind",
     'source.kind: expected one of imap, maildir, got "pop3"'),
    ("bad_enum_tls", _set("smtp.tls", "ssl"), "smtp.tls",
     'smtp.tls: expected one of implicit, starttls, none, got "ssl"'),
    ("bad_enum_non_receipt", _set("policy.non_receipt_overdue", "refund"), "policy.non_receipt_overdue",
     re.compile(r'^policy\.non_receipt_overdue: expected one of approve, review, got "refund"$')),
    ("negative_int", _set("imap.batch_messages", -1), "imap.batch_messages",
     "imap.batch_messages: expected a number of zero or more, got -1"),
    ("negative_shipping_days", _set("policy.return_window_days", -7), "policy.return_window_days",
     "policy.return_window_days: expected a number of zero or more, got -7"),
    ("bad_timezone", _set("bot.timezone", "Mars/Olympus"), "bot.timezone",
     "bot.timezone: unknown time zone 'Mars/Olympus'"),
    ("bad_regex", _set("policy.order_number_pattern", "SO-(\\d{6}"), "policy.order_number_pattern",
     re.compile(r"^policy\.order_number_pattern: not a valid regular expression: ")),
    ("imap_section_missing_for_imap_source", _both(_set("source.kind", "imap"), _delete("imap")), "imap",
     'imap: missing section, needed because source.kind = "imap"'),
    ("imap_section_missing_for_drafts", _both(_set("outbox.mode", "drafts"), _delete("imap")), "imap",
     'imap: missing section, needed because outbox.mode = "drafts"'),
    ("smtp_section_missing_for_smtp_outbox", _both(_set("outbox.mode", "smtp"), _delete("smtp")), "smtp",
     'smtp: missing section, needed because outbox.mode = "smtp"'),
    ("imap_section_missing_for_sent_folder",
     _both(_set("outbox.mode", "smtp"), _set("outbox.sent_folder", "Sent"), _delete("imap")), "imap",
     "imap: missing section, needed because outbox.sent_folder is set"),
    ("sent_folder_not_a_string", _set("outbox.sent_folder", 1), "outbox.sent_folder",
     "outbox.sent_folder: expected a string, got 1"),
    ("maildir_section_missing_for_maildir_source", _delete("maildir"), "maildir",
     'maildir: missing section, needed because source.kind = "maildir"'),
    ("outbox_folder_missing_for_folder_mode", _delete("outbox.folder"), "outbox.folder",
     'outbox.folder: missing key, needed because outbox.mode = "folder"'),
    ("empty_path", _set("orders.csv", ""), "orders.csv", 'orders.csv: expected a path, got ""'),
]


@pytest.mark.parametrize(("change", "key", "message"), [row[1:] for row in ERRORS], ids=[row[0] for row in ERRORS])
def test_parse_error_names_the_key(tmp_path, change, key, message):
    data = example()
    change(data)
    with pytest.raises(ConfigError) as caught:
        parse(data, tmp_path)
    assert caught.value.key == key
    if isinstance(message, re.Pattern):
        assert message.search(str(caught.value)), str(caught.value)
    else:
        assert str(caught.value) == message


def test_missing_key_with_default_is_fine(tmp_path):
    data = example()
    del data["imap"]["port"]
    del data["bot"]["support_name"]
    parsed = parse(data, tmp_path)
    assert parsed.imap.port == 993
    assert parsed.bot.support_name == "Returns desk"


def test_sections_not_needed_may_be_absent(tmp_path):
    data = example()
    del data["imap"], data["smtp"]
    parsed = parse(data, tmp_path)
    assert parsed.imap is None and parsed.smtp is None


@pytest.mark.parametrize(
    "value",
    ["yes", 1, "true"],
    ids=["string_yes", "integer_one", "string_true"],
)
def test_bad_bool(tmp_path, value):
    # No config key is a bool today; the converter still must refuse non-bools for when one is added.
    with pytest.raises(ConfigError) as caught:
        config._convert(bool, value, "bot.flag", tmp_path)
    assert caught.value.key == "bot.flag"
    assert str(caught.value).startswith("bot.flag: expected true or false, got ")


def test_good_bool(tmp_path):
    assert config._convert(bool, False, "bot.flag", tmp_path) is False


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("bot.database", "data/rma.sqlite", "data/rma.sqlite"),
        ("bot.data_dir", "data", "data"),
        ("maildir.path", "inbox", "inbox"),
        ("outbox.folder", "../outbox", "../outbox"),
        ("orders.csv", "orders.csv", "orders.csv"),
    ],
    ids=["database", "data_dir", "maildir", "outbox_parent", "orders_csv"],
)
def test_relative_paths_resolve_against_config_folder(tmp_path, monkeypatch, key, raw, expected):
    folder = tmp_path / "etc" / "rma"
    folder.mkdir(parents=True)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working directory must not matter
    data = example()
    _set(key, raw)(data)
    loaded = config.load(write_toml(folder / "config.toml", data))
    section, name = key.split(".")
    assert getattr(getattr(loaded, section), name) == (folder / expected).resolve()


def test_absolute_path_kept(tmp_path):
    data = example()
    target = tmp_path / "elsewhere" / "orders.csv"
    data["orders"]["csv"] = str(target)
    assert parse(data, tmp_path / "conf").orders.csv == target.resolve()


def test_load_reads_file(tmp_path):
    path = write_toml(tmp_path / "config.toml", example())
    loaded = config.load(path)
    assert loaded.path == path
    assert loaded.maildir.path == tmp_path.resolve() / "inbox"


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("[bot\nsupport_address = 1\n", r"is not valid TOML"),
        ('[bot]\nsupport_address = "a"\nsupport_address = "b"\n', r"is not valid TOML"),
        ("just some words\n", r"is not valid TOML"),
    ],
    ids=["unclosed_table", "duplicate_key", "not_toml"],
)
def test_load_invalid_toml(tmp_path, content, pattern):
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert re.search(pattern, str(caught.value))
    assert str(path) in str(caught.value)


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert str(caught.value).startswith(f"config file {path} not found")
    assert config.ENV_VAR in str(caught.value)


def test_load_reports_key_errors_too(tmp_path):
    data = example()
    data["imap"]["port"] = "abc"
    with pytest.raises(ConfigError, match=r'^imap\.port: expected an integer, got "abc"$'):
        config.load(write_toml(tmp_path / "config.toml", data))


def test_imap_password_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RMA_TEST_IMAP_SECRET", "hunter2")
    data = example()
    data["imap"]["password_env"] = "RMA_TEST_IMAP_SECRET"
    parsed = parse(data, tmp_path)
    assert parsed.imap.password() == "hunter2"
    assert "hunter2" not in repr(parsed)  # the secret is never kept in the config object


def test_imap_password_env_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("RMA_TEST_IMAP_SECRET", raising=False)
    data = example()
    data["imap"]["password_env"] = "RMA_TEST_IMAP_SECRET"
    parsed = parse(data, tmp_path)
    with pytest.raises(ConfigError) as caught:
        parsed.imap.password()
    assert caught.value.key == "imap.password_env"
    assert str(caught.value) == "imap.password_env: environment variable RMA_TEST_IMAP_SECRET is not set"


def test_imap_password_env_empty_value(tmp_path, monkeypatch):
    monkeypatch.setenv("RMA_TEST_IMAP_SECRET", "")
    data = example()
    data["imap"]["password_env"] = "RMA_TEST_IMAP_SECRET"
    with pytest.raises(ConfigError) as caught:
        parse(data, tmp_path).imap.password()
    assert caught.value.key == "imap.password_env"


def test_smtp_password(tmp_path, monkeypatch):
    monkeypatch.setenv("RMA_TEST_SMTP_SECRET", "s3cret")
    data = example()
    data["smtp"]["password_env"] = "RMA_TEST_SMTP_SECRET"
    assert parse(data, tmp_path).smtp.password() == "s3cret"
    monkeypatch.delenv("RMA_TEST_SMTP_SECRET")
    with pytest.raises(ConfigError) as caught:
        parse(data, tmp_path).smtp.password()
    assert caught.value.key == "smtp.password_env"
    data["smtp"]["username"] = ""  # no login: no password needed
    assert parse(data, tmp_path).smtp.password() == ""


def test_config_path_order(monkeypatch):
    monkeypatch.setenv(config.ENV_VAR, "/etc/from-env.toml")
    assert config.config_path("given.toml") == Path("given.toml")
    assert config.config_path(None) == Path("/etc/from-env.toml")
    monkeypatch.delenv(config.ENV_VAR)
    assert config.config_path(None) == Path("config.toml")


def test_parsed_config_is_frozen(tmp_path):
    parsed = parse(example(), tmp_path)
    with pytest.raises(AttributeError):
        parsed.imap.port = 1  # type: ignore[misc]


def test_example_unchanged_by_parse(tmp_path):
    data = example()
    before = copy.deepcopy(data)
    parse(data, tmp_path)
    assert data == before


# --- the CLI turns a ConfigError into one clean line and exit code 2 -------------------------------------
# click >= 8.2 (8.4 here) keeps result.stderr apart from result.stdout; CliRunner(mix_stderr=...) is gone.


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (_set("imap.port", "abc"), 'config error: imap.port: expected an integer, got "abc"'),
        (_set("imap.prot", 1), "config error: imap.prot: unknown key"),
        (_delete("bot.support_address"), "config error: bot.support_address: missing key"),
    ],
    ids=["wrong_type", "unknown_key", "missing_key"],
)
def test_cli_check_config_reports_config_error(tmp_path, monkeypatch, change, line):
    monkeypatch.chdir(tmp_path)
    data = example()
    change(data)
    write_toml(tmp_path / "bad.toml", data)
    result = CliRunner().invoke(cli, ["--config", "bad.toml", "check-config"])
    assert result.exit_code == 2, result.output
    err_lines = result.stderr.splitlines()
    assert len(err_lines) == 1, result.stderr
    assert err_lines[0].startswith(line)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an escaped exception


def test_cli_check_config_exact_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = example()
    data["imap"]["port"] = "abc"
    write_toml(tmp_path / "bad.toml", data)
    result = CliRunner().invoke(cli, ["--config", "bad.toml", "check-config"])
    assert result.exit_code == 2
    assert result.stderr == 'config error: imap.port: expected an integer, got "abc"\n'


def test_cli_missing_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    result = CliRunner().invoke(cli, ["--config", "absent.toml", "check-config"])
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: config file absent.toml not found")
    assert "Traceback" not in result.output
