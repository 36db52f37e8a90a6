"""parse.py: raw bytes -> ParsedMail, and which mail must never be answered (RFC 3834)."""

from __future__ import annotations

import base64
import io
from email.message import EmailMessage

import html2text
import pytest
from PIL import Image

from rma_mailbot import parse
from rma_mailbot.errors import ParseError
from rma_mailbot.models import MailClass

SUPPORT = "support@example.com"
OWN = frozenset({SUPPORT})


def customer_mail(body: str = "Hello,\n3 pcs of LM2596S are missing from SO104233.\n", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Jane Doe <jane@customer.example>")
    message["To"] = SUPPORT
    message["Subject"] = headers.pop("Subject", "Missing items SO104233")
    message["Message-ID"] = "<m1@customer.example>"
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    return message


def report_mail(report_type: str) -> bytes:
    """A multipart/report the way an MTA writes one (EmailMessage cannot build message/delivery-status)."""
    return (
        "From: Mail Delivery System <notify@mx.example>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@mx.example>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "This is the mail system at host mx.example.\r\n"
        "--b1\r\n"
        f"Content-Type: message/{report_type}\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n"
        "--b1--\r\n"
    ).encode()


def jpeg(size=(400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def parsed(message: EmailMessage | bytes):
    raw = message if isinstance(message, bytes) else message.as_bytes()
    return parse.parse(raw, own_addresses=OWN)


CLASSES = [
    ("auto_submitted_auto_replied", customer_mail(**{"Auto-Submitted": "auto-replied"}), MailClass.AUTOREPLY),
    ("auto_submitted_auto_generated", customer_mail(**{"Auto-Submitted": "auto-generated"}), MailClass.AUTOREPLY),
    ("auto_submitted_auto_notified", customer_mail(**{"Auto-Submitted": "auto-notified; owner-email=x@y"}),
     MailClass.AUTOREPLY),
    ("auto_submitted_uppercase", customer_mail(**{"Auto-Submitted": "Auto-Replied"}), MailClass.AUTOREPLY),
    ("auto_submitted_no", customer_mail(**{"Auto-Submitted": "no"}), MailClass.CUSTOMER),
    ("list_id", customer_mail(**{"List-Id": "Parts news <news.example.com>"}), MailClass.LIST),
    ("list_unsubscribe", customer_mail(**{"List-Unsubscribe": "<mailto:unsub@example.net>"}), MailClass.LIST),
    ("precedence_bulk", customer_mail(Precedence="bulk"), MailClass.LIST),
    ("precedence_list", customer_mail(Precedence="list"), MailClass.LIST),
    ("precedence_junk", customer_mail(Precedence="Junk"), MailClass.LIST),
    ("empty_return_path", customer_mail(**{"Return-Path": "<>"}), MailClass.BOUNCE),
    ("from_mailer_daemon", customer_mail(From="MAILER-DAEMON@mx.example"), MailClass.BOUNCE),
    ("from_mailer_daemon_named", customer_mail(From="Mail Delivery System <MAILER-DAEMON@mx.example>"),
     MailClass.BOUNCE),
    ("from_postmaster", customer_mail(From="postmaster@mx.example"), MailClass.BOUNCE),
    ("return_path_mailer_daemon", customer_mail(**{"Return-Path": "<MAILER-DAEMON@mx.example>"}), MailClass.BOUNCE),
    ("report_delivery_status", report_mail("delivery-status"), MailClass.BOUNCE),
    ("report_disposition_notification", report_mail("disposition-notification"), MailClass.AUTOREPLY),
    ("x_autoreply", customer_mail(**{"X-Autoreply": "yes"}), MailClass.AUTOREPLY),
    ("x_autorespond", customer_mail(**{"X-Autorespond": "yes"}), MailClass.AUTOREPLY),
    ("subject_out_of_office", customer_mail(Subject="Out of Office: back on Monday"), MailClass.AUTOREPLY),
    ("subject_automatic_reply", customer_mail(Subject="Automatic reply: Missing items SO104233"),
     MailClass.AUTOREPLY),
    ("subject_auto_reply_lower", customer_mail(Subject="auto-reply: your message"), MailClass.AUTOREPLY),
    ("subject_abwesenheit", customer_mail(Subject="Abwesenheitsnotiz"), MailClass.AUTOREPLY),
    # Machines that carry no standard marker, recognised by sender, subject or opening lines.
    ("sender_post_master", customer_mail(From="post_master@vtext.example"), MailClass.BOUNCE),
    ("sender_mail_delivery_subsystem",
     customer_mail(From="Mail Delivery Subsystem <mail-delivery-subsystem@mx.example>"), MailClass.BOUNCE),
    ("sender_no_reply", customer_mail(From="no-reply@sns.example"), MailClass.AUTOREPLY),
    ("sender_do_not_reply", customer_mail(From="do_not_reply@shop.example"), MailClass.AUTOREPLY),
    ("subject_undeliverable", customer_mail(Subject="Undeliverable: Missing items SO104233"), MailClass.BOUNCE),
    ("subject_returned_mail_forwarded", customer_mail(Subject="Fwd: Returned mail: see transcript"), MailClass.BOUNCE),
    ("subject_delay_warning", customer_mail(Subject="Warning: message 1abc delayed 24 hours"), MailClass.BOUNCE),
    ("subject_complaint", customer_mail(Subject="complaint about message from 192.0.2.1"), MailClass.BOUNCE),
    ("subject_read_receipt", customer_mail(Subject="Read: Missing items SO104233"), MailClass.AUTOREPLY),
    ("subject_challenge", customer_mail(Subject="Please confirm your email address to reach me"),
     MailClass.AUTOREPLY),
    ("mailing_list_ezmlm", customer_mail(**{"Mailing-List": "contact list-help@lists.example; run by ezmlm"}),
     MailClass.LIST),
    ("delivered_to_mailing_list", customer_mail(**{"Delivered-To": "mailing list parts@lists.example"}),
     MailClass.LIST),
    ("body_mail_system", customer_mail("This is the mail system at host mx.example.\n\nI'm sorry to have to inform "
                                       "you that your message could not be delivered."), MailClass.BOUNCE),
    ("body_exchange_ndr", customer_mail("Delivery has failed to these recipients or groups:\nsupport@x"),
     MailClass.BOUNCE),
    ("body_vacation_without_headers", customer_mail(
        "Thank you for your mail. I am out of the office until 3 December with limited access to email.",
        Subject="Re: your order"), MailClass.AUTOREPLY),
    ("body_german_vacation", customer_mail("Ich bin bis zum 3. Dezember nicht im Büro. In dringenden Fällen ...",
                                           Subject="Re: Bestellung"), MailClass.AUTOREPLY),
    ("body_challenge_response", customer_mail(
        "I only accept emails from approved senders. To have your message delivered, please click the link."),
     MailClass.AUTOREPLY),
    ("customer_mentions_a_holiday", customer_mail(
        "Hello, I was on holiday when the parcel came. 3 pcs of LM2596S are missing from SO104233."),
     MailClass.CUSTOMER),
    ("customer_back_from_vacation_later_in_text", customer_mail(
        "3 pcs of LM2596S are missing from SO104233. " + "Photos attached. " * 40
        + "I am on vacation until Monday, my colleague will answer."), MailClass.CUSTOMER),
    ("from_our_support_address", customer_mail(From=f"KST Returns Desk <{SUPPORT}>"), MailClass.OWN),
    ("from_our_support_address_case", customer_mail(From="Support@Example.COM"), MailClass.OWN),
    ("own_wins_over_auto_submitted", customer_mail(From=SUPPORT, **{"Auto-Submitted": "auto-replied"}),
     MailClass.OWN),
    ("normal_customer", customer_mail(), MailClass.CUSTOMER),
    ("customer_mentions_office_later", customer_mail(Subject="Parts for our office are missing"),
     MailClass.CUSTOMER),
    ("customer_return_path_set", customer_mail(**{"Return-Path": "<jane@customer.example>"}), MailClass.CUSTOMER),
]


@pytest.mark.parametrize(("message", "expected"), [row[1:] for row in CLASSES], ids=[row[0] for row in CLASSES])
def test_classify(message, expected):
    mail = parsed(message)
    assert mail.mail_class is expected
    if expected is MailClass.CUSTOMER:
        assert mail.class_reason == ""
    else:
        assert mail.class_reason  # staff see why a mail was not answered


def test_classify_reason_names_header():
    assert parsed(customer_mail(**{"List-Id": "<news.example.com>"})).class_reason == "mailing-list header List-Id"
    assert parsed(customer_mail(Precedence="bulk")).class_reason == "Precedence: bulk"
    auto = parsed(customer_mail(**{"Auto-Submitted": "auto-generated"}))
    assert auto.class_reason == "Auto-Submitted: auto-generated"


def test_fields_of_a_customer_mail():
    message = customer_mail(**{"In-Reply-To": "<r1@example.com>", "References": "<r0@example.com> <r1@example.com>"})
    mail = parsed(message)
    assert mail.message_id == "<m1@customer.example>"
    assert mail.sender == "jane@customer.example"
    assert mail.sender_name == "Jane Doe"
    assert mail.subject == "Missing items SO104233"
    assert mail.in_reply_to == "<r1@example.com>"
    assert mail.references == ("<r0@example.com>", "<r1@example.com>")
    assert "3 pcs of LM2596S are missing" in mail.text


def test_sender_lower_case():
    assert parsed(customer_mail(From="Jane <Jane.Doe@Customer.EXAMPLE>")).sender == "jane.doe@customer.example"


@pytest.mark.parametrize(
    ("html", "present", "absent"),
    [
        ("<html><body><p>Hello team,</p><p>3 pcs of LM2596S are missing.</p></body></html>",
         ["Hello team", "3 pcs of LM2596S are missing."], ["<p>", "</body>"]),
        ("<div>Order SO104233&nbsp;&amp; SO104234</div>", ["SO104233", "& SO104234"], ["&amp;", "<div>"]),
        ('<p>see <img src="https://tracker.example/pixel.gif"> <a href="https://x.example">our site</a></p>',
         ["see", "our site"], ["pixel.gif", "https://x.example", "<a"]),
    ],
    ids=["paragraphs", "entities", "images_and_links"],
)
def test_html_only_mail_becomes_text(html, present, absent):
    message = customer_mail()
    message.set_content(html, subtype="html")
    mail = parsed(message)
    for text in present:
        assert text in mail.text
    for text in absent:
        assert text not in mail.text
        assert text not in mail.full_text


CLAIM = "3 pcs of LM2596S are missing from SO104233."
DEEP = 20_000

# (id, the HTML body: the claim, then markup nested DEEP levels or huge)
HOSTILE_HTML = [
    ("nested_quotes", f"<p>{CLAIM}</p>" + "<blockquote>quote" * DEEP),
    ("nested_quotes_closed", f"<p>{CLAIM}</p>" + "<blockquote><p>q</p>" * DEEP + "</blockquote>" * DEEP),
    ("nested_lists", f"<p>{CLAIM}</p>" + "<ul><li>item" * DEEP),
    ("nested_numbered_lists", f"<p>{CLAIM}</p>" + "<ol><li><p>item</p>" * DEEP),
    ("quotes_in_lists", f"<p>{CLAIM}</p>" + "<ul><li><blockquote>x" * DEEP),
    ("five_megabytes_of_paragraphs", f"<p>{CLAIM}</p>" + "<p>more words here</p>" * 250_000),
]


@pytest.mark.parametrize("html", [row[1] for row in HOSTILE_HTML], ids=[row[0] for row in HOSTILE_HTML])
def test_hostile_html_converts_at_the_cost_of_a_long_letter(html):
    message = customer_mail()
    message.set_content(html, subtype="html")
    mail = parsed(message)
    assert CLAIM in mail.text
    # html2text repeats each level's marker on every line: 20,000 levels made 400 million characters.
    assert len(mail.full_text) < 8 * parse.MAX_HTML_CHARS


def test_nesting_within_the_bound_converts_as_html2text_does():
    html = ("<p>new words</p><blockquote><p>older</p><blockquote><p>oldest</p>"
            "<ul><li>one<ul><li>two</li></ul></li></ul></blockquote></blockquote>")
    message = customer_mail()
    message.set_content(html, subtype="html")
    plain = html2text.HTML2Text(bodywidth=0)
    plain.ignore_images = plain.ignore_links = True
    assert parsed(message).full_text == plain.handle(html).strip()


def test_text_nested_past_the_bound_is_kept_at_the_deepest_level():
    message = customer_mail()
    message.set_content("<blockquote>" * 50 + "<p>deep words</p>" + "</blockquote>" * 50 + "<p>after</p>",
                        subtype="html")
    lines = parsed(message).full_text.splitlines()
    assert "> " * parse.MAX_NESTING + "deep words" in lines and lines[-1] == "after"


def test_plain_part_preferred_over_html():
    message = customer_mail("plain words here\n")
    message.add_alternative("<p>html words here</p>", subtype="html")
    mail = parsed(message)
    assert "plain words here" in mail.text
    assert "html words here" not in mail.text


@pytest.mark.parametrize(
    ("body", "own_words", "quoted"),
    [
        ("We have received all 3 boxes.\n\nOn Mon, 3 Mar 2025 at 10:00, KST Returns Desk <support@example.com> "
         "wrote:\n> Please confirm that you emptied every box.\n> Kind regards\n",
         "We have received all 3 boxes.", "Please confirm that you emptied every box."),
        ("All boxes arrived, I emptied them.\n\nOn 2025-03-03 10:00, support@example.com wrote:\n"
         "> We still need photos of the whole parcel.\n",
         "All boxes arrived, I emptied them.", "We still need photos of the whole parcel."),
        ("Photos attached.\n\nAm Mo., 3. März 2025 um 10:00 Uhr schrieb KST <support@example.com>:\n"
         "> Bitte senden Sie Fotos des Pakets.\n",
         "Photos attached.", "Bitte senden Sie Fotos des Pakets."),
    ],
    ids=["on_date_name_wrote", "on_iso_date_wrote", "german_schrieb"],
)
def test_quoted_history_stripped_from_text_but_kept_in_full_text(body, own_words, quoted):
    mail = parsed(customer_mail(body))
    assert own_words in mail.text
    assert quoted not in mail.text
    assert "wrote:" not in mail.text and "schrieb" not in mail.text
    assert quoted in mail.full_text
    assert own_words in mail.full_text


OUR_REPLY = (
    "Dear Jane,\n\n"
    "To go on, we still need the following from you:\n\n"
    "1. Confirmation that you have received all the boxes of this order (please check how many boxes the "
    "shipping notice lists).\n"
    "2. Confirmation that you have fully emptied each box: small parts can get caught in folds or packing "
    "material.\n\n"
    "Kind regards,\nKST Returns Desk\n"
)


@pytest.mark.parametrize(
    ("customer_text", "kept", "dropped"),
    [
        ("I only got one of the two boxes.\n"
         "1. Confirmation that you have received all the boxes of this order (please check how many boxes the "
         "shipping notice lists).\n",
         ["I only got one of the two boxes."], ["Confirmation that you have received all the boxes"]),
        ("Here are the photos.\n"
         "|   2. Confirmation that you have fully emptied each box: small parts can get caught in folds or "
         "packing material.\n",
         ["Here are the photos."], ["fully emptied each box"]),
        ("Still missing parts.\n"
         "1.  CONFIRMATION that you have received all the boxes of this order   (please check how many boxes "
         "the shipping notice lists).\n",
         ["Still missing parts."], ["received all the boxes"]),
        ("Dear Jane,\nthanks\n", ["Dear Jane,", "thanks"], []),  # short lines are common words, not quotes
    ],
    ids=["unmarked_copy", "pipe_marker_extra_spaces", "case_and_whitespace", "short_lines_kept"],
)
def test_strip_own_words(customer_text, kept, dropped):
    result = parse.strip_own_words(customer_text, [OUR_REPLY])
    for line in kept:
        assert line in result
    for line in dropped:
        assert line.lower() not in result.lower()


def test_strip_own_words_without_earlier_replies_changes_nothing():
    text = "1. Confirmation that you have received all the boxes of this order.\n"
    assert parse.strip_own_words(text, []) == text


@pytest.mark.parametrize(
    "header",
    [
        "=?utf-8?b?" + base64.b64encode(b"Hello\r\nBcc: evil@x").decode() + "?=",
        "=?utf-8?q?Hello=0D=0ABcc:_evil@x?=",
        "=?utf-8?q?Hello=0ABcc:_evil@x?=",
        "=?iso-8859-1?q?Gr=FC=DFe=0D=0ABcc:_evil@x?=",
        "=?utf-8?q?Hello=00=1B[31m_evil@x?=",
    ],
    ids=["base64_crlf", "qp_crlf", "qp_lf", "latin1_crlf", "nul_and_escape"],
)
def test_control_characters_in_encoded_subject_never_survive(header):
    raw = (f"From: Jane <jane@customer.example>\r\nTo: {SUPPORT}\r\nSubject: {header}\r\n"
           f"Message-ID: <m1@customer.example>\r\n\r\nbody\r\n").encode()
    mail = parse.parse(raw, own_addresses=OWN)
    assert "evil@x" in mail.subject  # decoded, not dropped
    assert not any(ch in mail.subject for ch in "\r\n\x00\x1b")
    assert mail.subject == mail.subject.strip()


@pytest.mark.parametrize(
    ("encoded_name", "name"),
    [
        ("=?utf-8?q?Firma:_M=C3=BCller_GmbH?=", "Firma: Müller GmbH"),
        ("=?utf-8?q?Doe=2C_Jane?=", "Doe, Jane"),
        ("=?utf-8?q?Jane_=3Cjane=40old.example=3E?=", "Jane <jane@old.example>"),
        ("=?iso-8859-1?q?J=FCrgen?=", "Jürgen"),
    ],
    ids=["colon", "comma", "angle_address_in_name", "latin1"],
)
def test_encoded_sender_name_keeps_the_address(encoded_name, name):
    # A name that decodes to address syntax must not cost us the sender (the mail would pass for a bounce).
    raw = (f"From: {encoded_name} <jane@customer.example>\r\nTo: {SUPPORT}\r\nSubject: hi\r\n\r\n"
           "body\r\n").encode()
    mail = parse.parse(raw, own_addresses=OWN)
    assert mail.sender == "jane@customer.example"
    assert mail.sender_name == name
    assert mail.mail_class is MailClass.CUSTOMER


@pytest.mark.parametrize(
    "encoded_name",
    ["=?utf-8?q?Jane=0D=0ABcc:_evil@x?=", "=?utf-8?q?Jane=0D=0ADoe?="],
    ids=["crlf_header_injection", "crlf_plain"],
)
def test_control_characters_in_encoded_sender_name_never_survive(encoded_name):
    raw = (f"From: {encoded_name} <jane@customer.example>\r\nTo: {SUPPORT}\r\nSubject: hi\r\n\r\n"
           "body\r\n").encode()
    mail = parse.parse(raw, own_addresses=OWN)
    assert "\r" not in mail.sender_name and "\n" not in mail.sender_name
    assert "\r" not in mail.sender and "\n" not in mail.sender
    assert mail.sender in ("", "jane@customer.example")  # never the injected address


def b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def q_word(text: str) -> str:
    return "=?utf-8?q?" + "".join(c if c.isalnum() else f"={ord(c):02X}" for c in text) + "?="


def raw_mail(sender: bytes, subject: bytes = b"Return", headers: bytes = b"") -> bytes:
    return (b"From: " + sender + b"\r\nTo: support@example.com\r\nSubject: " + subject
            + b"\r\nMessage-ID: <m1@customer.example>\r\n" + headers + b"\r\nOrdered by mistake.\r\n")


# (id, From header as sent, the name we may greet and address with): decoded fully, then cleaned.
HOSTILE_NAMES = [
    ("q_crlf_bcc_raw_colon", b"=?utf-8?q?Jane=0D=0ABcc:_evil@x.example?=", "Jane Bcc: evil@x.example"),
    ("b64_crlf_cc", b_word("Jane\r\nCc: evil@x.example").encode(), "Jane Cc: evil@x.example"),
    ("quoted_word", b'"=?utf-8?q?Jane=0D=0AX-Injected:_1?="', "Jane X-Injected: 1"),
    ("word_inside_word", b_word(q_word("Jane\r\nBcc: evil@x.example")).encode(), "Jane Bcc: evil@x.example"),
    ("line_separator", b_word("Jane\u2028Bcc: evil@x.example").encode(), "Jane Bcc: evil@x.example"),
    ("next_line", b_word("Jane\x85X-Injected: 1").encode(), "Jane X-Injected: 1"),
    ("right_to_left_override", b_word("Jane \u202eeoD").encode(), "Jane eoD"),
    ("raw_latin1", b"J\xfcrgen M\xfcller", "Jürgen Müller"),
    ("raw_utf8", "Jürgen Müller".encode(), "Jürgen Müller"),
    ("latin1_declared_utf8", b"=?utf-8?q?J=FCrgen?=", "Jürgen"),
    ("windows_1252", b"=?windows-1252?q?=93J=FCrgen=94?=", "\u201cJürgen\u201d"),
]


@pytest.mark.parametrize(("name", "expected"), [row[1:] for row in HOSTILE_NAMES],
                         ids=[row[0] for row in HOSTILE_NAMES])
def test_hostile_sender_name_is_decoded_then_cleaned(name, expected):
    mail = parse.parse(raw_mail(name + b" <jane@customer.example>"), own_addresses=OWN)
    assert (mail.sender, mail.sender_name, mail.mail_class) == ("jane@customer.example", expected, MailClass.CUSTOMER)


HOSTILE_SUBJECTS = [
    ("raw_latin1", b"R\xfccksendung SO-200003", "Rücksendung SO-200003"),
    ("raw_utf8", "Rücksendung SO-200003".encode(), "Rücksendung SO-200003"),
    ("word_inside_word", b_word(q_word("Return\r\nBcc: evil@x.example")).encode(), "Return Bcc: evil@x.example"),
    ("quoted_word_inside_word", b_word('"' + q_word("Return\nCc: evil@x.example") + '"').encode(),
     '"Return Cc: evil@x.example"'),
    ("line_separator", b_word("Return\u2028X-Injected: 1").encode(), "Return X-Injected: 1"),
    ("paragraph_separator", b_word("Return\u2029X-Injected: 1").encode(), "Return X-Injected: 1"),
    ("next_line", b_word("Return\x85X-Injected: 1").encode(), "Return X-Injected: 1"),
    ("bidi_isolate_and_override", b_word("Return \u2067\u202eexe.gpj\u2069").encode(), "Return exe.gpj"),
]


@pytest.mark.parametrize(("subject", "expected"), [row[1:] for row in HOSTILE_SUBJECTS],
                         ids=[row[0] for row in HOSTILE_SUBJECTS])
def test_hostile_subject_is_decoded_then_cleaned(subject, expected):
    assert parse.parse(raw_mail(b"jane@customer.example", subject), own_addresses=OWN).subject == expected


@pytest.mark.parametrize("bad_id", [
    b"<=?utf-8?q?a=0D=0ABcc:_evil@x.example?=@customer.example>",
    b"<" + b_word("a\r\nBcc: evil@x.example").encode() + b"@customer.example>",
    b"<a\x00b@customer.example>",
    b"<r\xfcck@customer.example>",
], ids=["q_word", "b_word", "nul", "raw_8bit"])
def test_message_ids_that_would_write_a_header_are_not_threaded_on(bad_id):
    """Their ids become our In-Reply-To and References, where the stdlib would decode a word."""
    headers = b"In-Reply-To: " + bad_id + b"\r\nReferences: <r0@example.com> " + bad_id + b"\r\n"
    mail = parse.parse(raw_mail(b"jane@customer.example", headers=headers), own_addresses=OWN)
    assert (mail.in_reply_to, mail.references) == ("", ("<r0@example.com>",))


@pytest.mark.parametrize(("filename", "expected"), [
    ("parcel\u202egpj.exe", "parcelgpj.exe"),
    ("\u2066parcel\u2069\u200f.jpg", "parcel.jpg"),
    (b_word(q_word("parcel\r\n.jpg")), "parcel .jpg"),
], ids=["right_to_left_override", "isolate_and_mark", "word_inside_word"])
def test_attachment_file_name_is_decoded_then_cleaned(filename, expected):
    message = customer_mail()
    message.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename=filename)
    (part,) = parsed(message).parts
    assert part.filename == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"just some garbage without any header at all\nmore garbage",
        b"\x00\x01\x02\xff\xfe",
        b"<html><body>not a mail</body></html>",
    ],
    ids=["empty", "whitespace", "words", "binary", "html"],
)
def test_not_a_message_raises_parse_error(raw):
    with pytest.raises(ParseError):
        parse.parse(raw, own_addresses=OWN)


