"""What customers write, as patterns: claim kinds, statements, negations, quantities.

English first; German, French, Spanish and Chinese phrasings serve a global distributor. Every
pattern here has rows in tests/test_extract.py and tests/test_phrases.py.

Patterns are compiled with re.VERBOSE where they are long: whitespace in them is layout, a real
space is written `\\s`, and `#` starts a comment (except inside a character class).
"""

from __future__ import annotations

import re

from rma_mailbot.models import ClaimKind, Evidence

_IX = re.IGNORECASE | re.VERBOSE
_APOS = "['’]"  # mail clients turn "don't" into "don’t"

# "order no. 104233", "3 pcs. of LM2596S" end no sentence; "400 pcs. So 60 are short" does: a count's unit
# ends one before a word written as a sentence begins. Python needs each lookbehind fixed-width, hence one
# per abbreviation.
_ABBREVIATIONS = ("no", "nr", "pc", "pcs", "qty", "stk", "ca", "approx", "vs", "e.g", "i.e", "ref", "art")
_UNITS = ("pc", "pcs")  # not "Stk.": a German noun after it is written capitalised
SENTENCE_END = re.compile(
    "".join(rf"(?<!\b{re.escape(a)}\.)" for a in _ABBREVIATIONS) + r"(?<=[.!?])\s+"
    + "".join(rf"|(?<=\b{a}\.)\s+(?=(?-i:[A-ZÄÖÜÉ][a-zäöüéèàáíóúñß]))" for a in _UNITS)
    + r"|(?<=[。！？])\s*"  # Chinese runs on without a space after the full stop
    r"|[\r\n]+",  # some mail still has bare CR line ends
    re.IGNORECASE,
)

# Negation is looked for only in the clause that holds a statement (see extract._affirmed): in
# "no problem, all boxes arrived" the "no" belongs to another clause.
CLAUSE_BREAK = re.compile(r"""
      [,;:()]  |  \s[-–—]\s
    | \b(?:but|however|although|though|aber|jedoch|mais|cependant|pero|aunque|sin\s+embargo)\b
    | [，；：、（）] | 但是? | 不过 | 可是
""", _IX)

NEGATION = re.compile(rf"""
      \b(?:not|never|none|nobody|no\s+one|neither|nor|cannot|only|yet\s+to)\b
    | (?<=\w)n{_APOS}t\b                                 # didn't, haven't, won't
    | \bno\b(?!\.|\s*[#:]?\s*\d)                         # but not "order no. 104233" / "no 5"
    | \b(?:nicht|nie|niemals|niemand|kein\w*|nur)\b      # German puts "nicht" late: it falls inside the match
    | \b(?:ne|pas|jamais|aucun\w*|seul\w*)\b | \bn{_APOS}(?=\w)   # French "n'avons pas"
    | \b(?:nunca|jamás|nadie|ningun\w*|ningún|s[óo]lo|solamente|tampoco)\b
    | 并非 | [没未] | 只(?!是) | 仅
    | (?<!不得)不(?!小心|好意思|过|得不|久)               # 不小心 "by accident", 不得不 "had to" negate nothing
""", _IX)

# A checklist item is not confirmed by a part of the boxes ("we emptied some of the boxes", "all boxes but one"),
# a doubt, a condition, a plan or a request ("if all boxes had arrived", "please confirm all boxes arrived").
UNSTATED = re.compile(r"""
      \b(?:some|most|few|several|except|but\s+(?:one|two|three|1|2|3)|doubt\w*|if|whether|would|will|should
         |please|supposed|going\s+to|need\s+to)\b
    | \b(?:einige\w*|mehrere\w*|manche\w*|meisten|außer|bezweifl\w*|falls|bitte|würden?|sollen|sollten)\b
    | \b(?:quelques|plusieurs|certain(?:e)?s|plupart|sauf|dout\w*|si|veuillez)\b
    | \b(?:algun[oa]s|vari[oa]s|mayoría|excepto|salvo|dud\w+|por\s+favor)\b
    | 一些 | 有些 | 几个 | 幾個 | 大部分 | 如果 | 要是 | 假如 | 请 | 請
""", _IX)

# "We have not, as you asked, opened the bag": an English negation cut off by a comma still holds.
DANGLING_NEGATION = re.compile(rf"(?:\b(?:have|has|had|did|do|does|is|are|was|were)\s+not|(?<=\w)n{_APOS}t)\s*[,(–—]",
                               re.IGNORECASE)

