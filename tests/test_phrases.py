"""phrases.py: how customers say it, one row per phrasing, through parse() and extract() as a real mail.

Row ids start with the language (en, de, fr, es, zh). Rows where a statement is said but negated also
check that the bare pattern does match the sentence: what they prove is the negation, not a miss.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from rma_mailbot.extract import extract, sentences
from rma_mailbot.models import ClaimKind, Evidence
from rma_mailbot.parse import parse
from rma_mailbot.phrases import OPENED_SENSITIVE, STATEMENT_PATTERNS

ORDER_PATTERN = re.compile(r"\bSO-?\d{6}\b", re.IGNORECASE)
SUBJECT = "Order SO104233"  # says no claim kind, so the body decides

QUALITY, MISSING, NON_RECEIPT, RETURN, UNKNOWN = (ClaimKind.QUALITY, ClaimKind.MISSING_ITEMS,
                                                  ClaimKind.NON_RECEIPT, ClaimKind.RETURN, ClaimKind.UNKNOWN)
BOXES, EMPTIED = Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED
CHECKLIST = {BOXES, EMPTIED}


def facts(text: str, subject: str = SUBJECT):
    message = EmailMessage()
    message["From"] = "Jane Doe <jane@customer.example>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = "<claim-1@customer.example>"
    message.set_content(f"Hello,\n\n{text}\n\nBest regards\nJane Doe\n", charset="utf-8")
    return extract(parse(message.as_bytes()), ORDER_PATTERN)


def rows(*table):
    return [pytest.param(*row[1:], id=row[0]) for row in table]


KINDS = rows(
    # quality
    ("en-defective", "The LM2596S modules you sent are defective.", QUALITY),
    ("en-faulty", "Several of the relays are faulty.", QUALITY),
    ("en-non-original", "These STM32F103C8T6 are non-original parts.", QUALITY),
    ("en-fake", "The chips are fake, the laser marking is wrong.", QUALITY),
    ("en-counterfeit", "We suspect counterfeit ICs in this lot.", QUALITY),
    ("en-doesnt-work-typographic", "The regulator doesn’t work.", QUALITY),
    ("en-do-not-work", "The MOSFETs do not work in our circuit.", QUALITY),
    ("en-isnt-working", "The module isn't working at all.", QUALITY),
    ("en-wont-power-on", "The board won't power on.", QUALITY),
    ("en-stopped-working", "Two units stopped working after an hour.", QUALITY),
    ("en-failed-inspection", "The batch failed our incoming inspection.", QUALITY),
    ("en-not-genuine", "We think the parts are not genuine.", QUALITY),
    ("en-poor-quality", "Very poor quality, the pins are bent.", QUALITY),
    ("en-quality-issue", "We have a quality issue with SO104233.", QUALITY),
    ("en-fake-beats-missing", "Two chips are fake and 3 pcs are missing.", QUALITY),
    ("de-fehlerhaft", "Die gelieferten Teile sind fehlerhaft.", QUALITY),
    ("de-funktioniert-nicht", "Der Regler funktioniert nicht.", QUALITY),
    ("de-gefaelscht", "Die Chips sind gefälscht.", QUALITY),
    ("fr-defectueux", "Les modules sont défectueux.", QUALITY),
    ("fr-ne-fonctionne-pas", "Le régulateur ne fonctionne pas.", QUALITY),
    ("fr-contrefacon", "Ce sont des contrefaçons.", QUALITY),
    ("es-defectuosos", "Los módulos son defectuosos.", QUALITY),
    ("es-no-funciona", "El regulador no funciona.", QUALITY),
    ("es-falsificados", "Los chips son falsificados.", QUALITY),
    ("zh-quality-problem", "这批芯片有质量问题。", QUALITY),
    ("zh-fake", "收到的是假货。", QUALITY),
    ("zh-not-working", "模块不工作。", QUALITY),
    # missing items
    ("en-pcs-missing", "3 pcs of LM2596S are missing.", MISSING),
    ("en-parts-missing", "Some parts are missing from the box.", MISSING),
    ("en-short-shipment", "This is a short shipment.", MISSING),
    ("en-shipped-short", "The order was shipped short.", MISSING),
    ("en-received-fewer", "We received fewer parts than we ordered.", MISSING),
    ("en-received-of", "We received 37 of 40 NE555P.", MISSING),
    ("en-got-instead-of", "We got 90 instead of 100 NE555P.", MISSING),
    ("en-arrived-but-missing", "The parcel arrived but 3 pcs are missing.", MISSING),
    ("en-not-received-the-missing", "I have not received the missing parts.", MISSING),
    ("en-incomplete-order", "The order is incomplete.", MISSING),
    ("en-parcel-missing-parts", "The parcel is missing 3 pcs of LM2596S.", MISSING),
    ("de-es-fehlen", "Es fehlen 3 Stück LM2596S.", MISSING),
    ("de-unvollstaendig", "Die Lieferung ist unvollständig.", MISSING),
    ("fr-il-manque", "Il manque 3 pièces de LM2596S.", MISSING),
    ("fr-articles-manquants", "Il y a des articles manquants.", MISSING),
    ("fr-recu-que-sur", "Nous n'avons reçu que 37 pièces sur 40.", MISSING),
    ("es-faltan", "Faltan 3 unidades de LM2596S.", MISSING),
    ("es-pedido-incompleto", "El pedido está incompleto.", MISSING),
    ("zh-shao-le", "少了3个LM2596S。", MISSING),
    ("zh-que-shao", "LM2596S 缺少3个。", MISSING),
    # non-receipt
    ("en-parcel-not-received", "Parcel not received.", NON_RECEIPT),
    ("en-order-not-arrived", "My order has not arrived yet.", NON_RECEIPT),
    ("en-havent-received", "We haven’t received our order.", NON_RECEIPT),
    ("en-never-arrived", "The package never arrived.", NON_RECEIPT),
    ("en-where-is-my-order", "Where is my order?", NON_RECEIPT),
    ("en-where-is-my-parcel", "Where is my parcel?", NON_RECEIPT),
    ("en-tracking-shows-nothing", "The tracking shows nothing since last week.", NON_RECEIPT),
    ("en-no-tracking-update", "There is no tracking update for 10 days.", NON_RECEIPT),
    ("en-didnt-get", "I didn't get my order.", NON_RECEIPT),
    ("en-still-waiting", "We are still waiting for our parcel.", NON_RECEIPT),
    ("en-parcel-is-missing", "Our parcel is missing.", NON_RECEIPT),
    ("en-lost-in-transit", "It seems the package was lost in transit.", NON_RECEIPT),
    ("de-nicht-angekommen", "Das Paket ist noch nicht angekommen.", NON_RECEIPT),
    ("de-wo-ist", "Wo ist meine Bestellung?", NON_RECEIPT),
    ("fr-pas-recu", "Nous n'avons toujours pas reçu la commande.", NON_RECEIPT),
    ("fr-ou-est", "Où est mon colis ?", NON_RECEIPT),
    ("es-no-ha-llegado", "El paquete no ha llegado.", NON_RECEIPT),
    ("es-no-hemos-recibido", "No hemos recibido el pedido.", NON_RECEIPT),
    ("zh-mei-you-shou-dao", "我们还没有收到包裹。", NON_RECEIPT),
    ("zh-order-where", "我的订单在哪里？", NON_RECEIPT),
    # return
    ("en-ordered-by-mistake", "I ordered them by mistake.", RETURN),
    ("en-ordered-wrong-part", "We ordered the wrong part.", RETURN),
    ("en-wrong-part-ordered", "Wrong part ordered, sorry.", RETURN),
    ("en-no-longer-needed", "The capacitors are no longer needed.", RETURN),
    ("en-want-to-return", "We want to return the unused reels.", RETURN),
    ("en-send-back", "Can we send them back?", RETURN),
    ("en-send-the-parts-back", "I would like to send the parts back.", RETURN),
    ("en-cancel-and-return", "Please cancel and return the order.", RETURN),
    ("en-dont-need", "We don't need them any more.", RETURN),
    ("en-not-defective-just-return", "The parts are not defective, we simply no longer need them.", RETURN),
    ("en-nothing-missing-just-return", "Nothing is missing, we just want to return the order.", RETURN),
    ("de-versehentlich-bestellt", "Ich habe die Teile versehentlich bestellt.", RETURN),
    ("de-zuruecksenden", "Wir möchten die Ware zurücksenden.", RETURN),
    ("de-nicht-mehr", "Wir brauchen die Teile nicht mehr.", RETURN),
    ("de-nicht-defekt-falsch-bestellt", "Die Teile sind nicht defekt, wir haben sie falsch bestellt.", RETURN),
    ("fr-par-erreur", "J'ai commandé ces pièces par erreur.", RETURN),
    ("fr-retourner", "Je voudrais retourner la commande.", RETURN),
    ("es-por-error", "Los pedí por error y quiero devolverlos.", RETURN),
    ("es-ya-no-necesitamos", "Ya no los necesitamos.", RETURN),
    ("zh-tui-huo", "我想退货。", RETURN),
    ("zh-mai-cuo", "我买错了型号。", RETURN),
    # none of them
    ("en-unknown-invoice", "Could you send me the invoice?", UNKNOWN),
    ("en-unknown-quote", "Can I get a quote for 500 pcs of LM2596S?", UNKNOWN),
    ("en-unknown-return-policy", "What is your return policy?", UNKNOWN),
    ("en-unknown-thanks", "Thank you, everything arrived in good order.", UNKNOWN),
    ("en-unknown-invoice-missing", "The invoice is missing from the parcel.", UNKNOWN),
    ("en-unknown-missing-datasheet", "We are missing the datasheet.", UNKNOWN),
    ("en-unknown-not-defective", "The parts are not defective.", UNKNOWN),
    ("en-unknown-nothing-missing", "Nothing is missing.", UNKNOWN),
    # seen in real mail (corpus/): none of these is a claim
    ("en-unknown-didnt-work-out", "Sorry it didn't work out.", UNKNOWN),
    ("en-unknown-no-need-to-resend", "You do not need to resend your message.", UNKNOWN),
    ("en-unknown-fake-domain", "Please write to info@fake.com for details.", UNKNOWN),
    ("fr-unknown-renvoyer-le-message", "Essayez de renvoyer le message.", UNKNOWN),
    ("es-unknown-por-falta-de-uso", "Esta casilla ha expirado por falta de uso.", UNKNOWN),
    ("de-unknown-rechnung", "Bitte senden Sie mir die Rechnung.", UNKNOWN),
    ("zh-unknown-thanks", "谢谢，货已收到。", UNKNOWN),
)


@pytest.mark.parametrize(("text", "kind"), KINDS)
def test_claim_kind(text, kind):
    result = facts(text)
    assert result.kind is kind
    if kind is UNKNOWN:
        assert result.kind_sentence == ""
    else:
        assert result.kind_sentence and result.kind_sentence in text  # the customer's words, not the greeting


STATEMENTS = rows(
    # all boxes received
    ("en-received-all-3-boxes", "We received all 3 boxes.", {BOXES}),
    ("en-both-cartons-arrived", "Both cartons arrived on Monday.", {BOXES}),
    ("en-all-packages-delivered", "All packages were delivered.", {BOXES}),
    ("en-got-every-box", "I got every box.", {BOXES}),
    ("en-received-all-of-the-parcels", "We have received all of the parcels.", {BOXES}),
    ("en-all-boxes-have-arrived", "All boxes have arrived.", {BOXES}),
    ("en-the-two-boxes-arrived", "The two boxes arrived yesterday.", {BOXES}),
    ("en-3-of-3-boxes", "We received 3/3 boxes.", {BOXES}),
    ("en-have-both-cartons", "We have both cartons here.", {BOXES}),
    ("en-nothing-else-missing", "We received all boxes, nothing else is missing.", {BOXES}),
    ("en-no-problem-comma", "No problem, all boxes arrived.", {BOXES}),
    ("en-not-sure-but", "Not sure what happened but all boxes arrived.", {BOXES}),
    ("en-but-not-all-parts", "We received all boxes but not all parts.", {BOXES}),
    ("en-dont-know-why-but", "I don't know why, but we received all boxes.", {BOXES}),
    ("de-alle-pakete-erhalten", "Wir haben alle Pakete erhalten.", {BOXES}),
    ("de-beide-kartons", "Beide Kartons sind angekommen.", {BOXES}),
    ("de-alle-drei-pakete", "Alle drei Pakete wurden geliefert.", {BOXES}),
    ("de-kein-problem-comma", "Kein Problem, alle Pakete sind angekommen.", {BOXES}),
    ("fr-tous-les-colis", "Nous avons reçu tous les colis.", {BOXES}),
    ("fr-les-deux-cartons", "Les deux cartons sont bien arrivés.", {BOXES}),
    ("fr-pas-de-probleme-comma", "Pas de problème, nous avons reçu tous les colis.", {BOXES}),
    ("es-todas-las-cajas", "Recibimos todas las cajas.", {BOXES}),
    ("es-llegaron-las-dos", "Llegaron las dos cajas.", {BOXES}),
    ("es-no-hay-problema-comma", "No hay problema, recibimos todas las cajas.", {BOXES}),
    ("zh-suoyou-xiangzi", "所有箱子都收到了。", {BOXES}),
    ("zh-liang-ge-xiangzi", "两个箱子都收到了。", {BOXES}),
    ("zh-shoudao-suoyou-baoguo", "我们收到了所有包裹。", {BOXES}),
    ("zh-mei-wenti-comma", "没问题，所有箱子都收到了。", {BOXES}),
    ("zh-bag-not-opened-all-boxes", "我们没有打开防静电袋，所有箱子都收到了。", {BOXES}),
    # boxes emptied
    ("en-emptied-every-box", "We emptied every box.", {EMPTIED}),
    ("en-unpacked-all-completely", "We unpacked all boxes completely.", {EMPTIED}),
    ("en-checked-packing-material", "We checked all the packing material.", {EMPTIED}),
    ("en-went-through-packaging", "I went through the packaging twice.", {EMPTIED}),
    ("en-searched-every-carton", "We searched every carton.", {EMPTIED}),
    ("en-boxes-completely-emptied", "The boxes were completely emptied.", {EMPTIED}),
    ("en-took-everything-out", "We took everything out of the boxes.", {EMPTIED}),
    ("en-boxes-are-empty", "The boxes are completely empty now.", {EMPTIED}),
    ("de-vollstaendig-geleert", "Wir haben alle Kartons vollständig geleert.", {EMPTIED}),
    ("de-jeden-karton-ausgepackt", "Wir haben jeden Karton ausgepackt.", {EMPTIED}),
    ("de-fuellmaterial-durchsucht", "Das Füllmaterial haben wir genau durchsucht.", {EMPTIED}),
    ("fr-vide-tous-les-cartons", "Nous avons vidé tous les cartons.", {EMPTIED}),
    ("fr-cartons-entierement-vides", "Les cartons ont été entièrement vidés.", {EMPTIED}),
    ("fr-fouille-emballage", "Nous avons fouillé tout le matériel d'emballage.", {EMPTIED}),
    ("es-vaciamos-todas", "Vaciamos todas las cajas.", {EMPTIED}),
    ("es-hemos-vaciado-cada", "Hemos vaciado cada caja.", {EMPTIED}),
    ("es-revisamos-embalaje", "Revisamos todo el material de embalaje.", {EMPTIED}),
    ("zh-meige-xiangzi-qingkong", "每个箱子都清空了。", {EMPTIED}),
    ("zh-jiancha-baozhuang", "我们检查了所有包装材料。", {EMPTIED}),
    # both, and in one sentence
    ("en-both-statements", "We received all 3 boxes and emptied every box.", {BOXES, EMPTIED}),
    ("de-both-statements", "Wir haben alle Pakete erhalten und alle Kartons vollständig geleert.", {BOXES, EMPTIED}),
    ("zh-both-statements", "所有箱子都收到了，每个箱子都清空了。", {BOXES, EMPTIED}),
    # not said at all: false positives to keep out
    ("en-one-of-two-boxes", "One of the two boxes arrived.", set()),
    ("en-only-one-of-two-boxes", "Only one of the two boxes arrived.", set()),
    ("en-invoice-but-not-all-boxes", "We received the invoice but not all boxes.", set()),
    ("en-2-of-3-boxes", "We received 2/3 boxes.", set()),
    ("en-all-boxes-except-one", "We received all boxes except one.", set()),
    ("en-checked-packing-list", "We checked the packing list.", set()),
    ("en-have-checked-each-box", "We have opened each box.", set()),
    ("en-question", "Should we empty the boxes?", set()),
    ("es-una-de-las-dos", "Recibimos una de las dos cajas.", set()),
    ("es-solo-una-de-las-dos", "Solo recibimos una de las dos cajas.", set()),
    ("fr-qu-un-seul-des-deux", "Nous n'avons reçu qu'un seul des deux colis.", set()),
)


@pytest.mark.parametrize(("text", "expected"), STATEMENTS)
def test_statements(text, expected):
    result = facts(text)
    assert set(result.confirmed) & CHECKLIST == expected
    for statement in result.statements:
        assert statement.sentence in text


# Said, but negated (or only asked): the statement does not count.
NEGATED_STATEMENTS = rows(
    ("en-not-all-boxes-arrived", "Not all boxes arrived.", BOXES),
    ("en-have-not-received-all", "I have not received all boxes.", BOXES),
    ("en-didnt-receive-all-typographic", "We didn’t receive all the boxes.", BOXES),
    ("en-all-boxes-never-arrived", "All the boxes we ordered never arrived.", BOXES),
    ("en-all-boxes-have-not-arrived", "All boxes have not arrived yet.", BOXES),
    ("en-still-not-received-all", "We have still not received all 3 boxes.", BOXES),
    ("en-question-receive-all", "Do we have to receive all boxes before we claim?", BOXES),
    ("en-havent-comma-received", "We haven't, as far as I know, received all boxes.", BOXES),
    ("en-yet-to-receive", "We are yet to receive all boxes.", BOXES),
    ("en-havent-emptied-yet", "We haven't emptied the boxes yet.", EMPTIED),
    ("en-not-unpacked", "I have not unpacked the parcel.", EMPTIED),
    ("en-not-yet-checked-all", "We have not yet checked all the packing material.", EMPTIED),
    ("de-nicht-alle-pakete", "Wir haben nicht alle Pakete erhalten.", BOXES),
    ("de-nicht-alle-angekommen", "Es sind nicht alle Kartons angekommen.", BOXES),
    ("de-noch-nicht-geleert", "Wir haben die Kartons noch nicht geleert.", EMPTIED),
    ("de-nicht-vollstaendig-geleert", "Wir haben die Kartons nicht vollständig geleert.", EMPTIED),
    ("fr-pas-recu-tous", "Nous n'avons pas reçu tous les colis.", BOXES),
    ("fr-pas-encore-vide", "Nous n'avons pas encore vidé les cartons.", EMPTIED),
    ("es-no-recibimos-todas", "No recibimos todas las cajas.", BOXES),
    ("es-no-hemos-vaciado", "No hemos vaciado las cajas.", EMPTIED),
    ("zh-bingfei-suoyou", "并非所有箱子都收到。", BOXES),
    ("zh-meiyou-shoudao-suoyou", "没有收到所有箱子。", BOXES),
    ("zh-huan-meiyou-qingkong", "我们还没有清空箱子。", EMPTIED),
)


@pytest.mark.parametrize(("text", "evidence"), NEGATED_STATEMENTS)
def test_negated_statements(text, evidence):
    assert dict(STATEMENT_PATTERNS)[evidence].search(text), "the statement itself must be recognised"
    assert evidence not in facts(text).confirmed


OPENED = rows(
    ("en-opened-esd-bag", "We opened the ESD bag to count the parts.", True),
    ("en-mbb-was-opened", "The moisture barrier bag was opened.", True),
    ("en-cut-open-sealed-bag", "I cut open the sealed bag to check.", True),
    ("en-opened-vacuum-pack", "We opened the vacuum pack.", True),
    ("en-broke-reel-seal", "We broke the reel seal.", True),
    ("en-took-out-of-antistatic-bag", "We took the chips out of the antistatic bag.", True),
    ("en-opened-the-bag", "Yes, we opened the bag.", True),
    ("en-no-problem-opened", "No worries, we opened the ESD bags in our ESD-safe area.", True),
    ("en-not-box-but-bag", "We did not open the box but we opened the ESD bag.", True),
    ("en-box-and-bag", "We opened the box and the ESD bag.", True),
    ("en-bag-which-we-opened", "The reel came in an ESD bag which we opened in our ESD area.", True),
    ("en-vacuum-seal-broken", "The vacuum seal was broken.", True),
    ("en-removed-from-mbb", "We removed the reel from the moisture barrier bag.", True),
    ("de-esd-beutel-geoeffnet", "Wir haben den ESD-Beutel geöffnet.", True),
    ("de-vakuumverpackung", "Die Vakuumverpackung wurde aufgeschnitten.", True),
    ("fr-ouvert-sachet-esd", "Nous avons ouvert le sachet ESD.", True),
    ("fr-sachet-a-ete-ouvert", "Le sachet antistatique a été ouvert.", True),
    ("es-abrimos-bolsa", "Abrimos la bolsa ESD.", True),
    ("es-bolsa-fue-abierta", "La bolsa antiestática fue abierta.", True),
    ("zh-dakai-fangjingdiandai", "我们打开了防静电袋。", True),
    ("zh-chaikai-zhenkong", "拆开了真空包装。", True),
    ("zh-fangchaodai-yijing-dakai", "防潮袋已经打开。", True),
    ("zh-bu-xiaoxin-by-accident", "我们不小心打开了防静电袋。", True),
    ("zh-bu-de-bu-had-to", "我们不得不打开防静电袋检查。", True),
    # not said: opening the shipping box is normal, and a question is no statement
    ("en-opened-the-box", "We opened the box and 3 pcs are missing.", False),
    ("en-opened-parcel-found-bags", "We opened the parcel and found the bags inside.", False),
    ("en-parts-in-bag-broken", "The parts inside the bag were broken.", False),
    ("en-unopened-bags", "The parts are still in the unopened ESD bags.", False),
    ("fr-ouvert-le-carton", "Nous avons ouvert le carton et les sachets sont intacts.", False),
    ("es-abierto-la-caja", "Hemos abierto la caja y las bolsas estaban intactas.", False),
    ("en-question-open-bag", "Can we open the ESD bag to count the parts?", False),
    ("de-karton-geoeffnet", "Wir haben den Karton geöffnet.", False),
    ("zh-dakai-xiangzi", "我们打开了箱子。", False),
)


@pytest.mark.parametrize(("text", "opened"), OPENED)
def test_opened_sensitive(text, opened):
    result = facts(text)
    assert result.opened_sensitive == (text if opened else "")


NEGATED_OPENED = rows(
    ("en-have-not-opened", "We have not opened the bag."),
    ("en-never-opened", "The bag was never opened."),
    ("en-mbb-not-opened", "The moisture barrier bag has not been opened."),
    ("en-did-not-cut-open", "We did not cut open the sealed bag."),
    ("en-have-not-comma-opened", "We have not, however, opened the bag."),
    ("en-nobody-opened", "Nobody opened the bag."),
    ("de-nicht-geoeffnet", "Wir haben den Beutel nicht geöffnet."),
    ("de-esd-beutel-nicht-geoeffnet", "Die ESD-Beutel wurden nicht geöffnet."),
    ("fr-pas-ouvert", "Nous n'avons pas ouvert le sachet."),
    ("es-no-abrimos", "No abrimos la bolsa."),
    ("zh-meiyou-dakai", "没有打开防静电袋。"),
    ("zh-wei-dakai", "防静电袋未打开。"),
    ("zh-bu-hui-dakai", "我们不会打开防静电袋。"),
)


@pytest.mark.parametrize("text", NEGATED_OPENED)
def test_negated_opened_sensitive(text):
    assert OPENED_SENSITIVE.search(text), "the opening itself must be recognised"
    assert facts(text).opened_sensitive == ""


MISSING_PARTS = rows(
    ("en-pcs-of-are-missing", "3 pcs of LM2596S are missing.", (("LM2596S", 3),)),
    ("en-received-37-of-40", "We received 37 of 40.", (("", 3),)),
    ("en-received-of-part", "We received 37 of 40 NE555P.", (("NE555P", 3),)),
    ("en-received-only-out-of", "We only received 37 pcs out of 40 LM2596S.", (("LM2596S", 3),)),
    ("en-part-received-of", "LM2596S: received 37 of 40", (("LM2596S", 3),)),
    ("en-missing-colon-x", "missing: 5 x AMS1117-3.3", (("AMS1117-3.3", 5),)),
    ("en-reels-short", "2 reels of STM32F103C8T6 short", (("STM32F103C8T6", 2),)),
    ("en-got-instead-of", "We got 90 instead of 100 NE555P.", (("NE555P", 10),)),
    ("en-missing-two-parts", "missing 5 AMS1117-3.3 and 3 pcs of LM2596S",
     (("AMS1117-3.3", 5), ("LM2596S", 3))),
    ("en-two-parts-are-missing", "5 pcs AMS1117-3.3 and 3 pcs LM2596S are missing.",
     (("AMS1117-3.3", 5), ("LM2596S", 3))),
    ("en-missing-items-list", "Missing items: 3 x LM2596S, 2 x NE555P, 1 x LM317T.",
     (("LM2596S", 3), ("NE555P", 2), ("LM317T", 1))),
    ("en-received-but-missing", "We received 100 pcs of NE555P but 3 pcs of LM2596S are missing.",
     (("LM2596S", 3),)),
    ("en-received-and-missing", "We received 100 pcs NE555P and 3 pcs LM2596S are missing.", (("LM2596S", 3),)),
    ("en-received-of-and-missing", "We received 37 of 40 NE555P and 5 pcs of LM2596S are missing.",
     (("NE555P", 3), ("LM2596S", 5))),
    ("en-short-pcs-of", "We are short 4 pcs of LM317T.", (("LM317T", 4),)),
    ("en-part-colon-missing", "AMS1117-3.3: 5 pcs missing", (("AMS1117-3.3", 5),)),
    ("en-part-missing-qty", "LM2596S missing 3 pcs", (("LM2596S", 3),)),
    ("en-the-pcs-still-missing", "The 2 pcs of BSS138 are still missing.", (("BSS138", 2),)),
    ("en-pcs-dot", "3 pcs. of LM2596S are missing.", (("LM2596S", 3),)),
    ("en-diode", "Missing 10 pieces of 1N4148.", (("1N4148", 10),)),
    ("en-lowercase-part", "2 pcs of lm317t are missing", (("LM317T", 2),)),
    ("en-two-sentences", "3 pcs of LM2596S are missing. Also missing 2 x NE555P.", (("LM2596S", 3), ("NE555P", 2))),
    ("en-received-all", "We received 40 of 40 NE555P.", ()),
    ("en-quote-is-no-claim", "Please quote 500 pcs of LM2596S.", ()),
    ("en-no-quantity", "Some parts are missing.", ()),
    ("en-order-number-no-quantity", "Order no. 104233 is incomplete.", ()),
    ("en-order-number-is-no-part", "Our order SO104233: 3 pcs missing", (("", 3),)),
    ("en-pcs-without-part", "We are missing 3 pcs.", (("", 3),)),
    ("en-missing-boxes-are-no-parts", "2 boxes are missing.", ()),
    ("en-weeks-are-no-part", "We are missing 2 weeks of production because 3 pcs of LM2596S are missing.",
     (("LM2596S", 3),)),
    ("en-x7r-is-a-part-not-x", "5 X7R capacitors are missing.", (("X7R", 5),)),
    ("en-glued-digits-are-no-count", "Gmail said: 550-5.7.25 from IPs with missing PTR records.", ()),
    ("de-stueck-fehlen", "3 Stück LM2596S fehlen.", (("LM2596S", 3),)),
    ("de-es-fehlen", "Es fehlen 3 Stück LM2596S.", (("LM2596S", 3),)),
    ("de-von-erhalten", "Wir haben nur 37 von 40 LM2596S erhalten.", (("LM2596S", 3),)),
    ("de-zwei-teile", "Es fehlen 5 Stück AMS1117-3.3 und 3 Stück LM2596S.", (("AMS1117-3.3", 5), ("LM2596S", 3))),
    ("de-fehlen-noch-stueck", "Es fehlen noch 3 Stück.", (("", 3),)),
    ("fr-il-manque", "Il manque 3 pièces de LM2596S.", (("LM2596S", 3),)),
    ("fr-manquent", "3 pièces de LM2596S manquent.", (("LM2596S", 3),)),
    ("fr-recu-sur", "Nous avons reçu 37 sur 40 NE555P.", (("NE555P", 3),)),
    ("fr-recu-que-sur", "Nous n'avons reçu que 37 pièces sur 40.", (("", 3),)),
    ("fr-two-parts", "Il manque 3 pièces de LM2596S et 2 pièces de NE555P.", (("LM2596S", 3), ("NE555P", 2))),
    ("es-faltan", "Faltan 3 unidades de LM2596S.", (("LM2596S", 3),)),
    ("es-nos-faltan-piezas", "Nos faltan 2 piezas de NE555P.", (("NE555P", 2),)),
    ("es-recibimos-de", "Recibimos 37 de 40 NE555P.", (("NE555P", 3),)),
    ("es-two-parts", "Faltan 3 unidades de LM2596S y 2 de NE555P.", (("LM2596S", 3), ("NE555P", 2))),
    ("zh-shao-le", "少了3个LM2596S", (("LM2596S", 3),)),
    ("zh-que-shao-after", "LM2596S 缺少3个", (("LM2596S", 3),)),
    ("zh-que-shao-pian", "缺少5片AMS1117-3.3。", (("AMS1117-3.3", 5),)),
    ("zh-two-parts", "少了3个LM2596S和2个NE555P。", (("LM2596S", 3), ("NE555P", 2))),
    ("zh-received-but-short", "我们收到了货，但是少了3个LM2596S。", (("LM2596S", 3),)),
)


@pytest.mark.parametrize(("text", "expected"), MISSING_PARTS)
def test_missing_parts(text, expected):
    result = facts(text)
    assert result.missing_parts == expected
    assert (Evidence.MISSING_QUANTITIES in result.confirmed) is bool(expected)


def test_sentences_split_chinese_and_keep_abbreviations():
    result = facts("所有箱子都收到了。我们没有打开防静电袋。Order no. 104233: 3 pcs. of LM2596S are missing.")
    assert result.confirmed >= {BOXES, Evidence.MISSING_QUANTITIES}
    assert result.opened_sensitive == ""
    assert result.missing_parts == (("LM2596S", 3),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("All boxes arrived.\rWe opened the ESD bag.", 2, id="bare-cr"),
        pytest.param("所有箱子都收到了。每个箱子都清空了。", 2, id="zh-full-stop-without-space"),
        pytest.param("Order no. 104233: 3 pcs. of LM2596S are missing, e.g. the ones on the reel.", 1,
                     id="abbreviations"),
        pytest.param("Boxes arrived! Bag opened? No.", 3, id="marks"),
    ],
)
def test_sentences(text, expected):
    assert len(sentences(text)) == expected


def test_a_negated_phrase_in_one_sentence_leaves_the_next_alone():
    result = facts("We have not opened the ESD bag.\nWe received all 3 boxes.")
    assert result.opened_sensitive == ""
    assert BOXES in result.confirmed
