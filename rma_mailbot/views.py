"""Claims as JSON objects and as text tables, for the CLI. Reads the store, writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import os

from rma_mailbot import refs
from rma_mailbot.errors import ClaimNotFound
from rma_mailbot.models import Claim
from rma_mailbot.sanitise import for_terminal
from rma_mailbot.store import Store, checks_to_list, iso


def claim_id_from(text: str) -> int:
    claim_id = refs.claim_id_from(text)
    if claim_id is None:
        raise ClaimNotFound(f"{text!r} is not a claim id (for example CLM-00042 or 42)")
    return claim_id


def claim_json(claim: Claim, prefix: str) -> dict:
    return {
        "id": claim.id,
        "ref": refs.claim_ref(prefix, claim.id),
        "rma_number": claim.rma_number,
        "kind": claim.kind.value,
        "state": claim.state.value,
        "order_id": claim.order_id,
        "customer": claim.customer,
        "missing": [m.value for m in claim.missing],
        "reasons": [r.value for r in claim.reasons],
        "photos": claim.photos,
        "resolution": claim.resolution,
        "routed_by": claim.routed_by,
        "decided_by": claim.decided_by.value if claim.decided_by else None,
        "claim_date": _day(claim.claim_date),
        "recheck_on": _day(claim.recheck_on),
        "created_at": iso(claim.created_at),
        "updated_at": iso(claim.updated_at),
    }


def _day(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def claim_detail(store: Store, claim_id: int, prefix: str) -> dict:
    claim = store.claim(claim_id)
    detail = claim_json(claim, prefix)
    detail["checks"] = checks_to_list(claim.checks)
    detail["statements"] = [{"evidence": s.evidence.value, "sentence": s.sentence, "boxes": s.boxes}
                            for s in claim.facts.statements]
    detail["missing_parts"] = [[part, quantity] for part, quantity in claim.facts.missing_parts]
    detail["attachments"] = [
        {k: a[k] for k in ("sha256", "content_type", "size", "is_photo", "width", "height", "is_report", "path")}
        for a in store.attachments(claim_id)
    ]
    detail["events"] = [
        {"at": e["at"], "kind": e["kind"], **json.loads(e["detail"] or "{}")} for e in store.events(claim_id)
    ]
    detail["replies"] = [
        {k: r[k] for k in ("message_id", "reply_kind", "to_addr", "subject", "state", "attempts", "last_error",
                           "created_at", "sent_at")}
        for r in store.replies(claim_id)
    ]
    return detail


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[for_terminal(str(r.get(c) if r.get(c) is not None else "")) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def claims_table(claims: list[dict]) -> str:
    rows = [{**c, "missing": ",".join(c["missing"]), "reasons": ",".join(c["reasons"])} for c in claims]
    return table(rows, ["ref", "state", "kind", "order_id", "customer", "rma_number", "photos", "missing",
                        "reasons"])


def detail_text(detail: dict) -> str:
    """The claim for a terminal: what a customer wrote (sentences, names, subjects, events) shown, never acted on."""
    return for_terminal(_detail_lines(detail))


def _detail_lines(detail: dict) -> str:
    out = [
        f"Claim {detail['ref']}  state: {detail['state']}  kind: {detail['kind']}",
        f"  customer: {detail['customer']}   order: {detail['order_id'] or '-'}   RMA: {detail['rma_number'] or '-'}"
        + (f" ({detail['resolution']})" if detail["resolution"] else ""),
        f"  decided by: {detail['decided_by'] or '-'}"
        + (f"   sent to staff by rule: {detail['routed_by']}" if detail["routed_by"] else ""),
        f"  judged on: {detail['claim_date']}   created: {detail['created_at']}   updated: {detail['updated_at']}",
    ]
    if detail["missing"]:
        out.append(f"  missing evidence: {', '.join(detail['missing'])}")
    if detail["recheck_on"] and detail["state"] == "awaiting_delivery":
        out.append(f"  decided again after: {detail['recheck_on']}")
    out.append("\nClauses checked:")
    out += [f"  [{c['outcome']:>7}] {c['reason']}: {c['evidence']}" for c in detail["checks"]] or ["  (none)"]
    out.append("\nStatements read from the customer's mail:")
    out += [f"  {s['evidence']}{_boxes(s)}: \"{s['sentence']}\"" for s in detail["statements"]] or ["  (none)"]
    out.append("\nAttachments:")
    out += [
        f"  {a['sha256'][:12]}  {a['content_type']}  {a['size']} bytes"
        + (f"  photo {a['width']}x{a['height']}" if a["is_photo"] else "")
        + ("  quality report" if a["is_report"] else "")
        for a in detail["attachments"]
    ] or ["  (none)"]
    out.append("\nHistory:")
    for event in detail["events"]:
        extra = {k: v for k, v in event.items() if k not in ("at", "kind", "checks")}
        out.append(f"  {event['at']}  {event['kind']}: " + ", ".join(f"{k}={v}" for k, v in extra.items() if v))
        out += [f"      [{c['outcome']:>7}] {c['reason']}" for c in event.get("checks") or ()]
    out.append("\nReplies:")
    out += [f"  {r['created_at']}  {r['reply_kind']} -> {r['to_addr']}  [{r['state']}]"
            + (f"  {r['last_error']}" if r["last_error"] else "") for r in detail["replies"]] or ["  (none)"]
    return "\n".join(out)


def replay_text(report) -> str:
    head = (f"{report.decided} claims decided again, {len(report.changes)} would change"
            f" ({report.skipped} skipped: closed, followed up, or decided by staff). Nothing was changed or sent.")
    if not report.changes:
        return head
    rows = [{"ref": c.ref, "judged on": c.judged_on, "now": str(c.old), "under these rules": str(c.new)}
            for c in report.changes]
    return head + "\n\n" + table(rows, ["ref", "judged on", "now", "under these rules"])


def queue_table(rows: list[dict]) -> str:
    return table(rows, ["ref", "kind", "customer", "order_id", "age_days", "photos", "report", "why"])


def health_report(store: Store, prefix: str, now: dt.datetime) -> dict:
    health = {key: value for key, (value, _) in store.health().items()}
    pid = health.get("pid")
    running = bool(pid) and not health.get("stopped_at") and _alive(int(pid))
    last_poll = health.get("last_successful_poll")
    return {
        "daemon": {"running": running, "pid": pid if running else None, "started_at": health.get("started_at"),
                   "stopped_at": health.get("stopped_at") or None},
        "last_successful_poll": last_poll,
        "seconds_since_last_poll": int((now - dt.datetime.fromisoformat(last_poll)).total_seconds()) if last_poll
        else None,
        "last_poll_error": health.get("last_poll_error") or None,
        "idle_connected": bool(health.get("idle_connected")) and running,
        "claims": store.counts(),
        "outbox": store.outbox_counts(),
        "failed_deliveries": [
            {"claim": refs.claim_ref(prefix, r["claim_id"]), "to": r["to_addr"], "reply": r["reply_kind"],
             "error": r["last_error"], "attempts": r["attempts"]}
            for r in store.replies_in_state("failed")
        ],
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health_text(report: dict) -> str:
    daemon = report["daemon"]
    lines = [
        "daemon: " + (f"running (pid {daemon['pid']}, since {daemon['started_at']})" if daemon["running"]
                      else f"not running (stopped {daemon['stopped_at']})" if daemon["stopped_at"]
                      else "not running"),
        "last successful poll: " + (f"{report['last_successful_poll']} ({report['seconds_since_last_poll']} s ago)"
                                    if report["last_successful_poll"] else "never"),
    ]
    if report["last_poll_error"]:
        lines.append(f"last poll error: {report['last_poll_error']}")
    lines.append(f"IMAP IDLE: {'connected' if report['idle_connected'] else 'not connected'}")
    lines.append("claims: " + (", ".join(f"{k} {v}" for k, v in sorted(report["claims"].items())) or "none"))
    lines.append("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(report["outbox"].items())) or "empty"))
    if report["failed_deliveries"]:
        lines.append("failed deliveries:")
        lines += [f"  {f['claim']} {f['reply']} -> {f['to']}: {f['error']}" for f in report["failed_deliveries"]]
    return for_terminal("\n".join(lines))


def _boxes(statement: dict) -> str:
    """ "(1 box)" when the customer spoke of a count of boxes, not of all of them."""
    boxes = int(statement.get("boxes", 0) or 0)
    return f" ({boxes} box{'es' if boxes > 1 else ''})" if boxes else ""