# A keyword said in the negative is no claim: "the parts are not defective", "nothing else is missing".
# One fixed-width lookbehind per phrase, as Python requires.
_UNSAID = "".join(rf"(?<!\b{w}\s)" for w in (
    "not", "no", "never", "none", "nothing", r"nothing\sis", r"nothing\swas", r"nothing\selse\sis",
    r"none\sare", r"none\swere", r"not\sa", "nicht", "kein", "keine", "pas",
))

# "The invoice is missing", "we are missing the datasheet": paperwork, not parts.
_DOCUMENT = r"(?:invoice|packing\s+list|datasheet|certificate|coc|paperwork|receipt|tracking\s+number|documents?)"
_PAPERS = ("invoice", "datasheet", "certificate", "paperwork", "receipt", r"packing\slist")
_NOT_PAPERWORK_BEFORE = "".join(rf"(?<!\b{d}\s{v})" for d in _PAPERS for v in ("", r"is\s", r"was\s"))
_NOT_PAPERWORK_AFTER = rf"(?!\s+(?:(?:the|an?|our|my)\s+)?{_DOCUMENT})"

# First match wins, so the most specific kinds come first.
KIND_PATTERNS: tuple[tuple[ClaimKind, re.Pattern[str]], ...] = (
    (ClaimKind.QUALITY, re.compile(rf"""
        \b{_UNSAID}(?:defect\w* | faulty | broken | damaged | fake(?![.@]\w) | counterfeit\w* | malfunction\w*
                   | knock-?offs? | refurbished | dead\s+on\s+arrival | doa
                   | (?:poor|bad|low)\s+quality | (?:quality|qc)\s+(?:problem|issue|complaint)s?
                   | out\s+of\s+spec\w* | burn(?:t|ed)\s+out | stopped\s+working
                   | failed\s+(?:the\s+|our\s+)?(?:test|testing|inspection|incoming\s+inspection))\b
      | \bnon[-\s]?original\b | \bnot\s+(?:original|genuine|authentic)\b
      # "doesn't work", but not "sorry it didn't work out"
      | (?:\bnot|\bcannot|n{_APOS}t|\bnever)\s+(?:work(?:s|ed|ing)?\b(?!\s+out)|function\w*|power\s+(?:on|up))
      # German
      | \b{_UNSAID}(?:defekt\w* | gefälscht\w* | fälschung\w* | fehlerhaft\w* | kaputt
                   | qualitätsm[aä]ngel\w* | qualitätsproblem\w*)\b
      | \bfunktionier\w*\s+nicht\b | \bnicht\s+original\b | \bkeine\s+original\w*
      # French
      | \b{_UNSAID}(?:défectueu\w+ | contrefa\w+ | faux | fausses? | en\s+panne)
      | \bne\s+fonctionne\w*\s+pas\b | \bpas\s+d{_APOS}origine\b | \bproblème\s+de\s+qualité\b
      # Spanish
      | \b(?:defectuos\w+ | falsificad\w+ | averiad\w+ | falsos | falsas)\b
      | \bno\s+funciona\w*\b | \bno\s+(?:son|es)\s+original\w*\b | \bproblema\s+de\s+calidad\b
      # Chinese
      | 质量问题 | 质量有问题 | 假货 | 假的 | 有缺陷 | 不工作 | 不能用 | 无法使用
      | 坏了 | 翻新 | 不是原装 | 非原装 | 次品
    """, _IX)),
    # A whole parcel gone missing is a non-receipt, not missing items: checked before MISSING_ITEMS.
    (ClaimKind.NON_RECEIPT, re.compile(r"""
        \b(?:parcel|package|shipment|delivery|consignment)\s+(?:is|was|went|has\s+gone|seems\s+to\s+be|got)
          \s+(?:missing|lost)\b(?=\s*(?:$|[.,;!?]|in\s+transit|since|for\b))
      | \blost\s+(?:in\s+transit|in\s+the\s+post|by\s+the\s+(?:courier|carrier))
    """, _IX)),
    (ClaimKind.MISSING_ITEMS, re.compile(rf"""
        \b{_UNSAID}{_NOT_PAPERWORK_BEFORE}  # \b first: it fails fast where the lookbehinds would not
        (?<!\bpor\s)(?<!\bhace\s)(?<!\bhacen\s)(?<!\bhacía\s)(?<!\bhacían\s)  # "por falta de": "for lack of"; "hace falta": "is needed"
        (?:missing | fehl(?:en|t|ende\w*) | manqu\w* | falt(?:a|an|aba|aban|aron|ante|antes))\b{_NOT_PAPERWORK_AFTER}
      | \bshort[-\s]?(?:shipped|shipment|delivery|delivered)\b | \bshipped\s+short\b | \bshort\s+by\s+\d
      | \b(?:received|got|delivered)\s+(?:only\s+)?\d+\s*\w*\s+(?:of|out\s+of|instead\s+of|rather\s+than)\s+\d+
      | \b(?:received|got)\s+(?:fewer|less|only\s+\d+)\b | \bfewer\s+(?:parts|pieces|pcs|items|units)\b
      | \b(?:reçu|recibimos|recibido)\s+(?:que\s+|seulement\s+|s[óo]lo\s+)?\d+\s*\w*\s+(?:sur|de)\s+\d+
      | \bnot\s+(?:in|inside)\s+the\s+(?:box|parcel|package|shipment)
      | \bquantity\s+(?:is\s+|was\s+)?(?:short|wrong|incorrect|less)\b
      | \bincomplete\s+(?:order|shipment|delivery)\b
      | \b(?:order|shipment|delivery|lieferung|sendung|commande|livraison|pedido|envío)
          \s+(?:is\s+|was\s+|ist\s+|war\s+|est\s+|está\s+|estaba\s+)?(?:incomplet\w*|unvollständig)
      | \bunvollständige\w*\s+(?:lieferung|sendung)\b | \bzu\s+wenig\b
      | 缺少 | 少了 | 缺了 | 少发 | 漏发 | 数量不[足对]
    """, _IX)),
    (ClaimKind.NON_RECEIPT, re.compile(rf"""
        (?:\bnot|n{_APOS}t|\bnever|\bstill\s+not)\s+(?:yet\s+|even\s+)?(?:been\s+)?
          (?:received|arrived|delivered|arrive|receive|come|came|showed\s+up|turned\s+up)\b
      | \b(?:did|have|has)(?:\s+not|n{_APOS}t)\s+(?:yet\s+)?(?:get|got|gotten)\b
      | \bwhere\s+is\s+(?:my|our|the)\s+(?:order|parcel|package|shipment|delivery)
      | \bwhen\s+will\s+(?:my|our|the)\s+(?:order|parcel|package|shipment)\s+(?:arrive|be\s+delivered)
      | \bnothing\s+(?:has\s+)?(?:arrived|been\s+delivered|came)
      | \bstill\s+waiting\s+(?:for|on)\s+(?:my|our|the)\s+(?:order|parcel|package|shipment|delivery)
      | \btracking\b[^.,;]{{0,30}}?\b(?:shows?|says|has)\s+
          (?:nothing|no\s+(?:update|movement|information|progress|scan))
      | \bno\s+tracking\s+(?:updates?|information|movement)
      | \btracking\s+(?:has\s+not|hasn{_APOS}t|not)\s+(?:been\s+)?updated
      | \b(?:stuck|still)\s+in\s+(?:transit|customs)\b
      # German
      | \bnicht\s+(?:angekommen|erhalten|geliefert|zugestellt|eingetroffen)\b | \bnie\s+angekommen\b
      | \bwo\s+(?:ist|bleibt)\s+(?:meine|unsere|mein|unser)\s+(?:bestellung|lieferung|sendung|paket)\b
      # French
      | \b(?:pas|jamais)\s+(?:encore\s+)?(?:reçu|arrivé|été\s+livré)\w*
      | \boù\s+est\s+(?:ma|mon|notre)\s+(?:commande|colis|livraison)
      # Spanish
      | \bno\s+(?:(?:he|hemos|ha|han)\s+)?(?:recibido|llegado)\b | \bno\s+(?:llegó|llegaron|recibí|recibimos)\b
      | \bnunca\s+(?:llegó|llegaron|recibí\w*)\b | \bdónde\s+está\s+(?:mi|nuestro)\s+(?:pedido|paquete|envío)
      # Chinese
      | 没有?收到 | 未收到 | 还没有?到 | 没到 | (?:订单|包裹|快递|货)在哪 | 查不到物流 | 物流(?:没有|没|未)更新
    """, _IX)),
    (ClaimKind.RETURN, re.compile(rf"""
        \bordered\s+(?:it\s+|them\s+|this\s+|these\s+|the\s+\w+\s+)?(?:by\s+mistake|wrongly|in\s+error|accidentally|by\s+accident)
      | \b(?:ordered|bought|purchased|selected)\s+(?:the\s+|a\s+)?wrong\b
      | \bwrong\s+(?:part|item|part\s+number|quantity|package|version)\s+(?:was\s+)?ordered\b
      | \bmistake\s+(?:in|with|on)\s+(?:my|our|the)\s+order\b
      | \bno\s+longer\s+need(?:ed|s)?\b | \bnot\s+needed\b
      # "we don't need them", but not "you do not need to resend"
      | \b(?:don{_APOS}t|do\s+not)\s+need\s+(?:it|them|these|those|this|the\s+\w+)\b(?!\s+to\b)
      | \b(?:want|would\s+like|wish|like|need)\s+to\s+(?:return|send\s+(?:\w+\s+){{0,3}}?back)\b
      | \b(?:can|could|may)\s+(?:i|we)\s+(?:return|send\s+(?:\w+\s+){{0,3}}?back)\b
      | \bsend\s+(?:it|them|(?:the|these|those)\s+\w+)\s+back\b
      | \bcancel\w*\s+(?:and|&)\s+return\b
      | \breturn\s+(?:it|them|the\s+(?:parts|items|order|goods|components|chips)|for\s+(?:a\s+)?refund)\b
      | \bproject\s+(?:was\s+|has\s+been\s+)?cancell?ed\b
      # German
      | \b(?:zurückschicken|zurücksenden|zurückgeben|retournieren|rücksendung)\b
      | \b(?:versehentlich|irrtümlich|aus\s+versehen|falsch)\s+bestellt\b
      | \bnicht\s+mehr\s+(?:benötigt|gebraucht)\b | \bbrauch\w*\s+(?:\w+\s+){{0,3}}?nicht\s+mehr\b
      # French: goods sent back, but not "essayez de renvoyer le message"
      | \b(?:retourner|renvoyer)\s+(?:les|la|le|ces|cette|ce|l{_APOS})\s*(?!message|mail|e-?mail|courriel)\w
      | \b(?:les|la|le)\s+(?:retourner|renvoyer)\b
      | \bcommandé\w*\s+(?:\S+\s+){{0,3}}?par\s+erreur\b | \bplus\s+besoin\b
      # Spanish
      | \b(?:devolver\w*|devoluci[óo]n)\b
      | \b(?:pedid\w*|pedí|pedimos|comprad\w*|compré|compramos|ordenad\w*)\s+(?:\S+\s+){{0,3}}?
          por\s+(?:error|equivocaci[óo]n)
      | \bya\s+no\s+(?:l[oa]s\s+)?necesit\w*
      # Chinese
      | 退货 | 退回 | 买错 | 订错 | 下错单 | 不需要了 | 不再需要
    """, _IX)),
)

