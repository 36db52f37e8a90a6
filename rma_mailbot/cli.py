"""The rma-mailbot command: each command loads the config and calls one library function."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import sys
from pathlib import Path

import click

from rma_mailbot import config as config_module
from rma_mailbot.errors import ConfigError, MailbotError
from rma_mailbot.models import ClaimState

log = logging.getLogger(__name__)


def clean_errors(command):
    """Known errors become one line on stderr: exit 2 for config, 1 for everything else."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"config error: {exc}", err=True)
            sys.exit(2)
        except MailbotError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def _config(ctx: click.Context) -> config_module.Config:
    return config_module.load(config_module.config_path(ctx.obj["config"]))


@contextlib.contextmanager
def _reading(config: config_module.Config):
    """The database opened for looking only, closed afterwards."""
    from rma_mailbot.store import Store

    store = Store(config.bot.database, config.bot.data_dir, read_only=True)
    try:
        yield store
    finally:
        store.close()


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int, fmt: str) -> None:
    """Plain lines for people, or one JSON object per line for log collectors (--log-format json)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))  # one line per job run is noise
    # imaplib's wire log (imapclient feeds it to this logger) holds whole mails, which are never logged.
    logging.getLogger("imapclient.imaplib").setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help=f"The config file (default: ${config_module.ENV_VAR}, else ./config.toml).")
@click.option("-v", "--verbose", count=True, help="Log more (-v: each mail, -vv: debug).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", envvar="RMA_MAILBOT_LOG_FORMAT",
              show_default=True, help="Log lines as text, or as JSON objects.")
@click.version_option(package_name="rma-mailbot")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, verbose: int, log_format: str) -> None:
    """Runs a returns desk by email: claims, policy checks, templated replies."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    if ctx.invoked_subcommand == "run":
        level = min(level, logging.INFO)
    setup_logging(level, log_format)
    ctx.obj = {"config": config_file}


class _Bar:
    """A progress bar on a terminal; silent when output goes to a file or a pipe."""

    def __init__(self):
        self._bar = None

    def start(self, total: int) -> None:
        if total > 1 and sys.stderr.isatty():
            self._bar = click.progressbar(length=total, label="mails", file=sys.stderr)
            self._bar.__enter__()

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@cli.command()
@click.pass_context
@clean_errors
def poll(ctx: click.Context) -> None:
    """Run one poll cycle over the inbox, then exit."""
    from rma_mailbot.pipeline import Runtime, poll_once
    from rma_mailbot.sources import open_source

    config = _config(ctx)
    rt = Runtime.open(config)
    source = open_source(config)
    bar = _Bar()
    try:
        report = poll_once(rt, source, lambda: dt.datetime.now(config.tz), progress=bar)
    finally:
        bar.close()
        source.close()
        rt.close()
    if report.delivery_error:
        click.echo(f"replies wait in the outbox: {report.delivery_error}", err=True)
    click.echo(f"{report.fetched} fetched: {report.ingested} new, {report.duplicates} already stored, "
               f"{report.machine} machine mail (not answered), {report.quarantined} quarantined; "
               f"{plural(report.replies_queued, 'reply', 'replies')} queued, "
               f"{report.replies_sent} sent")


@cli.command()
@click.pass_context
@clean_errors
def run(ctx: click.Context) -> None:
    """Run as a daemon: poll on a schedule until SIGTERM or SIGINT."""
    from rma_mailbot.daemon import Daemon

    Daemon(_config(ctx)).run()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array of claim objects.")
@click.option("--state", type=click.Choice([s.value for s in ClaimState]), help="Only claims in this state.")
@click.pass_context
@clean_errors
def claims(ctx: click.Context, as_json: bool, state: str | None) -> None:
    """List claims."""
    from rma_mailbot.views import claim_json, claims_table

    config = _config(ctx)
    with _reading(config) as store:
        rows = [claim_json(row, config.bot.claim_ref_prefix) for row in store.claims(state)]
    click.echo(json.dumps(rows, indent=2) if as_json else claims_table(rows) if rows else "no claims")


