"""Keyword rules for English and Spanish: complaints, urgent topics, priority keywords, spam.

Patterns run on a folded form of the text (lower case, accents removed), so "reembolso",
"Reembolsó" and "REEMBOLSO" match alike, and they run whatever the detected language is: a
misdetected short text still gets its complaint flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.triage.tone import fold_accents


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _word_starts(*patterns: str) -> re.Pattern[str]:
    """`_any` for patterns that all begin a word (\\b, then a word character), checked once for all of
    them: the engine then tries the 110 branches of COMPLAINT at word starts only, not at every
    character, which halves its time (every classification runs it)."""
    if not all(p.startswith(r"\b") for p in patterns):
        raise ValueError("every pattern must start with \\b")
    return re.compile(r"\b(?=\w)(?:" + "|".join(f"(?:{p[2:]})" for p in patterns) + ")")


# Problems and demands. Each is evidence of a complaint on its own.
COMPLAINT = _word_starts(
    # English
    r"\b(not|n'?t|never|stopped|stop) (even )?(work|working|load|loading|open|opening)\b",
    r"\bdoes ?n'?t work\b", r"\b(keeps?|kept) (crashing|failing|freezing|dropping|breaking)\b",
    r"\bcrash(es|ed|ing)?\b", r"\bstill (waiting|no|not|nothing|hasn'?t|haven'?t)\b",
    r"\b(been )?waiting (for )?\d+\s*(min|minutes|hours?|days?|weeks?)\b", r"\b\d+ (days|weeks) and still\b",
    r"\b(charged|billed) (me )?(twice|double|two times)\b", r"\bdouble[- ]charged\b", r"\bovercharg",
    r"\bwhere('?s| is) my (order|package|parcel|refund|money|delivery)\b",
    r"\b(never|hasn'?t|has not|didn'?t|did not|not) (been )?(arrived?|received?|delivered|shipped)\b",
    r"\b(late|wrong|missing|lost) (again|item|order|package|parcel)\b", r"\bitem (was )?missing\b",
    r"\b(cracked|crushed|damaged|defective|faulty|broken|broke)\b", r"\bworst\b", r"\bscam(mers?|med)?\b",
    r"\brip[- ]?off\b", r"\bnever again\b", r"\b(no ?one|nobody) (answers?|responds?|replies|picks up|helps?)\b",
    r"\bno (response|reply|answer)\b", r"\bignor(ed|ing)\b", r"\bunacceptable\b", r"\bdisappoint",
    r"\b(terrible|awful|horrible|useless|pathetic|trash|garbage|ridiculous|rude)\b", r"\bon hold\b",
    r"\b(fix|sort) (this|it|your)\b", r"\bwhat a joke\b", r"\bis a joke\b",
    r"\b(can'?t|cannot|unable to) (log ?in|login|sign ?in|access|connect)\b", r"\blocked out\b",
    r"\b(want|going|gonna|need) to cancel\b", r"\bi'?m cancell?ing\b", r"\b(is|are|been|was) down\b",
    r"\b(order|orders|subscription|booking)\b[^.?!]{0,30}\bcancell?ed\b", r"\berror \d{3}\b",
    r"\bissues? with\b", r"\btired of\b", r"\bfed up\b", r"\b(not|n'?t) (happy|good|ok|okay|acceptable)\b",
    r"\bwhy (does|do|is|am|was) (my|i|the) (bill|charge|invoice|account)", r"\bmy bill says\b",
    r"\bonly lasts?\b", r"\bgive up\b", r"\b(delivered|says delivered) but\b", r"\btook forever\b", r"\bmissed\b",
    # Spanish (folded: no accents)
    r"\bno (me )?(funciona|funcionan|sirve|sirven|anda|carga|abre|llega|llego|ha llegado)\b",
    r"\bdejo de funcionar\b", r"\bse (cae|cayo|traba|trabo|rompio|congela)\b",
    r"\bsigo (esperando|sin)\b", r"\bllevo \d+ (min|minutos|horas?|dias|semanas)\b",
    r"\b\d+ (dias|semanas) esperando\b", r"\bme (cobraron|cobran|cobro)\b", r"\bcobro (doble|indebido)\b",
    r"\bdonde (esta|estan) mi(s)? (pedido|paquete|reembolso|dinero|envio)\b",
    r"\bnunca (llego|recibi|enviaron|me llego)\b", r"\bno (me )?(ha )?llego\b", r"\bno recibi\b",
    r"\b(roto|rota|rotos|rotas|danado|danada|defectuos[oa])\b", r"\bpeor(es)?\b",
    r"\b(estafa|estafadores?|timo|timadores|ladrones)\b", r"\bnunca mas\b",
    r"\bnadie (responde|contesta|atiende|ayuda)\b", r"\bno (me )?(contestan|responden|atienden)\b",
    r"\bsin respuesta\b", r"\binaceptable\b", r"\bverguenza\b", r"\b(pesim[oa]s?|fatal|horrible|basura)\b",
    r"\bdecepcionad[oa]\b", r"\b(ridiculo|inutil|grosera?o?|chiste)\b", r"\bhart[oa]s?\b",
    r"\bno puedo (entrar|iniciar|acceder|pagar|ingresar)\b", r"\bni siquiera puedo\b",
    r"\bme bloquearon\b", r"\b(quiero|voy a) cancelar\b", r"\bcancel(aron|an) (mi|el) (pedido|compra)\b",
    r"\b(otro|otra|equivocad[oa]) (producto|pedido)\b", r"\bme mandaron\b.*\by me\b|\bme llego otro\b",
    r"\bmala onda\b", r"\bno (estoy|estamos) (content[oa]s?|satisfech[oa]s?)\b", r"\bno me gusta\b",
    r"\bproblemas? con\b", r"\b(fallan|falla|fallando)\b", r"\bno tengo (internet|luz|servicio|senal)\b",
    r"\bpara cuando\b", r"\bpor que me cobran\b", r"\bsin (internet|luz|servicio|senal)\b",
    r"\bno (fue|es) buen[oa]\b", r"\btardo una eternidad\b", r"\bentregado pero\b", r"\bse (cayo|cae) la\b",
    r"\berror \d{3}\b", r"\bnunca recibi\b", r"\buna hora en espera\b", r"\bno lo recomiendo\b",
)

# Safety, legal, security, fraud: a person may be hurt or a case may go to court.
URGENT = {
    "hacked account": r"\b(hack(ed|ers?)?|hackear\w*|hackeo|hackead[oa])\b|\bsomeone (logged|got) into\b",
    "fraud": r"\bfraud\w*|\bfraude\b|\bunauthori[sz]ed (charge|transaction|purchase)|\bno autorizad[oa]\b"
             r"|\bidentity theft\b|\bsuplantacion\b|\brobo de identidad\b|\bphishing\b",
    "legal": r"\b(lawyer|attorney|lawsuit|sue|suing|legal action|small claims|abogad[oa]|demanda|denuncia"
             r"|profeco|tribunal|juicio)\b",
    "safety": r"\b(caught fire|on fire|fire hazard|explod\w*|burn(ed|t)|injur\w*|hospital|poison\w*|allergic"
              r"|unsafe|dangerous|choking|electrocut\w*|incendi\w*|explot\w*|quemadura\w*|quemo|herid[oa]s?"
              r"|intoxica\w*|alergic[oa]|peligros[oa]|lesion\w*)\b",
    "data breach": r"\b(data breach|breach|leak(ed)?|filtrar\w*|filtraron|filtracion)\b",
}
URGENT_PATTERNS = {name: re.compile(p) for name, p in URGENT.items()}

# Keywords that raise priority by themselves, named as staff would search for them.
KEYWORDS = {
    "refund": r"\b(refund\w*|money back|reembols\w*|devolu?cion de(l| mi)? dinero|devuelvan mi dinero)\b",
    "cancel": r"\b(cancel\w*)\b",
    "broken": r"\b(broken|broke|cracked|defective|roto|rota|rotos|rotas|se rompio|defectuos[oa])\b",
    "chargeback": r"\b(chargeback|dispute the charge|contracargo)\b",
}
KEYWORD_PATTERNS = {name: re.compile(p) for name, p in KEYWORDS.items()}

_LINK = re.compile(r"https?://|www\.|\b(bit\.ly|t\.me|wa\.me|tinyurl\.com)/|\b\w+\.example\b")
_PROMO = _any(
    r"\bfollow ?back\b", r"\bf4f\b", r"\bcrypto\w*\b", r"\bcripto\w*\b", r"\bbitcoin\b", r"\bnft\b",
    r"\bforex\b", r"\bdm (me )?for (promo|collab|promotion)\b", r"\bdm (me|us) now\b", r"\bpromo\b",
    r"\bpromote your\b", r"\bgiveaway\b", r"\bwin a free\b", r"\bfree (iphone|followers|money)\b",
    r"\b\d+k (real )?(followers|seguidores)\b", r"\bearn \$?\d+", r"\bclick here\b", r"\bsigueme y te sigo\b",
    r"\bgana (dinero|un)\b", r"\bduplica tu dinero\b", r"\bentra aqui\b", r"\b(info|escribenos) (por|al) dm\b",
    r"\bsignals\b", r"\binvierte\b",
)


@dataclass(frozen=True)
class Findings:
    """What the keyword rules saw in one text."""

    complaint_cues: tuple[str, ...]
    urgent: tuple[str, ...]
    keywords: tuple[str, ...]
    spam: bool
    question: bool


def fold(text: str) -> str:
    """Lower case, accents removed, curly apostrophes made straight: what the patterns expect."""
    return fold_accents(text.lower().replace("\u2019", "'"))


def scan(text: str) -> Findings:
    """Run every rule over `text`."""
    folded = fold(text)
    cues = tuple(m.group(0) for m in COMPLAINT.finditer(folded))
    urgent = tuple(name for name, p in URGENT_PATTERNS.items() if p.search(folded))
    keywords = tuple(name for name, p in KEYWORD_PATTERNS.items() if p.search(folded))
    promo_hits = len(_PROMO.findall(folded))
    spam = promo_hits >= 2 or (promo_hits >= 1 and bool(_LINK.search(folded)))
    return Findings(cues, urgent, keywords, spam, "?" in text)