_NUMBER = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten)"
_BOX = r"(?:box(?:es)?|parcels?|packages?|cartons?|crates)"
_BOX_DE = r"(?:\w*kartons?|\w*pakete?|päckchen|packstücke?|kisten?|schachteln?|boxen|sendungen)"
_BOX_FR = r"(?:colis|cartons?|boîtes?|boites?|paquets?|caisses?)"
_BOX_ES = r"(?:cajas?|paquetes?|bultos?|cartones|cartón|envíos?)"
_BOX_ZH = r"(?:箱子|包裹|纸箱|快递|货箱|箱)"

STATEMENT_PATTERNS: tuple[tuple[Evidence, re.Pattern[str]], ...] = (
    (Evidence.ALL_BOXES_RECEIVED, re.compile(rf"""
        # "we received all 3 boxes", "I got every box", "we have both cartons"
        \b(?:received|receive|got|get|gotten|collected|delivered|have|has)\s+(?:(?:now|indeed|already|actually)\s+)?
          (?:all|both|every|each)\s+(?:(?:of\s+)?(?:the|our|your|my|those|these)\s+)?(?:{_NUMBER}\s+)?
          (?:of\s+the\s+)?{_BOX}\b
          (?!\s+(?:except|apart\s+from|besides|minus|save)\b|\s+but\s+{_NUMBER}\b|\s+but\s+one\b)
        # "both cartons arrived", "all packages were delivered"
      | \b(?:all|both|every|each)\s+(?:(?:of\s+)?(?:the|our|my)\s+)?(?:{_NUMBER}\s+)?{_BOX}\b[^.,;]{{0,30}}?
          \b(?:arrived|received|came|delivered|are\s+here|turned\s+up|showed\s+up)\b
        # "the two boxes arrived", but not "one of the two boxes arrived"
      | (?<!\bof\s)\bthe\s+{_NUMBER}\s+{_BOX}\s+[^.,;]{{0,20}}?\b(?:arrived|were\s+delivered|came)\b
        # "3/3 boxes", "3 of 3 cartons"
      | \b(?P<boxes>\d+)\s*(?:/|of|out\s+of)\s*(?P=boxes)\s+{_BOX}\b
      # German
      | \b(?:alle|beide|sämtliche)\s+(?:(?:\d+|zwei|drei|vier|fünf)\s+)?{_BOX_DE}\b[^.,;]{{0,30}}?
          \b(?:erhalten|bekommen|angekommen|eingetroffen|geliefert|zugestellt|da)\b
      | \b(?:erhielten|erhielt|bekamen|bekam)\s+(?:alle|beide|sämtliche)\s+(?:\w+\s+)?{_BOX_DE}\b
      # French
      | \b(?:reçu|eu|récupéré)\s+(?:tous|toutes|les\s+deux)\s+(?:les\s+)?(?:\d+\s+|deux\s+|trois\s+)?{_BOX_FR}
      | \b(?:tous|toutes|les\s+deux)\s+(?:les\s+)?(?:\d+\s+)?{_BOX_FR}\b[^.,;]{{0,30}}?\b(?:arrivé|reçu|livré)e?s?\b
      # Spanish
      | \b(?:recibimos|recibí|recibido|llegaron|tenemos)\s+(?:todas\s+las|todos\s+los|las\s+dos|los\s+dos|ambas|ambos)
          \s+(?:\d+\s+)?{_BOX_ES}
      | \b(?:todas\s+las|todos\s+los|las\s+dos|los\s+dos|ambas|ambos)\s+(?:\d+\s+)?{_BOX_ES}\b[^.,;]{{0,30}}?
          \b(?:llegaron|llegado|recibid[oa]s|entregad[oa]s)\b
      # Chinese: a count needs 都/全 ("两个箱子都收到了"); 所有/全部 say "all" already
      | (?:所有|全部)的?{_BOX_ZH}[^，。,;；]{{0,4}}?(?:收到|到了|到齐|送达|签收)
      | (?:两|\d+|[二三四五六七八九十]+)个{_BOX_ZH}(?:都|全|均|全部)(?:已经?)?(?:收到|到了|到齐|送达|签收)
      | 收到了?(?:所有|全部)的?{_BOX_ZH} | {_BOX_ZH}(?:都|全部|均)?(?:已经?)?到齐
    """, _IX)),
    (Evidence.BOXES_EMPTIED, re.compile(rf"""
        \b(?:emptied|unpacked|unboxed|cleared\s+out)\b[^.,;]{{0,30}}?\b(?:{_BOX}|shipment|contents)\b
      | \b(?:checked|searched|inspected|examined|(?:went|gone|looked|sifted)\s+through)\b[^.,;]{{0,30}}?
          \b(?:packing(?!\s+(?:list|slip|note))|packaging|filler|padding|foam|bubble\s+wrap|dunnage
             |(?:all|every|each|both)\s+(?:(?:of\s+)?the\s+)?(?:{_NUMBER}\s+)?{_BOX}\b)
      | \b{_BOX}\b[^.,;]{{0,30}}?\b(?:emptied|unpacked|searched|gone\s+through)\b
      | \b{_BOX}\s+(?:are|is)\s+(?:now\s+)?(?:completely\s+|totally\s+|fully\s+)?empty\b
      | \btook\s+everything\s+out\s+of\s+(?:the|every|each|all|both)\b
      # German
      | \b{_BOX_DE}\b[^.,;]{{0,40}}?\b(?:geleert|entleert|ausgepackt|ausgeräumt)\b
      | \b(?:\w*verpackung\w*|füllmaterial|packmaterial|polstermaterial)\b[^.,;]{{0,40}}?
          \b(?:durchsucht|überprüft|kontrolliert|geprüft|durchgesehen|geleert|ausgepackt)\b
      | \b(?:vollständig|komplett)\s+(?:geleert|entleert|ausgepackt)\b
      # French
      | \b(?:vid|déball)(?:é|ée|és|ées)\b[^.,;]{{0,30}}?\b{_BOX_FR}
      | \b{_BOX_FR}\b[^.,;]{{0,30}}?\b(?:vid|déball)(?:é|ée|és|ées)\b
      | \b(?:fouillé|vérifié|contrôlé|examiné)\b[^.,;]{{0,30}}?(?:emballage|calage|rembourrage|chaque\s+{_BOX_FR})
      # Spanish
      | \b(?:vaci|desempac|desempaquet)(?:amos|é|ado|ada|ados|adas|aron|ó)\b[^.,;]{{0,30}}?\b{_BOX_ES}
      | \b{_BOX_ES}\b[^.,;]{{0,30}}?\b(?:vaciad|desempacad)[oa]s?\b
      | \b(?:revis|inspeccion|busc)(?:amos|é|ado)\b[^.,;]{{0,30}}?(?:embalaje|relleno|cada\s+{_BOX_ES}
          |todas\s+las\s+{_BOX_ES}|todos\s+los\s+{_BOX_ES})
      # Chinese
      | (?:每个|每一个|所有|全部)的?{_BOX_ZH}[^，。,;；]{{0,6}}?(?:清空|倒空|拆开检查|翻找|检查)
      | (?:清空|倒空)了?(?:所有|每个|全部)?的?{_BOX_ZH} | {_BOX_ZH}[^，。,;；]{{0,4}}?(?:清空|倒空)
      | (?:检查|翻找|翻查|查看)了?(?:所有|全部)?的?(?:包装材料|包装|填充物|泡沫|缓冲材料)
    """, _IX)),
)

