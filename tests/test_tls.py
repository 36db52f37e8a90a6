"""TLS to the mail servers: certificates are verified, and a CA file trusts a private server."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from conftest import Account, free_port, write_config
from mails import STANDARD_ORDERS, write_orders
from rma_mailbot.cli import cli


@pytest.fixture
def ca_file(tmp_path, test_ca):
    path = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def tls_smtp(test_ca):
    """aiosmtpd offering STARTTLS with a certificate from the private CA."""
    import ssl

    from aiosmtpd.controller import Controller

    from conftest import RecordingHandler

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True)
    controller.start()
    yield controller
    controller.stop()


def tls_config(tmp_path, dovecot, imap_account, *, imap_tls, port, ca, smtp_port=None):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    account = Account(imap_account.host, port, imap_account.user, imap_account.password)
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp" if smtp_port else "folder",
                          imap=account, smtp_port=smtp_port)
    text = config.read_text().replace('tls = "none"', f'tls = "{imap_tls}"', 1)
    if ca:
        text = text.replace('ca_file = ""', f'ca_file = "{ca}"')
    if smtp_port:
        text = text.replace('tls = "none"', 'tls = "starttls"')
    config.write_text(text)
    return config


@pytest.mark.dovecot
@pytest.mark.parametrize("mode", ["implicit", "starttls"])
def test_imap_tls_with_private_ca(tmp_path, dovecot, imap_account, ca_file, tls_smtp, mode):
    port = dovecot.tls_port if mode == "implicit" else dovecot.port
    config = tls_config(tmp_path, dovecot, imap_account, imap_tls=mode, port=port, ca=ca_file,
                        smtp_port=tls_smtp.port)
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 0, result.output
    assert "imap: ok" in result.output and "smtp: ok" in result.output


@pytest.mark.dovecot
@pytest.mark.parametrize("mode", ["implicit", "starttls"])
def test_imap_tls_refuses_an_unknown_certificate(tmp_path, dovecot, imap_account, mode):
    port = dovecot.tls_port if mode == "implicit" else dovecot.port
    config = tls_config(tmp_path, dovecot, imap_account, imap_tls=mode, port=port, ca=None)
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 1
    assert "imap: FAILED" in result.output and "CERTIFICATE_VERIFY_FAILED" in result.output


def test_smtp_starttls_refuses_an_unknown_certificate(tmp_path, tls_smtp):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config = write_config(tmp_path / "config.toml", outbox="smtp", smtp_port=tls_smtp.port)
    config.write_text(config.read_text().replace('tls = "none"', 'tls = "starttls"'))
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 1
    assert "smtp: FAILED" in result.output and "CERTIFICATE_VERIFY_FAILED" in result.output
