"""Attacks on the reader: sentences that must NOT state a fact, because the mail does not state it.

Each row is a phrasing a customer (or a hostile sender) can write that the reader once took for more than
it says, in a way that would let a claim pass the return policy wrongly: a checklist item confirmed by a
negated, partial, conditional or requested sentence; a sealed ESD/moisture bag opening missed; a shortage
quantity made of a line number, a date, a price or a phone number; a forwarded mail of the desk's own read as
the customer's words; the opened-parts rule passing while a sensitive part's bag was opened. Pure: reading,
extract, parse.strip_quoted and policy.decide only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from rma_mailbot import extract, reading
from rma_mailbot.models import (
    ClaimKind,
    ClaimState,
    Evidence,
    MailClass,
    Order,
    OrderLine,
    ParsedMail,
    Reason,
)
from rma_mailbot.parse import strip_quoted
from rma_mailbot.policy import decide
from tests.test_policy import CUSTOMER, DELIVERED, RULES, SHIPPED

ORDER_PATTERN = re.compile(r"\bSO-?\d{6}\b", re.IGNORECASE)
OURS = frozenset({"support@example.com"})


def is_order(word: str) -> bool:
    return bool(re.fullmatch(r"so-?\d{6}", word, re.IGNORECASE))


def mail(text: str) -> ParsedMail:
    return ParsedMail(message_id="<m1@customer.example>", sender=CUSTOMER, sender_name="Jane", subject="",
                      text=text, full_text=text, in_reply_to="", references=(), parts=(),
                      mail_class=MailClass.CUSTOMER)


def facts(text: str):
    return extract.extract(mail(text), ORDER_PATTERN)


# --- a checklist item confirmed by a sentence that does not confirm it ---------------------------------

# (id, mail text, the checklist evidence it must not state)
NOT_CONFIRMED = [
    ("en-nobody-emptied", "Nobody emptied them.", Evidence.BOXES_EMPTIED),
    ("en-nobody-has-emptied", "Nobody has emptied the boxes yet.", Evidence.BOXES_EMPTIED),
    ("de-niemand", "Niemand hat die Kartons ausgepackt.", Evidence.BOXES_EMPTIED),
    ("es-nadie", "Nadie vació las cajas.", Evidence.BOXES_EMPTIED),
    ("en-will-empty", "We will empty the boxes tomorrow.", Evidence.BOXES_EMPTIED),
    ("en-still-need-to-empty", "We still need to empty the boxes.", Evidence.BOXES_EMPTIED),
    ("en-if-had-arrived", "If all boxes had arrived we would have emptied them.", Evidence.ALL_BOXES_RECEIVED),
    ("en-if-would-have-emptied", "If all boxes had arrived we would have emptied them.", Evidence.BOXES_EMPTIED),
    ("en-please-confirm", "Please confirm all boxes arrived.", Evidence.ALL_BOXES_RECEIVED),
    ("en-doubt", "I doubt all boxes arrived.", Evidence.ALL_BOXES_RECEIVED),
    ("en-failed-to-arrive", "All boxes failed to arrive.", Evidence.ALL_BOXES_RECEIVED),
    ("en-all-but-one", "All boxes but one arrived.", Evidence.ALL_BOXES_RECEIVED),
    ("en-emptied-some", "We emptied some of the boxes.", Evidence.BOXES_EMPTIED),
    ("en-emptied-most", "We emptied most of the boxes.", Evidence.BOXES_EMPTIED),
    ("en-emptied-a-few", "We emptied a few boxes.", Evidence.BOXES_EMPTIED),
    ("de-einige", "Wir haben einige Kartons ausgepackt.", Evidence.BOXES_EMPTIED),
    ("fr-quelques", "Nous avons vidé quelques cartons.", Evidence.BOXES_EMPTIED),
    ("es-algunas", "Vaciamos algunas cajas.", Evidence.BOXES_EMPTIED),
]


@pytest.mark.parametrize(("text", "evidence"), [r[1:] for r in NOT_CONFIRMED], ids=[r[0] for r in NOT_CONFIRMED])
def test_a_checklist_item_is_not_confirmed(text, evidence):
    assert evidence not in facts(text).confirmed


# --- a sealed bag opened, and missed --------------------------------------------------------------------

OPENED = [
    ("en-pronoun-parenthesis", "We opened it (the ESD bag)."),
    ("en-pronoun-same-sentence", "The reel came in a moisture barrier bag; we opened it."),
    ("en-pronoun-next-sentence", "The reel came in a moisture barrier bag. We opened it."),
    ("fr-pronoun", "Nous l'avons ouvert, le sachet ESD."),
    ("en-unsealed-reel", "We unsealed the reel."),
]


@pytest.mark.parametrize("text", [r[1] for r in OPENED], ids=[r[0] for r in OPENED])
def test_a_sealed_bag_opening_is_read(text):
    assert facts(text).opened_sensitive


# --- a shortage quantity made of another number ---------------------------------------------------------

# (id, text, the quantity it must not read)
NOT_A_QUANTITY = [
    ("en-line-number", "The NE555P on line 2 is missing.", 2),
    ("en-box-number", "NE555P missing from box 2.", 2),
    ("en-phone", "Please call 555 1234 about the missing NE555P.", 555),
    ("en-date", "The NE555P ordered on 24 November are missing.", 24),
    ("en-date-not-arrived", "NE555P did not arrive on 24 November.", 24),
    ("en-price", "The missing NE555P cost 45 euros.", 45),
    ("en-year", "We are short of NE555P since 2026.", 2026),
    ("en-package-size", "Some 0805 resistors are missing.", 805),
    ("de-position", "Es fehlt der NE555P aus Position 4.", 4),
    ("fr-ligne", "Il manque les NE555P de la ligne 2.", 2),
    ("es-linea", "Faltan los NE555P de la línea 2.", 2),
    ("en-3-of-40-missing", "3 of 40 NE555P are missing.", 37),  # 3 are missing, not 37
    ("de-3-von-40-fehlen", "Es fehlen 3 von 40 Stück.", 37),
    ("fr-3-sur-40", "Il manque 3 sur 40 NE555P.", 37),
    ("es-3-de-40", "Faltan 3 de 40 NE555P.", 37),
]


@pytest.mark.parametrize(("text", "number"), [r[1:] for r in NOT_A_QUANTITY], ids=[r[0] for r in NOT_A_QUANTITY])
def test_a_shortage_quantity_is_not_invented(text, number):
    assert number not in {q for _, q in facts(text).missing_parts}
    assert number not in {q for _, q, _ in reading.read([text], is_order).missing_parts}


# --- a forwarded mail of ours is not the customer's ----------------------------------------------------

_OURS_SAID = "All boxes received and emptied, thank you."
FORWARDED_OURS = [
    ("outlook-html-bold", "see below\n\n-----Forwarded message-----\n**From:** KST Support <support@example.com>\n"
                          "**Sent:** Monday\n\n" + _OURS_SAID),
    ("folded-from", "see below\n\n---------- Forwarded message ---------\nFrom: \"KST Returns Desk, Leading Global"
                    " Distributor\"\n <support@example.com>\nDate: Mon\n\n" + _OURS_SAID),
    ("thunderbird-fr", "voir\n\n-------- Message transféré --------\nSujet : Re: SO-510002\nDate : lun\n"
                       "De : support@example.com\n\n" + _OURS_SAID),
]


@pytest.mark.parametrize("text", [r[1] for r in FORWARDED_OURS], ids=[r[0] for r in FORWARDED_OURS])
def test_a_forwarded_mail_of_ours_is_not_the_customers(text):
    assert "emptied" not in strip_quoted(text, OURS)


# Outlook writes "Original Message" above a forward and a quoted reply alike: (id, subject, text, kept)
_REPORT = "Goods-in has not had anything for SO-510001 yet."
ORIGINAL_MESSAGE = [
    ("forward-by-subject", "Fw: KST delivery?", "Hello,\n\n-----Original Message-----\nFrom: Tom Hargreaves\n"
                           "Sent: today 09:12\nSubject: KST delivery?\n\n" + _REPORT, True),
    ("forward-said-above", "Recepción SO-510009", "Os reenvío el parte.\n\n-----Mensaje original-----\n"
                           "De: Almacén <almacen@example.es>\nEnviado el: martes, 10:12\nPara: Inés\n"
                           "Asunto: Recepción\n\n" + _REPORT, True),
    ("reply-quotes-an-older-mail", "Faltan AMS1117", "Han llegado las dos cajas.\n\n-----Mensaje original-----\n"
                                   "De: Compras\nEnviado el: lunes\nAsunto: Pedido\n\n" + _REPORT, False),
    ("ours-by-address", "Fw: order", "see below\n\n-----Original Message-----\nFrom: KST <support@example.com>\n"
                        "Sent: Monday\n\n" + _REPORT, False),
    ("ours-by-claim-tag", "Fw: order", "see below\n\n-----Original Message-----\nFrom: KST Returns Desk\n"
                          "Subject: Re: SO-510001 [CLM-00042]\n\n" + _REPORT, False),
    ("quoted-note-passed-on", "Return request (see below)", "See the note from our engineer below.\n\n"
                              "> From: Pablo Ortega\n> Sent: Tuesday\n> Subject: RE: MPU-6050\n>\n> " + _REPORT, True),
    ("quoted-reply", "Re: MPU-6050", "Thanks.\n\n> From: Pablo Ortega\n> Sent: Tuesday\n>\n> " + _REPORT, False),
    ("quoted-ours-passed-on", "see below", "See below.\n\n> From: KST <support@example.com>\n> Sent: Tuesday\n>\n> "
                              + _REPORT, False),
    ("no-sender-named", "Fw: order", "see below\n\n-----Original Message-----\nSent: Monday\n\n" + _REPORT, False),
]


@pytest.mark.parametrize(("subject", "text", "kept"), [r[1:] for r in ORIGINAL_MESSAGE],
                         ids=[r[0] for r in ORIGINAL_MESSAGE])
def test_an_original_message_is_evidence_only_when_passed_on_from_someone_else(subject, text, kept):
    stripped = strip_quoted(text, OURS, subject)
    assert (_REPORT in stripped) is kept
    assert "Enviado el" not in stripped and "From:" not in stripped  # never the header block


# --- the opened-parts rule ----------------------------------------------------------------------------

SENSITIVE = OrderLine("STM32F103C8T6", 10, sensitive=True)
PLAIN = OrderLine("NE555P", 100)
ORDER = Order(order_id="SO510002", customer_email=CUSTOMER, ship_date=SHIPPED, delivery_date=DELIVERED,
              shipping_method="DHL Express", boxes=1, lines=(PLAIN, SENSITIVE))

# (id, mails of one claim, in order): each opens the bag of the sensitive line somewhere
SENSITIVE_OPENED = [
    ("one-sentence-list", ["We want to return SO-510002, ordered by mistake. "
                           "We opened the ESD bag of the NE555P and the STM32F103C8T6."]),
    ("two-sentences", ["We want to return SO-510002, ordered by mistake. We opened the ESD bag of the NE555P. "
                       "We also cut open the ESD bag of the STM32F103C8T6."]),
    ("second-sentence-names-none", ["We want to return SO-510002, ordered by mistake. "
                                    "We opened the ESD bag of the NE555P. We also opened the moisture barrier bag."]),
    ("part-number-abbreviated", ["We want to return SO-510002, ordered by mistake. "
                                 "We opened the ESD bags of the NE555P, the STM32F103 too."]),
    ("second-mail", ["We want to return SO-510002, ordered by mistake. We opened the ESD bag of the NE555P.",
                     "Sorry, we also opened the ESD bag of the STM32F103C8T6."]),
]


@pytest.mark.parametrize("mails", [r[1] for r in SENSITIVE_OPENED], ids=[r[0] for r in SENSITIVE_OPENED])
def test_an_opened_sensitive_part_goes_to_review(mails):
    claim = facts(mails[0])
    for later in mails[1:]:
        claim = claim.merged(facts(later))
    claim = dataclasses.replace(claim, kind=ClaimKind.RETURN)
    decision = decide(claim, ORDER, CUSTOMER, RULES, on=DELIVERED + dt.timedelta(days=2))
    assert decision.state is ClaimState.IN_REVIEW
    assert Reason.SENSITIVE_PARTS_OPENED in decision.reasons


def test_an_opened_bag_of_a_plain_part_still_passes():
    """The rule the attacks must not break: the bag of a part the order does not list as sensitive."""
    claim = dataclasses.replace(facts("We opened the ESD bag of the NE555P."), kind=ClaimKind.RETURN,
                                order_number="SO510002")
    decision = decide(claim, ORDER, CUSTOMER, RULES, on=DELIVERED + dt.timedelta(days=2))
    assert Reason.SENSITIVE_PARTS_OPENED not in decision.reasons