# Quantities. An item is "3 pcs of LM2596S", "5 x AMS1117-3.3", "3个LM2596S"; a list of items is read
# one item at a time (extract._missing_parts re-scans the `items` group with QUANTITY_ITEM).
PART = r"[A-Z0-9][A-Z0-9\-/.#]{2,30}"
# Before its count a part number must look like one, and an order number is none.
_DIGIT_PART = (r"(?<![A-Z0-9\-/.#])(?<!order\s)(?<!order\sno\s)(?<!order\sno\.\s)(?<!po\s)"
               rf"(?=[A-Z\-/.#]*\d){PART}(?![A-Z0-9])")
_UNIT = (r"(?:(?:x|pcs?\.?|pieces?|units?|ea|reels?|rolls?|trays?|tubes?|stk\.?|stück|pi[eè]ces?|unidades?"
         r"|piezas?)(?![A-Z0-9])|个|片|只|颗|盘)")
_OF = rf"(?:of\s+(?:the\s+)?|de\s+|d{_APOS}|von\s+)?"
# A missing box is no missing part, and "missing 2 weeks of production" counts no part either.
_NOT_AN_ITEM = (r"(?!\s*(?:box(?:es)?|parcels?|cartons?|packages?|days?|weeks?|months?|hours?|kartons?|pakete?|kolli"
                r"|colis|caisses?|cajas?|bultos?|paquetes?|tage|wochen|jours|semaines|d[ií]as|semanas)\b)")


