"""What a mail must prove before it may change a decision, and what it failed to prove. Pure.

A decision by mail (the warehouse answering our check of a claim) is applied only when the mail
answers the warehouse mail we sent for that claim (its Message-ID carries 128 random bits and is
never shown to the customer), comes from the configured address, and our own receiving server
vouches for that address: DKIM or DMARC passed, for the sender's own domain, in the
Authentication-Results of `review.authserv_id` (SPF vouches only for the envelope sender, which a
forger chooses). A From line alone is what any sender can write.
"""

from __future__ import annotations

from rma_mailbot.models import AuthResult, ParsedMail


def missing_proofs(mail: ParsedMail, *, answers_our_mail: bool, address: str, authserv_id: str) -> tuple[str, ...]:
    """Why the mail does not prove itself, one reason per missing proof; () when it does."""
    missing = []
    if not answers_our_mail:
        missing.append("it does not answer the warehouse mail we sent for this claim")
    if mail.sender != address.lower():
        missing.append(f"it is from {mail.sender or 'no address'}, not from {address}")
    elif not mail.single_author:
        missing.append("its From does not name exactly one mailbox, so no verdict is clearly about the address")
    missing.extend(_server_verdict(mail, authserv_id))
    return tuple(missing)


def _server_verdict(mail: ParsedMail, authserv_id: str) -> list[str]:
    if not authserv_id:
        return ["review.authserv_id is not set, so no server's verdict can be trusted"]
    if mail.auth_server != authserv_id.lower():
        return [f"our server ({authserv_id}) wrote no Authentication-Results on it"]
    domain = mail.sender.rpartition("@")[2]
    if any(_vouches(result, domain) for result in mail.auth):
        return []
    found = ", ".join(f"{a.method}={a.result}" + (f" ({a.domain})" if a.domain else "") for a in mail.auth) or "nothing"
    return [f"our server ({authserv_id}) reports no DKIM or DMARC pass for {domain or 'its domain'} (it reports "
            f"{found})"]


def _vouches(result: AuthResult, domain: str) -> bool:
    """DKIM must have signed for the sender's own domain (anyone can sign for a domain of their own); DMARC's
    pass is about the From domain already, and the domain it names, if any, must be the sender's."""
    if result.result != "pass":
        return False
    if result.method == "dkim":
        return result.domain == domain
    return result.method == "dmarc" and result.domain in ("", domain)
