"""What customers write, as patterns: claim kinds, statements, negations, quantities.

English first; German, French, Spanish and Chinese phrasings serve a global distributor. Every
pattern here has rows in tests/test_extract.py and tests/test_phrases.py.
"""

from __future__ import annotations

import re

from rma_mailbot.models import ClaimKind, Evidence

SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")
NEGATION = re.compile(
    r"\b(not|no|never|none|neither|nor|haven'?t|hasn'?t|hadn'?t|didn'?t|don'?t|doesn'?t|isn'?t|aren'?t|"
    r"wasn'?t|weren'?t|cannot|can'?t|couldn'?t|only|nicht|kein\w*|pas|jamais|ningún|ninguna|nunca)\b|[没未不]",
    re.IGNORECASE,
)

# First match wins, so the most specific kinds come first.
KIND_PATTERNS: tuple[tuple[ClaimKind, re.Pattern[str]], ...] = (
    (ClaimKind.QUALITY, re.compile(
        r"\b(defect\w*|faulty|broken|damaged|fake|counterfeit|non[- ]?original|not original|not genuine|"
        r"(does|do|did)\s?n[o']t work|not working|dead on arrival|doa|quality (problem|issue)|"
        r"defekt|gefälscht|défectueux|contrefa\w+|defectuos[oa]|falsificad[oa])\b|质量|假货|有缺陷", re.IGNORECASE)),
    (ClaimKind.MISSING_ITEMS, re.compile(
        r"\b(missing|short[- ]?shipped|not (in|inside) the (box|parcel|package)|fehl(en|t|ende)|manquant\w*|"
        r"falta\w*)\b|received \d+ (of|out of) \d+|缺少|少了", re.IGNORECASE)),
    (ClaimKind.NON_RECEIPT, re.compile(
        r"\b(not (yet )?(received|arrived|delivered)|(never|still not|hasn'?t|has not|have not|haven'?t) "
        r"(been )?(received|arrived|delivered|got)|did(n'?t| not) (arrive|receive|get)|where is my "
        r"(order|parcel|package)|nicht (angekommen|erhalten|geliefert)|pas (reçu|arrivé)|no (he )?recibido|"
        r"no ha llegado)\b|没有收到|未收到", re.IGNORECASE)),
    (ClaimKind.RETURN, re.compile(
        r"\b(ordered (it |them )?(by mistake|wrongly|in error)|wrong part (ordered|number)|"
        r"no longer need(ed)?|not needed|don'?t need|do not need|want to return|would like to return|"
        r"return (it|them|the (parts|items|order))|zurückschicken|zurücksenden|retourner|devolver)\b|退货",
        re.IGNORECASE)),
)

STATEMENT_PATTERNS: tuple[tuple[Evidence, re.Pattern[str]], ...] = (
    (Evidence.ALL_BOXES_RECEIVED, re.compile(
        r"\b(received|got|have|arrived)\b.{0,30}\b(all|both|every|each)\b.{0,20}\b(boxes|box|parcels?|"
        r"packages?|cartons?)\b|\b(all|both)( \w+){0,2} (boxes|parcels|packages|cartons)\b.{0,30}\b(arrived|"
        r"received|came|delivered)\b|alle (pakete|kartons) (sind )?(erhalten|angekommen)",
        re.IGNORECASE)),
    (Evidence.BOXES_EMPTIED, re.compile(
        r"\b(emptied|unpacked|went through|searched|checked)\b.{0,40}\b(box(es)?|parcels?|packages?|"
        r"packing|packaging|material|cartons?)\b|\b(boxes|box|parcels?|packages?|cartons?)\b.{0,30}\b"
        r"(fully |completely )?(emptied|unpacked)\b|(vollständig )?geleert",
        re.IGNORECASE)),
)

PART = r"[A-Z0-9][A-Z0-9\-/.#]{2,30}"
QUANTITY_PATTERNS = (
    # "3 pcs of LM2596S are missing", "3x NE555 missing"
    re.compile(rf"\b(?P<qty>\d{{1,6}})\s*(?:x|pcs\.?|pieces|units|ea|stk\.?|stück)?\s*(?:of\s+)?"
               rf"(?P<part>{PART})\b.{{0,30}}\b(?:missing|short|fehl\w*|manquant\w*)", re.IGNORECASE),
    # "missing: 3 pcs LM2596S", "missing 3 x LM2596S"
    re.compile(rf"\bmissing\b\W{{0,3}}(?P<qty>\d{{1,6}})\s*(?:x|pcs\.?|pieces|units)?\s*(?:of\s+)?"
               rf"(?P<part>{PART})\b", re.IGNORECASE),
    # "LM2596S: received 37 of 40"
    re.compile(rf"(?P<part>{PART})\b.{{0,20}}\breceived\s+(?P<got>\d{{1,6}})\s+(?:of|out of)\s+"
               rf"(?P<want>\d{{1,6}})", re.IGNORECASE),
    # "received 37 of 40 LM2596S"
    re.compile(rf"\breceived\s+(?P<got>\d{{1,6}})\s+(?:of|out of)\s+(?P<want>\d{{1,6}})\s*(?:x|pcs\.?|pieces|"
               rf"units)?\s*(?:of\s+)?(?P<part>{PART})?", re.IGNORECASE),
)
NOT_A_PART = {"PCS", "PIECES", "UNITS", "THE", "ARE", "WERE", "ITEMS", "PARTS", "BOXES", "OF"}


# "We opened the ESD bag": parts that must stay sealed outside controlled conditions.
OPENED_SENSITIVE = re.compile(
    r"\b(opened|unsealed|cut open|broke the seal of|took (them|it|the parts) out of)\b.{0,40}\b(bags?|esd|"
    r"moisture|mbb|vacuum|seal(ed)?|reels?|trays?|packaging)\b|\b(bags?|seal|packaging)\b.{0,30}\b(was|were|"
    r"has been|have been) opened\b",
    re.IGNORECASE,
)
