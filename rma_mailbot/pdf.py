"""A PDF's text and what it may do (scripts, actions, embedded files), read with pypdf. Pure.

A PDF of a few kB can cost minutes of CPU and gigabytes to read (pages that each draw one huge deflated
stream), so read_pdf() caps what it reads; the bot runs it only in reports.ReportReader's process, under
CPU and memory limits, for what the caps do not foresee. Only that process imports pypdf.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from rma_mailbot.errors import ReportUnreadable
from rma_mailbot.models import PdfReading

# pypdf warns about every oddity of a broken or hostile file; that is noise in an inbox's log.
logging.getLogger("pypdf").setLevel(logging.ERROR)

MAX_REPORT_PAGES = 20
MAX_REPORT_TEXT_CHARS = 100_000
# A lab's report draws some kB of operators per page; pages drawing megabytes are built to be slow to read.
MAX_CONTENT_BYTES = 2_000_000
MAX_STREAM_BYTES = 10_000_000
# pypdf's own limits, lowered to what a report needs (its defaults: 75 MB a stream, 2 million tokens).
PYPDF_LIMITS = {
    "zlib_maximum_output_length": MAX_STREAM_BYTES,
    "lzw_maximum_output_length": MAX_STREAM_BYTES,
    "run_length_maximum_output_length": MAX_STREAM_BYTES,
    "brotli_maximum_output_length": MAX_STREAM_BYTES,
    "array_based_stream_maximum_output_length": MAX_STREAM_BYTES,
    "stream_parsing_work_maximum_count": 500_000,
    "xform_maximum_invocations_per_extraction": 100,
}
# Actions that run code or reach outside the file, wherever they sit (a link's action included).
ACTIVE_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "Launch action",
    "/SubmitForm": "SubmitForm action",
    "/ImportData": "ImportData action",
    "/GoToR": "GoToR action",
    "/GoToE": "GoToE action",
    "/Rendition": "Rendition action",
    "/RichMediaExecute": "RichMediaExecute action",
}
# Keys whose actions run by themselves: on opening the file, showing a page, touching a field.
TRIGGERS = ("/OpenAction", "/AA")


def read_pdf(payload: bytes) -> PdfReading:
    """The PDF's text (its first pages), its active content, or why it could not be read. Pure."""
    with apply_configuration(**PYPDF_LIMITS):
        try:
            reader = PdfReader(io.BytesIO(payload))
            if reader.is_encrypted and not reader.decrypt(""):
                return PdfReading(unreadable="encrypted with a password")
            active = active_content(reader)
        except Exception as exc:  # noqa: BLE001 - pypdf raises all kinds on hostile files; unreadable is the answer
            return PdfReading(unreadable=_why(exc))
        try:
            return PdfReading(text=_text(reader), active=active)
        except Exception as exc:  # noqa: BLE001 - as above
            return PdfReading(active=active, unreadable=_why(exc))


def _why(exc: Exception) -> str:
    if isinstance(exc, ReportUnreadable):
        return str(exc)
    if isinstance(exc, LimitReachedError):
        return f"past our reading limits ({exc})"
    if isinstance(exc, MemoryError):
        return "needs more memory than a report may take"
    return f"not a readable PDF ({type(exc).__name__})"


def _text(reader: PdfReader) -> str:
    texts: list[str] = []
    content_bytes = 0
    for page in reader.pages[:MAX_REPORT_PAGES]:
        contents = page.get_contents()
        content_bytes += len(contents.get_data()) if contents is not None else 0
        if content_bytes > MAX_CONTENT_BYTES:
            raise ReportUnreadable(f"pages drawing more than {MAX_CONTENT_BYTES // 1_000_000} MB of content")
        texts.append(page.extract_text() or "")
        if sum(map(len, texts)) >= MAX_REPORT_TEXT_CHARS:
            break
    return "\n".join(texts)[:MAX_REPORT_TEXT_CHARS]


def active_content(reader: PdfReader) -> tuple[str, ...]:
    """What the PDF can do besides showing pages, e.g. ("JavaScript (OpenAction)", "embedded files").

    Every object reachable from the trailer is looked at: the catalog and its name trees, pages and
    their annotations, form fields, and objects kept in object streams alike (pypdf resolves those, and
    reads ``/J#61vaScript`` as ``/JavaScript``)."""
    found: dict[str, set[str]] = {}
    for dictionary in _dictionaries(reader.trailer):
        for kind in _kinds(dictionary):
            found.setdefault(kind, set())
        for trigger in TRIGGERS:
            for kind in _triggered(dictionary.get(trigger), trigger):
                found.setdefault(kind, set()).add(trigger.lstrip("/"))
    return tuple(f"{kind} ({', '.join(sorted(where))})" if where else kind for kind, where in sorted(found.items()))


def _dictionaries(root) -> Iterator[DictionaryObject]:
    """Every dictionary reachable from ``root``; each indirect object is visited once."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(dict.values(item))  # as stored: references stay references, resolved above
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def _kinds(dictionary: DictionaryObject) -> Iterator[str]:
    if (action := ACTIVE_ACTIONS.get(_name(dictionary.get("/S")))) is not None:
        yield action
    if "/JS" in dictionary or "/JavaScript" in dictionary:  # a script, or the document's script name tree
        yield "JavaScript"
    if "/EmbeddedFiles" in dictionary or "/EF" in dictionary or _name(dictionary.get("/Type")) == "/EmbeddedFile":
        yield "embedded files"
    if _name(dictionary.get("/Subtype")) == "/RichMedia":
        yield "RichMedia"
    if "/XFA" in dictionary:
        yield "XFA form"


def _triggered(value, trigger: str) -> Iterator[str]:
    """The kinds of action that run by themselves from a trigger's value: an /OpenAction action (not a
    destination to open at), or the actions of an /AA dictionary; a plain GoTo only turns pages."""
    value = value.get_object() if value is not None else None
    if not isinstance(value, DictionaryObject):
        return
    actions = dict.values(value) if trigger == "/AA" else [value]
    for action in actions:
        action = action.get_object()
        if isinstance(action, DictionaryObject) and (kind := _name(action.get("/S"))) not in ("", "/GoTo"):
            yield ACTIVE_ACTIONS.get(kind, f"{kind.lstrip('/')} action")


def _name(value) -> str:
    value = value.get_object() if value is not None else None
    return str(value) if isinstance(value, str) else ""
