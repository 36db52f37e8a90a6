"""No single mail stops the inbox: each pill is appended with a normal mail behind it, on a real Dovecot,
and the normal mail is answered while the pill is stored or quarantined with its reason."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from conftest import write_config
from mails import STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot.cli import cli

pytestmark = pytest.mark.dovecot


def references_past_sqlites_variable_limit() -> bytes:
    # SQLite's limit is 32,766 variables, or 250,000 as Debian builds it; the look-up took each id twice.
    ids = b" ".join(b"<ref%d@example.org>" % n for n in range(150_000))
    mail = claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.",
                      in_reply_to="<ref149999@example.org>").as_bytes()
    return mail.replace(b"References: <ref149999@example.org>", b"References: " + ids)  # the stdlib folds slowly


def huge_claim_reference() -> bytes:
    return claim_mail("carol@example.org", "Re: [CLM-99999999999999999999999] Return SO-200003",
                      "Ordered by mistake.").as_bytes()


@pytest.mark.parametrize("pill", [references_past_sqlites_variable_limit, huge_claim_reference])
def test_a_pill_with_a_normal_mail_behind_it(tmp_path, imap_account, imap, smtp_server, pill):
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port)
    run = lambda *args: CliRunner().invoke(cli, ["--config", str(config), *args])  # noqa: E731
    imap.append("INBOX", pill())
    imap.append("INBOX", claim_mail("bob@example.org", "Where is SO-200002?", "I have not received order SO-200002.")
                .as_bytes())
    for _ in range(2):  # and the next poll is not stopped by it either
        result = run("poll")
        assert result.exit_code == 0, result.output
    claims = {c["customer"]: c for c in json.loads(run("claims", "--json").output)}
    assert claims["bob@example.org"]["state"] in ("approved", "in_review")
    assert claims["carol@example.org"]["state"] == "approved"  # the pill is just a return, and answered
    assert sorted(rcpt for _, [rcpt], _ in handler.messages) == ["bob@example.org", "carol@example.org"]
    assert json.loads(run("quarantine", "--json").output) == []
    imap.select_folder("INBOX")
    assert imap.search() == []  # both moved on
