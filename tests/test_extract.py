"""extract.py: ParsedMail -> ClaimFacts (claim kind, statements, missing parts, order number, photos)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random
import re

import pytest
from PIL import Image

from rma_mailbot import extract
from rma_mailbot.demo import sample_report
from rma_mailbot.hostile import huge_picture
from rma_mailbot.models import ClaimKind, Evidence, LabSource, MailClass, ParsedMail, Part
from rma_mailbot.parse import part_of
from rma_mailbot.pdf import read_pdf
from rma_mailbot.pictures import decode_photo

ORDER_PATTERN = re.compile(r"\bSO-?\d{6}\b", re.IGNORECASE)  # policy.order_number_pattern in config.example.toml


def mail(text: str, subject: str = "", parts: tuple[Part, ...] = ()) -> ParsedMail:
    return ParsedMail(
        message_id="<m1@customer.example>",
        sender="jane@customer.example",
        sender_name="Jane",
        subject=subject,
        text=text,
        full_text=text,
        in_reply_to="",
        references=(),
        parts=parts,
        mail_class=MailClass.CUSTOMER,
    )


def facts(text: str, subject: str = "", parts: tuple[Part, ...] = ()):
    return extract.extract(mail(text, subject, parts), ORDER_PATTERN)


KINDS = [
    ("return_nothing_broken", "Kaputt ist an den Teilen nichts, wir möchten die 30 IRF540N zurückschicken.",
     ClaimKind.RETURN),
    ("quality_defective", "The LM2596S modules you sent are defective.", ClaimKind.QUALITY),
    ("quality_counterfeit", "We believe these chips are counterfeit.", ClaimKind.QUALITY),
    ("quality_fake", "These are fake parts, the marking rubs off.", ClaimKind.QUALITY),
    ("quality_not_original", "The STM32 chips are not original.", ClaimKind.QUALITY),
    ("quality_doesnt_work", "The board doesn't work at all.", ClaimKind.QUALITY),
    ("quality_not_working", "Half of the relays are not working.", ClaimKind.QUALITY),
    ("quality_doa", "Two units were dead on arrival.", ClaimKind.QUALITY),
    ("quality_german", "Die Teile sind defekt.", ClaimKind.QUALITY),
    ("missing_pcs", "3 pcs of LM2596S are missing.", ClaimKind.MISSING_ITEMS),
    ("missing_word", "Some items are missing from my order.", ClaimKind.MISSING_ITEMS),
    ("missing_short_shipped", "The order was short-shipped.", ClaimKind.MISSING_ITEMS),
    ("missing_received_of", "We received 37 of 40 NE555P.", ClaimKind.MISSING_ITEMS),
    ("missing_not_in_box", "Two reels were not in the box.", ClaimKind.MISSING_ITEMS),
    ("missing_german", "Es fehlen 5 Stück.", ClaimKind.MISSING_ITEMS),
    ("non_receipt_not_received", "I have not received my order yet.", ClaimKind.NON_RECEIPT),
    ("non_receipt_never_arrived", "The parcel never arrived.", ClaimKind.NON_RECEIPT),
    ("non_receipt_where_is", "Where is my order?", ClaimKind.NON_RECEIPT),
    ("non_receipt_hasnt_arrived", "My package hasn't arrived.", ClaimKind.NON_RECEIPT),
    ("non_receipt_did_not_arrive", "It did not arrive.", ClaimKind.NON_RECEIPT),
    ("non_receipt_still_not", "The shipment has still not been delivered.", ClaimKind.NON_RECEIPT),
    ("return_by_mistake", "I ordered them by mistake.", ClaimKind.RETURN),
    ("return_would_like", "I would like to return the parts.", ClaimKind.RETURN),
    ("return_want_to", "We want to return the order.", ClaimKind.RETURN),
    ("return_no_longer_need", "We no longer need these capacitors.", ClaimKind.RETURN),
    ("return_no_longer_needed", "The parts are no longer needed.", ClaimKind.RETURN),
    ("return_dont_need", "We don't need them any more.", ClaimKind.RETURN),
    ("return_wrong_part_ordered", "Wrong part ordered, sorry.", ClaimKind.RETURN),
    ("unknown_invoice", "Hello, could you send me the invoice?", ClaimKind.UNKNOWN),
    ("unknown_quote", "Can I get a quote for 500 pcs of LM2596S?", ClaimKind.UNKNOWN),
    ("unknown_thanks", "Thanks for the fast delivery!", ClaimKind.UNKNOWN),
    ("unknown_empty", "", ClaimKind.UNKNOWN),
]


@pytest.mark.parametrize(("text", "kind"), [row[1:] for row in KINDS], ids=[row[0] for row in KINDS])
def test_claim_kind(text, kind):
    result = facts(f"Hello,\n{text}\nRegards, Jane")
    assert result.kind is kind
    if kind is ClaimKind.UNKNOWN:
        assert result.kind_sentence == ""
    else:
        assert result.kind_sentence == text  # the sentence staff see as the basis


def test_claim_kind_from_subject():
    result = facts("Please help.", subject="Defective parts in SO104233")
    assert result.kind is ClaimKind.QUALITY
    assert result.kind_sentence == "Defective parts in SO104233"


def test_claim_kind_most_specific_first():
    # A mail about fake parts that also mentions missing ones is a quality claim: it needs the report.
    assert facts("The parts are fake. Also 2 pcs are missing.").kind is ClaimKind.QUALITY


STATEMENTS = [
    ("all_boxes_received", "We received all 3 boxes.", {Evidence.ALL_BOXES_RECEIVED}),
    ("both_parcels_arrived", "Both parcels arrived yesterday.", {Evidence.ALL_BOXES_RECEIVED}),
    ("all_boxes_delivered", "All 3 boxes were delivered.", {Evidence.ALL_BOXES_RECEIVED}),
    ("got_every_carton", "I got every carton of the shipment.", {Evidence.ALL_BOXES_RECEIVED}),
    ("not_all_boxes_arrived", "Not all boxes arrived.", set()),
    ("have_not_received_all", "I have not received all boxes.", set()),
    ("didnt_receive_all", "We didn't receive all the boxes.", set()),
    ("only_some_boxes", "We only received 2 of the 3 boxes.", set()),
    ("emptied_every_box", "We emptied every box.", {Evidence.BOXES_EMPTIED}),
    ("checked_packing_material", "We checked all the packing material.", {Evidence.BOXES_EMPTIED}),
    ("boxes_fully_emptied", "The boxes were fully emptied.", {Evidence.BOXES_EMPTIED}),
    ("havent_emptied_yet", "We haven't emptied the boxes yet.", set()),
    ("not_unpacked", "I have not unpacked the parcel.", set()),
    ("both_statements", "We received all 3 boxes and emptied every box.",
     {Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED}),
    ("one_negated_one_not", "We received all 3 boxes.\nWe haven't emptied the boxes yet.",
     {Evidence.ALL_BOXES_RECEIVED}),
    ("neither", "Please advise.", set()),
]


@pytest.mark.parametrize(("text", "expected"), [row[1:] for row in STATEMENTS], ids=[row[0] for row in STATEMENTS])
def test_statements(text, expected):
    result = facts(text)
    checklist = {Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED}
    assert set(result.confirmed) & checklist == expected
    for statement in result.statements:
        assert statement.sentence in text  # each rests on a sentence the customer wrote


MISSING = [
    ("pcs_of_are_missing", "3 pcs of LM2596S are missing.", (("LM2596S", 3),)),
    ("x_missing", "3x NE555 missing", (("NE555", 3),)),
    ("received_of_part_after", "We received 37 of 40 NE555P.", (("NE555P", 3),)),
    ("part_then_received_of", "LM2596S: received 37 of 40", (("LM2596S", 3),)),
    ("missing_colon_x", "missing: 5 x AMS1117-3.3", (("AMS1117-3.3", 5),)),
    ("missing_pcs_of", "We are missing 2 pcs of LM317T.", (("LM317T", 2),)),
    ("lowercase_part", "2 pcs of lm317t are missing", (("LM317T", 2),)),
    ("two_sentences", "3 pcs of LM2596S are missing. Also missing 2 x NE555P.", (("LM2596S", 3), ("NE555P", 2))),
    ("received_of_no_part", "We received 37 of 40.", (("", 3),)),
    ("received_all", "We received 40 of 40 NE555P.", ()),
    ("no_quantity", "Some parts are missing.", ()),
]


@pytest.mark.parametrize(("text", "expected"), [row[1:] for row in MISSING], ids=[row[0] for row in MISSING])
def test_missing_parts(text, expected):
    result = facts(text)
    assert result.missing_parts == expected
    assert (Evidence.MISSING_QUANTITIES in result.confirmed) is bool(expected)


ORDERS = [
    ("lower_case", "my order so104233 is late", "SO104233"),
    ("dash", "Order SO-104233", "SO104233"),
    ("lower_dash", "order so-104233, thanks", "SO104233"),
    ("in_brackets", "(SO104233)", "SO104233"),
    ("first_of_two", "SO104233 and SO104234", "SO104233"),
    ("too_many_digits", "SO1042335", ""),
    ("glued_prefix", "XSO104233", ""),
    ("too_few_digits", "SO10423", ""),
    ("space_not_allowed", "SO 104233", ""),
    ("none", "no order here", ""),
]


@pytest.mark.parametrize(("text", "expected"), [row[1:] for row in ORDERS], ids=[row[0] for row in ORDERS])
def test_order_number(text, expected):
    assert extract.order_number(text, ORDER_PATTERN) == expected
    assert facts(text).order_number == expected


def test_order_number_from_subject():
    assert facts("Please help.", subject="Re: so-104233 [CLM-00001]").order_number == "SO104233"


def test_order_number_only_in_a_quoted_mail_identifies_the_order():
    # A reply to our shipping notice, quoted below and stripped from the customer's words, names no order itself.
    quoting = dataclasses.replace(mail("Both boxes came, LM358N only 80 of 100."),
                                  full_text="Both boxes came, LM358N only 80 of 100.\n> Your order SO-510013 has "
                                            "shipped.")
    assert extract.extract(quoting, ORDER_PATTERN).order_number == "SO510013"
    own = dataclasses.replace(mail("About SO-510014: both boxes came."),
                              full_text="About SO-510014: both boxes came.\n> Your order SO-510013 has shipped.")
    assert extract.extract(own, ORDER_PATTERN).order_number == "SO510014"  # the customer's own words first


@pytest.mark.parametrize(
    ("value", "expected"),
    [("so104233", "SO104233"), ("SO-104233", "SO104233"), ("so 104233", "SO104233"), ("SO_104233", "SO104233")],
    ids=["lower", "dash", "space", "underscore"],
)
def test_normalise_order_number(value, expected):
    assert extract.normalise_order_number(value) == expected


def _image(fmt: str, size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size)
    # Noise, so the JPEG is big enough that cutting it in half loses real picture data.
    image.putdata([(x * 7 % 256, y * 13 % 256, (x * y) % 256) for y in range(size[1]) for x in range(size[0])])
    image.save(buffer, fmt)
    return buffer.getvalue()


JPEG = _image("JPEG")
PNG = _image("PNG")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

PARTS = [
    ("real_jpeg", part_of("image/jpeg", JPEG, "parcel.jpg"), "image/jpeg", False),
    ("real_png", part_of("image/png", PNG, "parcel.png"), "image/png", False),
    ("png_named_jpg", part_of("image/jpeg", PNG, "parcel.jpg"), "image/png", False),  # the bytes decide
    ("inline_cid_jpeg", part_of("image/jpeg", JPEG, "", content_id="img1@x", inline=True), "image/jpeg", False),
    ("truncated_jpeg", part_of("image/jpeg", JPEG[: len(JPEG) // 2], "cut.jpg"), None, False),
    ("random_bytes_jpg", part_of("image/jpeg", random.Random(7).randbytes(20_000), "noise.jpg"), None, False),
    ("logo_50x50", part_of("image/png", _image("PNG", (50, 50)), "logo.png"), None, False),
    ("tracking_pixel", part_of("image/gif", _image("GIF", (1, 1)), "p.gif"), None, False),
    ("jpeg_pixel", part_of("image/jpeg", _image("JPEG", (1, 1)), "p.jpg"), None, False),
    ("jpeg_spacer_4x300", part_of("image/jpeg", _image("JPEG", (4, 300)), "s.jpg"), None, False),
    ("jpeg_banner_2000x7", part_of("image/jpeg", _image("JPEG", (2000, 7)), "b.jpg"), None, False),
    ("jpeg_narrow_but_a_photo", part_of("image/jpeg", _image("JPEG", (7, 9000)), "n.jpg"), "image/jpeg", False),
    ("pdf_report", part_of("application/pdf", PDF, "report.pdf"), None, True),
    ("pdf_named_jpg", part_of("image/jpeg", PDF, "report.jpg"), None, True),
    ("text_file", part_of("text/plain", b"just some text\n", "notes.txt"), None, False),
]


@pytest.mark.parametrize(("part", "photo_type", "is_report"), [row[1:] for row in PARTS],
                         ids=[row[0] for row in PARTS])
def test_photos_and_reports(part, photo_type, is_report):
    result = facts("Photos attached.", parts=(part,))
    if photo_type is None:
        assert result.photos == ()
    else:
        (photo,) = result.photos
        assert photo.content_type == photo_type
        assert photo.sha256 == hashlib.sha256(part.payload).hexdigest()
        assert (photo.width, photo.height) == Image.open(io.BytesIO(part.payload)).size
        assert photo.size == len(part.payload)
    assert tuple(r.sha256 for r in result.reports) == ((hashlib.sha256(part.payload).hexdigest(),) if is_report
                                                       else ())


def test_same_photo_twice_counts_once():
    twice = (part_of("image/jpeg", JPEG, "a.jpg"), part_of("image/jpeg", JPEG, "b.jpg"))
    result = facts("Photos attached.", parts=twice)
    assert len(result.photos) == 1


def test_two_photos_count_twice():
    result = facts("Photos attached.", parts=(part_of("image/jpeg", JPEG, "a.jpg"), part_of("image/png", PNG, "b.png")))
    assert {p.content_type for p in result.photos} == {"image/jpeg", "image/png"}


@pytest.mark.parametrize(
    ("size", "counts"),
    [((200, 200), True), ((199, 200), False), ((400, 100), True), ((4000, 10), True)],
    ids=["exactly_minimum", "one_row_short", "wide", "very_wide"],
)
def test_photo_minimum_pixels(size, counts):
    assert (decode_photo(_image("PNG", size)) is not None) is counts


def test_decompression_bomb_is_not_a_photo():
    # A PNG whose header claims more pixels than MAX_PHOTO_PIXELS is refused before decoding.
    buffer = io.BytesIO()
    Image.new("1", (12_000, 11_000)).save(buffer, "PNG")
    assert decode_photo(buffer.getvalue()) is None


# (id, the picture, whether it counts): formats without a reduced decode are decoded whole only up to
# MAX_FULL_DECODE_PIXELS; a PNG is checked chunk by chunk instead, at any size.
LARGE = [
    ("png_9000x9000", lambda: huge_picture("PNG"), True),
    ("png_9000x9000_truncated", lambda: huge_picture("PNG")[: len(huge_picture("PNG")) * 2 // 3], False),
    ("png_without_its_end", lambda: PNG[:-12], False),
    ("png_with_a_broken_chunk", lambda: PNG[:100] + bytes([PNG[100] ^ 0xFF]) + PNG[101:], False),
    ("webp_9000x9000", lambda: huge_picture("WEBP", lossless=True), False),
    ("tiff_9000x9000", lambda: huge_picture("TIFF", compression="tiff_deflate"), False),
    ("gif_9000x9000", lambda: huge_picture("GIF", "P"), False),
    ("webp_of_a_phone", lambda: _image("WEBP", (600, 400)), True),
    ("jpeg_9000x9000", lambda: huge_picture("JPEG"), True),
]


@pytest.mark.parametrize(("make", "counts"), [row[1:] for row in LARGE], ids=[row[0] for row in LARGE])
def test_large_pictures_are_checked_without_decoding_them_whole(make, counts):
    assert (decode_photo(make()) is not None) is counts


def test_facts_from_a_full_claim_mail():
    text = ("Hello,\nfor order so-104233 we received all 3 boxes and emptied every box.\n"
            "3 pcs of LM2596S are missing.\nRegards, Jane")
    result = facts(text, subject="Missing items", parts=(part_of("image/jpeg", JPEG, "parcel.jpg"),))
    assert result.order_number == "SO104233"
    assert result.kind is ClaimKind.MISSING_ITEMS
    assert result.confirmed == {Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED, Evidence.MISSING_QUANTITIES}
    assert result.missing_parts == (("LM2596S", 3),)
    assert len(result.photos) == 1


LABS = ("SGS", "Intertek", "TÜV SÜD", "White Horse Laboratories")

# (id, PDF text lines or None for an unreadable PDF, file name, mail text, lab, where found)
REPORTS = [
    ("lab_in_pdf_text", ("Test report 117", "Issued by SGS Taiwan Ltd."), "report.pdf", "", "SGS",
     LabSource.PDF_TEXT),
    ("lab_case_and_spacing", ("tested by   white horse", "laboratories, Texas"), "r.pdf", "",
     "White Horse Laboratories", LabSource.PDF_TEXT),
    ("lab_only_in_filename", ("Test report 117", "Counterfeit suspected"), "Intertek_report.pdf", "", "Intertek",
     LabSource.FILENAME),
    ("lab_only_in_mail_text", ("Test report 117",), "report.pdf", "The report is from TÜV SÜD.", "TÜV SÜD",
     LabSource.MAIL_TEXT),
    ("pdf_text_wins_over_filename", ("Issued by Intertek",), "SGS.pdf", "", "Intertek", LabSource.PDF_TEXT),
    ("unrecognised_lab", ("Issued by Bob's Testing Garage",), "report.pdf", "", "", LabSource.NONE),
    ("lab_name_inside_a_word", ("Issued by SGSX Labs",), "report.pdf", "", "", LabSource.NONE),
    ("unreadable_pdf", None, "report.pdf", "", "", LabSource.NONE),
]


@pytest.mark.parametrize(("lines", "filename", "text", "lab", "found_in"), [row[1:] for row in REPORTS],
                         ids=[row[0] for row in REPORTS])
def test_quality_report_lab(lines, filename, text, lab, found_in):
    payload = sample_report(*lines) if lines is not None else PDF
    part = dataclasses.replace(part_of("application/pdf", payload, filename), pdf=read_pdf(payload))
    result = extract.extract(mail(text or "Report attached.", "", (part,)), ORDER_PATTERN, LABS)
    (report,) = result.reports
    assert (report.lab, report.found_in) == (lab, found_in)
    assert report.sha256 == hashlib.sha256(payload).hexdigest()
    assert bool(report.unreadable) is (lines is None) and report.active == ()


def test_a_pdf_never_read_is_no_evidence():
    payload = sample_report("Issued by SGS Taiwan Ltd.")
    result = extract.extract(mail("Report attached.", "", (part_of("application/pdf", payload, "r.pdf"),)),
                             ORDER_PATTERN, LABS)
    (report,) = result.reports
    assert (report.lab, report.unreadable) == ("", "never read")


# (id, text, opened parts): whose sealed bag a mail says was opened; () is any part's, for staff to look at.
# A part named only in the sentence before is not taken: "We did not touch the AMS1117-3.3. We opened the other
# bag." opened the sensitive part's.
OPENINGS = [
    ("part_named", "We opened the bag of the AMS1117-3.3 to count them.", ("AMS1117-3.3",)),
    # "their bag", "the regulators' bag": the one part the sentence before names
    ("part_before", "We would like to return the 200 AMS1117-3.3. I opened their bag to count them.",
     ("AMS1117-3.3",)),
    # a kind of part ("los reguladores") may be any: staff look
    ("part_before_by_kind", "Nos sobraron los AMS1117-3.3. Abrimos la bolsa de los reguladores.", ()),
    ("part_before_excluded", "We return everything except the AMS1117-3.3. We opened their bags.", ()),
    ("part_before_sealed", "The AMS1117-3.3 is still sealed. We opened their bags.", ()),
    ("part_before_and_more", "We checked the AMS1117-3.3. We opened their bags, and the microcontrollers too.", ()),
    ("package_named", "The AMS1117-3.3 regulators are fine. We opened their bag of LQFP48 chips.", ()),
    ("two_parts_before_their", "We return the AMS1117-3.3 and the STM32F103C8T6. We opened their bags.", ()),
    ("no_sentence_before_their", "I opened their bag to count them.", ()),
    ("a_package_is_no_part", "We opened the AMS1117-3.3 bag: they are SOT-223, we need SOT-89.", ("AMS1117-3.3",)),
    ("other_bag", "We did not touch the AMS1117-3.3. We opened the other bag.", ()),
    ("two_parts_before", "We return the AMS1117-3.3 and the STM32F103C8T6. We opened the bag.", ()),
    ("sealed_bag_named", "The AMS1117-3.3 are fine. We opened the moisture barrier bag as well.", ()),
    ("first_sentence", "We opened the bag.", ()),
    # an opening that excludes a part, or names a bag for no part, names none: staff look
    ("all_bags_except", "We opened all bags except the AMS1117-3.3.", ()),
    ("apart_from", "Apart from the AMS1117-3.3 we opened their bags.", ()),
    ("and_an_unnamed_bag", "We opened the bag of the AMS1117-3.3 and the moisture barrier bag.", ()),
    ("and_all_the_others", "We opened the bag of the AMS1117-3.3 and all the others.", ()),
    ("sauf", "Nous avons ouvert tous les sachets sauf celui des AMS1117-3.3.", ()),
    ("bis_auf", "Bis auf den AMS1117-3.3 haben wir die Beutel geoeffnet.", ()),
    ("and_the_other_bag", "Besides the AMS1117-3.3 bag we also opened the other bag.", ()),
    # the attacker's: a remark between dashes, 了 before the part, words that leave a part out, another bag
    ("dashes_set_a_remark_apart", "We have opened - sorry - the bag of the AMS1117-3.3 and the STM32F103C8T6.",
     ("AMS1117-3.3", "STM32F103C8T6")),
    ("es_dashes", "La bolsa de los MPU-6050 - lo siento mucho - la abrimos ayer.", ("MPU-6050",)),
    ("zh_le_before_the_part", "我们拆开了STM32F103C8T6的袋子。", ("STM32F103C8T6",)),
    ("bar", "We opened the bags bar the AMS1117-3.3.", ()),
    ("mit_ausnahme", "Wir haben die Beutel mit Ausnahme des AMS1117-3.3 geöffnet.", ()),
    ("ohne", "Wir haben die Beutel ohne den AMS1117-3.3 geöffnet.", ()),
    ("hors", "Nous avons ouvert les sachets hors AMS1117-3.3.", ()),
    ("menos", "Abrimos las bolsas menos la de los AMS1117-3.3.", ()),
    ("zh_chu_wai", "除AMS1117-3.3外袋子都拆开了。", ()),
    ("and_the_rest", "We opened the AMS1117-3.3 bag and the rest.", ()),
    ("plus_the_one_with", "We opened the AMS1117-3.3 bag plus the one with the microcontrollers.", ()),
    ("puis_l_autre", "Nous avons ouvert le sachet des AMS1117-3.3, puis l'autre.", ()),
    ("same_for_the_next", "We opened the AMS1117-3.3 bag. Same for the STM32F103C8T6.",
     ("AMS1117-3.3", "STM32F103C8T6")),
    ("next_still_sealed", "We opened the AMS1117-3.3 bag. The STM32F103C8T6 bag is still sealed.", ("AMS1117-3.3",)),
    ("zh_that_one_pack", "我们只拆开了 AMS1117-3.3 的那一包；STM32F103C8T6 的防潮袋全部原封未动。", ("AMS1117-3.3",)),
    ("only_the_named_bag", "We only opened the bag of the AMS1117-3.3, the other bag is still sealed.",
     ("AMS1117-3.3",)),
    ("partial_after_the_part", "J'ai ouvert le sachet des AMS1117-3.3 pour en compter quelques-uns.",
     ("AMS1117-3.3",)),
]


@pytest.mark.parametrize(("text", "opened"), [row[1:] for row in OPENINGS], ids=[row[0] for row in OPENINGS])
def test_the_parts_whose_bag_was_opened(text, opened):
    found = facts(text, "Return SO104233")
    assert found.opened_sensitive and found.opened_parts == opened


def test_the_kind_model_never_overrules_a_defect():
    """A return because parts are defective is a quality claim: it needs a lab report (the model alone reads
    "we want to return them" as a return)."""
    found = facts("Order SO104233: the AMS1117-3.3 are defective, we want to return them.")
    assert (found.kind, found.kind_by_model) == (ClaimKind.QUALITY, False)
