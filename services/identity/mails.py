"""The German mails of staff accounts: an invitation and a password reset, each with its
one-time link. Headers by the email package (SMTP policy), as the process notices do."""

from __future__ import annotations

import email.policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from services.stakeholders.addresses import single_line, smtp_address

_TEXTS = {
    "invite": ("Einladung zu Mitwirken – {org}",
               "Guten Tag,\n\n{actor} lädt Sie ein, bei {org} in Mitwirken mitzuarbeiten.\n"
               "Bitte legen Sie über diesen Link Ihr Passwort fest (gültig bis {until}, "
               "nur einmal verwendbar):\n\n{link}\n\n"
               "Wenn Sie diese Einladung nicht erwartet haben, können Sie die Mail "
               "ignorieren.\n"),
    "reset": ("Passwort zurücksetzen – Mitwirken",
              "Guten Tag,\n\nfür Ihr Konto wurde ein neues Passwort angefordert.\n"
              "Über diesen Link legen Sie es fest (gültig bis {until}, nur einmal "
              "verwendbar):\n\n{link}\n\n"
              "Wenn Sie das nicht angefordert haben, ignorieren Sie diese Mail; Ihr "
              "bisheriges Passwort gilt weiter.\n"),
}


def password_link_mail(kind: str, *, to: str, link: str, until: str, mail_from: str,
                       org: str = "Mitwirken", actor: str = "") -> EmailMessage:
    subject, body = _TEXTS[kind]
    sender = smtp_address(mail_from)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = single_line(subject.format(org=org))
    msg["From"] = Address(display_name="Mitwirken", addr_spec=sender)
    msg["To"] = Address(addr_spec=smtp_address(to))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg["X-Mitwirken-Notice"] = f"staff_{kind}"
    msg.set_content(body.format(org=single_line(org), actor=single_line(actor) or "Jemand",
                                link=link, until=until))
    return msg
