"""The one rule for e-mail addresses and display names that go into mail headers.

Used by the single create (API), the CSV/XLSX import (row errors) and the mail renderers, so
what is stored is always something the sender can put on the wire:

- An address is stored NFC-normalised and lower-cased. Invisible characters (bidi marks,
  zero-width spaces, controls) and compatibility forms (full-width letters, ligatures — what
  NFKC would change) are refused: they make look-alike addresses and break the mail headers.
- The local part (before the @) must be ASCII: we do not speak SMTPUTF8, and many relays do
  not either, so `jörg@…` is refused with a clear message instead of failing at send time.
- An internationalised domain (`bücher.example`) is accepted and stored in its Unicode form
  (a punycode input `xn--bcher-kva.example` is stored the same way, so both meet as one
  person); `smtp_address` gives the ASCII (punycode) form that goes on the wire.
- A display name is one line of plain text: control characters (CR/LF above all: a name
  `"Mallory\\r\\nBcc: …"` would otherwise add a header) are refused at input and collapsed
  defensively when a header is built.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import idna

_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")
# Cc controls (CR, LF, TAB, NUL …), Cf format characters (bidi marks and overrides,
# zero-width joiners, soft hyphen), line/paragraph separators, private use, surrogates,
# unassigned code points.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")
# RFC 5322 dot-atom: what the header parser accepts unquoted (no leading, trailing or double dot).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")


class UnsendableAddress(ValueError):
    """An address no mail can be sent to (the message is German and shown to the user)."""


def _has(value: str, categories: frozenset[str]) -> bool:
    return any(unicodedata.category(ch) in categories for ch in value)


@functools.lru_cache(maxsize=4096)  # a campaign's recipients share a few hundred domains
def _ascii_domain(domain: str) -> str:
    try:
        # UTS 46 maps case and the few compatibility forms IDNA 2008 allows in domains.
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise UnsendableAddress("Der Teil nach dem @ ist kein gültiger Domainname.") from exc


def normalise_email(value: str) -> str:
    """The stored form of an address, or ValueError (UnsendableAddress) with a German reason."""
    local, ascii_domain = _checked(value)
    if not _ADDRESS.match(f"{local}@{ascii_domain}"):  # a registry address needs a dotted domain
        raise UnsendableAddress("Keine gültige E-Mail-Adresse.")
    if "xn--" not in ascii_domain:
        return f"{local}@{ascii_domain}"
    return f"{local}@{idna.decode(ascii_domain)}"


def smtp_address(value: str) -> str:
    """The ASCII form of an address for the envelope and the headers (punycode domain).

    Raises UnsendableAddress for anything that cannot go on the wire (rows stored before the
    rule existed), so the caller fails that one mail instead of the whole batch. Laxer than
    `normalise_email` only in allowing an undotted domain (`beteiligung@localhost`).
    """
    local, ascii_domain = _checked(value)
    return f"{local}@{ascii_domain}"


def _checked(value: str) -> tuple[str, str]:
    """Local part and ASCII domain of an address that can go on the wire as it is."""
    value = value.strip()
    if _has(value, _INVISIBLE):
        raise UnsendableAddress(
            "Die E-Mail-Adresse enthält unsichtbare Zeichen oder Steuerzeichen.")
    value = unicodedata.normalize("NFC", value)
    if unicodedata.normalize("NFKC", value) != value:
        raise UnsendableAddress(
            "Die E-Mail-Adresse enthält Sonderformen von Zeichen (z. B. Vollbreite).")
    value = value.lower()
    local, at, domain = value.rpartition("@")
    if len(value) > 320 or not at or not local or not domain:
        raise UnsendableAddress("Keine gültige E-Mail-Adresse.")
    if not local.isascii():
        raise UnsendableAddress(
            "Vor dem @ sind keine Umlaute oder anderen Sonderzeichen möglich "
            "(viele Mailserver nehmen sie dort nicht an).")
    if not _LOCAL_PART.match(local):
        raise UnsendableAddress(
            "Der Teil vor dem @ ist ungültig (z. B. ein Punkt am Anfang, am Ende oder zwei "
            "Punkte hintereinander).")
    if len(local) > 64:
        raise UnsendableAddress("Der Teil vor dem @ ist länger als 64 Zeichen.")
    return local, _ascii_domain(domain)


def normalise_name(value: str) -> str:
    """A display name as stored: one line, trimmed; ValueError with a German reason."""
    if _has(value, _LINE_BREAKING):
        raise ValueError("Der Name darf keine Zeilenumbrüche oder Steuerzeichen enthalten.")
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("Der Name fehlt.")
    return value


def single_line(value: str) -> str:
    """Defensive collapse for header text read from storage: never a line break or control
    character, runs of white space as one space."""
    cleaned = "".join(" " if unicodedata.category(ch) in _LINE_BREAKING else ch
                      for ch in value)
    return _SPACES.sub(" ", cleaned).strip()
