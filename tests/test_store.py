"""The store's own promises: migrations keep what older versions wrote."""

from __future__ import annotations

import datetime as dt
import sqlite3

import sqlite_utils

from rma_mailbot.store import Store, migrations

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_replies_queued_before_m007_keep_their_bytes(tmp_path):
    database = tmp_path / "bot.db"
    old = sqlite_utils.Database(sqlite3.connect(str(database), isolation_level=None))
    migrations.apply(old, stop_before="m007_outbox_bytes_in_files")
    old["outbox"].insert({"message_id": "<old@example.com>", "to_addr": "Alice+shop@Example.org",
                          "reply_kind": "reminder", "raw": b"Subject: old\r\n\r\nqueued long ago\r\n",
                          "state": "queued", "attempts": 0, "created_at": "2026-11-01T00:00:00+00:00"})
    old.close()

    store = Store(database, tmp_path / "data")
    try:
        with store.transaction():
            store.queue_reply({"message_id": "<new@example.com>", "to_addr": "alice@example.org",
                               "reply_kind": "closed", "created_at": "2026-11-02T00:00:00+00:00"},
                              b"Subject: new\r\n\r\nqueued now\r\n")
        old_row, new_row = store.deliverable(NOW)
        assert store.reply_bytes(old_row) == b"Subject: old\r\n\r\nqueued long ago\r\n"
        assert store.reply_bytes(new_row) == b"Subject: new\r\n\r\nqueued now\r\n"
        assert new_row["raw_path"] and store.blobs.path(new_row["raw_path"]).is_file()
        assert store.db.execute("select raw from outbox where id = ?", [new_row["id"]]).fetchone() == (None,)
        indexed = {tuple(index.columns) for index in store.db["outbox"].indexes}
        assert {("message_id",), ("state",), ("to_mailbox", "created_at"), ("claim_id",)} <= indexed
        # m008: the reply limits count the old reply to the same mailbox as the new one.
        assert store.replies_to_since("ALICE@example.org", NOW - dt.timedelta(days=2)) == 2
    finally:
        store.close()