@pytest.mark.parametrize("disposition", ["inline", None], ids=["disposition_inline", "no_disposition"])
def test_inline_cid_image_is_a_part(disposition):
    photo = jpeg()
    message = customer_mail("see the photo\n")
    message.add_alternative('<p>see <img src="cid:photo1@customer.example"></p>', subtype="html")
    html = message.get_payload()[1]
    html.add_related(photo, "image", "jpeg", cid="<photo1@customer.example>", disposition="inline")
    if disposition is None:
        del html.get_payload()[1]["Content-Disposition"]
    mail = parsed(message)
    (part,) = mail.parts
    assert part.content_type == "image/jpeg"
    assert part.payload == photo
    assert part.content_id == "photo1@customer.example"
    assert part.inline is (disposition == "inline")


def test_unknown_charset_on_an_attached_message_keeps_the_mail():
    # Seen in real bounces: message/rfc822; charset=UFT-8. The mail must not be lost to a LookupError.
    raw = (
        b"From: Jane <jane@customer.example>\r\nTo: support@example.com\r\nSubject: fwd\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nforwarding your mail\r\n"
        b'--b1\r\nContent-Type: message/rfc822; charset="UFT-8"\r\nContent-Disposition: attachment\r\n\r\n'
        b"From: KST <support@example.com>\r\nSubject: your claim\r\n\r\nline one\r\n"
        b"--b1--\r\n"
    )
    mail = parse.parse(raw, own_addresses=OWN)
    assert "forwarding your mail" in mail.text
    (part,) = mail.parts
    assert part.content_type == "message/rfc822"
    assert b"line one" in part.payload


def test_attachment_is_a_part_with_filename():
    message = customer_mail()
    message.add_attachment(b"%PDF-1.4 test report", maintype="application", subtype="pdf", filename="report.pdf")
    (part,) = parsed(message).parts
    assert part.filename == "report.pdf"
    assert part.content_type == "application/pdf"
    assert part.payload == b"%PDF-1.4 test report"
    assert part.inline is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a\r\nb", "a b"), ("  a\tb  ", "a b"), ("a\x00\x7fb", "a b"), ("plain", "plain")],
    ids=["crlf", "tab_and_edges", "nul_del", "plain"],
)
def test_one_line(value, expected):
    assert parse.one_line(value) == expected