def _item(named: bool) -> str:
    """A count with a unit, a part number or both: "3 pcs of LM2596S", "5 x AMS1117-3.3", "3 pcs", "3个LM2596S"."""
    qty, part = (r"(?P<qty>\d{1,6})", rf"(?P<part>{PART})") if named else (r"\d{1,6}", PART)
    part = rf"{_NOT_AN_ITEM}(?!{_UNIT}){part}(?![A-Z0-9])"
    bare = rf"{_NOT_AN_ITEM}(?!{_UNIT}){PART}(?![A-Z0-9])"  # Python allows a group name once
    # "1N4007" is a part number, not one N4007: a part comes after a space or a unit.
    return rf"(?<![A-Z0-9.\-/]){qty}(?!\d)(?=\s*{_UNIT}|\s+{_OF}{bare})\s*(?:{_UNIT}\s*)?(?:{_OF}{part})?"


def _items(separators: str) -> str:
    # At most a dozen items: an unbounded list would be re-read from every item, quadratic in long mails.
    return rf"{_item(False)}(?:\s*(?:{separators})\s*{_item(False)}){{0,11}}"


QUANTITY_ITEM = re.compile(_item(True), re.IGNORECASE)
_AND = r"\band\b|&|\bund\b|\bet\b|\by\b|、|和|及"
_MISSING_AFTER = r"(?:\b(?:missing|short(?!\s*-?circuit)|fehl\w*|manqu\w*|falt\w*)\b|缺少|少了|缺了|没有?收到|未收到)"
_MISSING_BEFORE = (r"(?:\b(?:missing|short(?:\s+by)?|fehlen|fehlt|(?:il\s+)?manque(?:nt)?|faltan?|faltaron)\b"
                   r"(?:\s+(?:items?|parts?|quantit(?:y|ies)|are|is|were|still|noch|nos|me))*"
                   r"|缺少了?|少了|缺了|少发了?|漏发了?)")