@cli.command()
@click.argument("claim")
@click.option("--json", "as_json", is_flag=True, help="The claim as one JSON object.")
@click.pass_context
@clean_errors
def show(ctx: click.Context, claim: str, as_json: bool) -> None:
    """Show one claim: decision, clauses checked, evidence, history, replies."""
    from rma_mailbot.views import claim_detail, claim_id_from, detail_text

    config = _config(ctx)
    with _reading(config) as store:
        detail = claim_detail(store, claim_id_from(claim), config.bot.claim_ref_prefix)
    click.echo(json.dumps(detail, indent=2, ensure_ascii=False) if as_json else detail_text(detail))


@cli.command()
@click.option("--config", "rules_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="The config whose rules (policy, order book) to try; default: the current config.")
@click.option("--json", "as_json", is_flag=True, help="The changes as JSON.")
@click.pass_context
@clean_errors
def replay(ctx: click.Context, rules_file: str | None, as_json: bool) -> None:
    """Decide every stored claim again under other rules; show what would change. Changes nothing."""
    from rma_mailbot.replay import replay as run_replay
    from rma_mailbot.views import replay_text

    rules = config_module.load(rules_file) if rules_file else None
    main_path = config_module.config_path(ctx.obj["config"])
    config = config_module.load(main_path) if rules is None or ctx.obj["config"] or main_path.exists() else rules
    with _reading(config) as store:
        report = run_replay(store, rules or config, config.bot.claim_ref_prefix)
    if as_json:
        click.echo(json.dumps({"decided": report.decided, "skipped": report.skipped, "changes": [
            {"id": c.claim_id, "ref": c.ref, "judged_on": c.judged_on, "old": c.old.__dict__, "new": c.new.__dict__}
            for c in report.changes]}, indent=2))
    else:
        click.echo(replay_text(report))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The queue as JSON, for scripts.")
@click.option("--stub", is_flag=True, help="Ready-to-fill override entries for the listed claims.")
@click.option("--check", is_flag=True, help="Check the overrides file against the claims; report every problem.")
@click.pass_context
@clean_errors
def queue(ctx: click.Context, as_json: bool, stub: bool, check: bool) -> None:
    """The claims waiting for staff, oldest first, and what they need to decide them."""
    from rma_mailbot import overrides
    from rma_mailbot.review import waiting_for_staff
    from rma_mailbot.runtime import Runtime
    from rma_mailbot.views import queue_table

    config = _config(ctx)
    rt = Runtime.open(config, read_only=True)
    try:
        now = dt.datetime.now(config.tz)
        if check:
            path = config.review.overrides_file
            if path is None:
                raise ConfigError("review.overrides_file", "no overrides file is configured")
            todo, problems = overrides.pending(rt, path)
            for problem in problems:
                click.echo(str(problem), err=True)
            click.echo(f"{path}: {plural(len(todo), 'entry', 'entries')} ready to apply, "
                       f"{plural(len(problems), 'problem', 'problems')}")
            sys.exit(1 if problems else 0)
        rows = waiting_for_staff(rt.store, config.bot.claim_ref_prefix, now)
    finally:
        rt.close()
    if stub:
        click.echo(overrides.stub([r["ref"] for r in rows], now) if rows else "# no claims are waiting for staff")
    elif as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(queue_table(rows) if rows else "no claims are waiting for staff")


@cli.command("apply-overrides")
@click.pass_context
@clean_errors
def apply_overrides(ctx: click.Context) -> None:
    """Apply the new entries of the overrides file now, and deliver the replies they cause."""
    from rma_mailbot import overrides
    from rma_mailbot.outbox import deliver_pending
    from rma_mailbot.refs import claim_ref
    from rma_mailbot.runtime import Runtime

    config = _config(ctx)
    if config.review.overrides_file is None:
        raise ConfigError("review.overrides_file", "no overrides file is configured")
    rt = Runtime.open(config)
    try:
        report = overrides.apply_overrides(rt, dt.datetime.now(config.tz))
        delivery = deliver_pending(rt.store, config, dt.datetime.now(config.tz))
    finally:
        rt.close()
    for entry in report.applied:
        click.echo(f"applied {entry.id}: {entry.action} {claim_ref(config.bot.claim_ref_prefix, entry.claim_id)} "
                   f"by {entry.by}")
    for problem in report.problems:
        click.echo(f"not applied: {problem}", err=True)
    click.echo(f"{len(report.applied)} applied, {len(report.problems)} problem(s), "
               f"{plural(delivery.sent, 'reply', 'replies')} sent")
    sys.exit(1 if report.problems else 0)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
@clean_errors
def quarantine(ctx: click.Context, as_json: bool) -> None:
    """Mail that could not be processed, with the reason; `reprocess ID` takes one in again."""
    from rma_mailbot.views import table

    config = _config(ctx)
    with _reading(config) as store:
        rows = [{"id": r["id"], "received_at": r["received_at"], "size": r["size"], "reason": r["class_reason"],
                 "where": f"{r['mailbox']}/{r['uid']}" if r["mailbox"] else "",
                 "raw": str(store.blobs.path(r["raw_path"]))} for r in store.quarantined()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(table(rows, ["id", "received_at", "size", "where", "reason"]) if rows else "quarantine is empty")


@cli.command()
@click.argument("message_id", type=int)
@click.pass_context
@clean_errors
def reprocess(ctx: click.Context, message_id: int) -> None:
    """Process a quarantined message again (after a fix), and deliver what it causes."""
    from rma_mailbot.outbox import deliver_pending
    from rma_mailbot.pipeline import reprocess as run_reprocess
    from rma_mailbot.runtime import Runtime

    config = _config(ctx)
    rt = Runtime.open(config)
    try:
        outcome, claim_id = run_reprocess(rt, message_id, dt.datetime.now(config.tz))
        delivery = deliver_pending(rt.store, config, dt.datetime.now(config.tz))
        claim = f", claim {rt.claim_ref(claim_id)}" if claim_id else ""
    finally:
        rt.close()
    click.echo(f"message {message_id}: {outcome}{claim}; {plural(delivery.sent, 'reply', 'replies')} sent")
    sys.exit(1 if outcome == "quarantined" else 0)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
@clean_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Health: the daemon, the last successful poll, IDLE, claims per state, the outbox, failed deliveries."""
    from rma_mailbot.views import health_report, health_text

    config = _config(ctx)
    with _reading(config) as store:
        report = health_report(store, config.bot.claim_ref_prefix, dt.datetime.now(dt.UTC))
    click.echo(json.dumps(report, indent=2) if as_json else health_text(report))


@cli.command("check-config")
@click.pass_context
@clean_errors
def check_config(ctx: click.Context) -> None:
    """Validate the config, then try the IMAP login and the SMTP connection."""
    from rma_mailbot.checks import Status, check_connections

    config = _config(ctx)
    click.echo(f"{config.path}: config OK")
    failures = 0
    for name, status, message in check_connections(config):
        click.echo(f"{name}: {status}: {message}", err=status is Status.FAILED)
        failures += status is Status.FAILED
    sys.exit(1 if failures else 0)


@cli.command()
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("rma-demo"),
              show_default=True, help="Folder for the demo's inbox, orders, database and replies (made anew).")
@clean_errors
def demo(workspace: Path) -> None:
    """Run the whole bot on sample mails, with no mail server."""
    from rma_mailbot.demo import run_demo

    click.echo(run_demo(workspace, dt.datetime.now(dt.UTC)))


def main() -> None:
    cli(prog_name="rma-mailbot")