_PART_MISSING = (r"(?:(?:is|are|was|were)\s+)?(?:\b(?:missing|short|fehlen|fehlt|manque\w*|faltan?)\b"
                 r"|缺少了?|少了|缺了|少发了?)")

QUANTITY_PATTERNS: tuple[re.Pattern[str], ...] = (
    # "3 pcs of LM2596S are missing", "5 AMS1117-3.3 and 3 pcs of LM2596S are missing", "3 Stück LM2596S
    # fehlen". The first item is not a count that was received ("received 100 NE555P and 3 LM2596S are
    # missing") nor the "40" of "37 of 40"; the filler holds no digit, so it stays with its own item, and no
    # break, Chinese ones too: in "订单是 20 片，少了 5 片" the 20 is not what is short.
    re.compile(rf"""
        (?<!received\s)(?<!got\s)(?<!ordered\s)(?<!delivered\s)(?<!only\s)(?<!\bof\s)(?<!/)
        (?P<items>{_items(rf",|;|{_AND}")})
        [^\d.,;:!?\n，；：！？。、]{{0,30}}?{_MISSING_AFTER}
    """, _IX),
    # "missing: 5 x AMS1117-3.3", "missing 5 AMS1117-3.3 and 3 pcs of LM2596S", "il manque 3 pièces de
    # LM2596S", "faltan 3 unidades de LM2596S", "少了3个LM2596S"
    re.compile(rf"{_MISSING_BEFORE}\W{{0,3}}(?:only\s+)?(?P<items>{_items(rf',|;|{_AND}')})", _IX),
    # "LM2596S 缺少3个", "LM2596S missing 3 pcs", "LM2596S fehlen 3 Stück"
    re.compile(rf"(?P<part>{_DIGIT_PART})\s*(?:[:\-–]\s*)?{_PART_MISSING}\s*(?:[:\-–]\s*)?(?<![A-Z0-9]-)(?P<qty>\d{{1,6}})",
               re.IGNORECASE),
    # "AMS1117-3.3: 5 pcs missing"
    # A dash between part and count is spaced: "ESP32-WROOM-32" is one part number.
    re.compile(rf"(?P<part>{_DIGIT_PART})(?:\s*:\s*|\s+[\-–]\s+|\s*–\s*)(?P<qty>\d{{1,6}})\s*(?:{_UNIT}\s*)?(?:are\s+|is\s+)?"
               rf"(?:\b(?:missing|short|fehlen|fehlt|manquant\w*|faltan)\b|缺少|少了)", re.IGNORECASE),
    # "LM2596S: received 37 of 40"
    re.compile(rf"""
        (?P<part>{_DIGIT_PART})\W{{0,3}}(?:(?:we|i|only)\s+)*(?:received|got|delivered)\s+(?:only\s+)?
        (?P<got>\d{{1,6}})\s*(?:{_UNIT}\s*)?(?:of|out\s+of|instead\s+of|/)\s*(?P<want>\d{{1,6}})
    """, _IX),
    # "received 37 of 40 NE555P", "we got 90 instead of 100 NE555P", "reçu 37 sur 40", "recibimos 37 de 40"
    re.compile(rf"""
        \b(?:received|got|delivered|reçu|recibimos|recibido)\s+(?:only\s+|seulement\s+|que\s+|s[óo]lo\s+)?
        (?P<got>\d{{1,6}})\s*(?:{_UNIT}\s*)?(?:of|out\s+of|instead\s+of|rather\s+than|/|sur|de|au\s+lieu\s+de|en\s+vez\s+de)
        \s*(?:the\s+)?(?P<want>\d{{1,6}}){_NOT_AN_ITEM}
        (?:\s*(?:{_UNIT}\s*)?(?:ordered\s+)?{_OF}(?P<part>{PART})(?![A-Z0-9]))?
    """, _IX),
    # German puts the verb last: "nur 37 von 40 LM2596S erhalten"
    re.compile(rf"""
        (?<![\d/])(?P<got>\d{{1,6}})\s*(?:{_UNIT}\s*)?von\s*(?P<want>\d{{1,6}})\s*(?:{_UNIT}\s*)?
        (?:(?P<part>{PART})\s+)?(?:erhalten|bekommen|geliefert)
    """, _IX),
)
NOT_A_PART = {"PCS", "PIECES", "UNITS", "THE", "ARE", "WERE", "ITEMS", "PARTS", "BOXES", "OF", "REELS", "TRAYS",
              "TUBES", "ROLLS", "UNIDADES", "PIEZAS", "PARCELS", "CARTONS", "PACKAGES", "AND", "UND", "FROM",
              "ORDERED", "STILL", "ONLY", "NOCH"}


_SENSITIVE_EN = r"""(?:
      (?:(?:esd|anti-?static|static[-\s]shielding|shielding|moisture[-\s]barrier|moisture[-\s]proof|moisture|mbb
          |vacuum|sealed|dry|desiccant)[-\s]+)+(?:bags?|pouch(?:es)?|packs?|packaging|seals?)
    | bags? | pouch(?:es)? | mbbs? | (?:vacuum[-\s]|reel[-\s]|factory[-\s])?seals? | dry[-\s]?packs?
)\b"""
# German compounds ("ESD-Beutel", "Feuchtigkeitsschutzbeutel") end in the noun: it is matched inside the word,
# with bounded gaps, as a leading [\w-]* would rescan long words from every position.
_SENSITIVE_DE = (r"(?:beutel\w*|(?:esd|antistatik|feuchtigkeit|vakuum|trockenmittel)[\w-]{0,20}?"
                 r"(?:verpackung|tüte|folie)\w*|\b(?:versiegelung|siegel|mbb)\b)")
_SENSITIVE_FR = (r"(?:sachets?|sacs?|emballages?\s+(?:sous\s+vide|antistatiques?|esd|étanches?)|scellés?"
                 r"|opercules?)\b")
_SENSITIVE_ES = r"(?:bolsas?|sellos?|(?:envases?|empaques?|embalajes?)\s+(?:al\s+vacío|antiestáticos?|esd))\b"
_SENSITIVE_ZH = r"(?:防静电袋|静电袋|防潮袋|真空包装|真空袋|铝箔袋|屏蔽袋|密封袋|密封包装|防静电包装|卷盘密封)"

# "We opened the ESD bag": parts that must stay sealed outside controlled conditions. Opening the
# shipping box is normal and does not count: between verb and bag no box may be named.
OPENED_SENSITIVE = re.compile(rf"""
      \b(?:opened|unsealed|cut\s+open|cut|tore\s+open|tore|ripped\s+open|took\s+(?:\w+\s+){{0,3}}?out\s+of
         |removed\s+(?:\w+\s+){{0,3}}?from|broke\s+the\s+seals?\s+(?:of|on))\b
      \s+(?:(?!(?:and|but|box|boxes|parcel|carton|package)\b)[\w-]+\s+){{0,3}}?{_SENSITIVE_EN}
    # "opened the box and the ESD bag" still counts, "opened the box and found the bags" does not
    | \b(?:opened|unsealed|cut\s+open)\s+(?:the\s+|our\s+)?(?:outer\s+)?(?:box|boxes|parcel|carton|package)
      \s+and\s+(?:also\s+)?(?:the\s+|all\s+the\s+)?{_SENSITIVE_EN}
    | \bbroke\s+(?:the\s+)?(?:vacuum\s+|esd\s+|reel\s+|factory\s+)?seals?\b
    | \b{_SENSITIVE_EN}\s+(?:which|that)\s+(?:we|i)\s+(?:\w+\s+)?(?:opened|unsealed|cut\s+open)\b
    | \b{_SENSITIVE_EN}[^.,;]{{0,20}}?\b(?:was|were|has|have|had|is|are|got)\b(?:\s+\w+){{0,3}}?
      \s+(?:opened|unsealed|cut(?:\s+open)?|torn(?:\s+open)?|ripped(?:\s+open)?)\b
    | \bseals?\b[^.,;]{{0,20}}?\b(?:was|were|has|have|had|is|are|got)\b(?:\s+\w+){{0,3}}?\s+broken\b  # parts break too
    # German: verb last ("den ESD-Beutel nicht geöffnet") or second ("öffneten den Beutel")
    | {_SENSITIVE_DE}[^.,;]{{0,30}}?\b(?:geöffnet|aufgeschnitten|aufgerissen|aufgemacht|entsiegelt|aufgebrochen)\b
    | \b(?:öffneten|öffnete|schnitten|schnitt)\b[^.,;]{{0,30}}?{_SENSITIVE_DE}
    # French
    | \b(?:ouvert|ouverte|ouverts|ouvertes|découpé\w*|déchiré\w*|coupé\w*|descellé\w*)\b
      (?:(?!\b(?:colis|cartons?|boîtes?|et|mais)\b)[^.,;]){{0,20}}?\b{_SENSITIVE_FR}
    | \b{_SENSITIVE_FR}[^.,;]{{0,30}}?\b(?:a|ont|est|sont)\s+(?:\w+\s+)?(?:été\s+)?(?:ouvert|découpé|déchiré)\w*
    # Spanish
    | \b(?:abrimos|abrí|abierto|abierta|abiertos|abiertas|abrió|abrieron|cortamos|corté|rompimos|rompí)\b
      (?:(?!\b(?:cajas?|paquetes?|cart[oó]n\w*|y|pero)\b)[^.,;]){{0,20}}?\b{_SENSITIVE_ES}
    | \b{_SENSITIVE_ES}[^.,;]{{0,30}}?\b(?:fue|fueron|ha\s+sido|han\s+sido|está|están|estaba|estaban)\s+(?:\w+\s+)?
      (?:abiert|rot|cortad)[oa]s?\b
    # Chinese
    | (?:打开|拆开|剪开|撕开|拆封|开封|划开)了?[^，。,]{{0,6}}?{_SENSITIVE_ZH}
    | {_SENSITIVE_ZH}[^，。,]{{0,6}}?(?:打开|拆开|拆封|开封|剪开|撕开)
""", _IX)
