"""Canonical e-mail addresses: one person, one signature.

`email_canonical(raw)` turns what a signer typed into the form that the unique constraint (petition, canonical
e-mail) compares. It refuses, with a message a person can act on (InvalidEmail), anything that is not a plain
address: no "@", more than one "@", spaces or control characters inside, quoted local parts, over 254 characters,
a domain that is not a valid host name, and domain labels that mix alphabets (a Cyrillic "а" among Latin letters,
the classic look-alike of a well-known domain).

The steps, in order:

1. Trim surrounding white space; refuse control, format (zero-width) and inner white-space characters.
2. Unicode NFKC normalisation (full-width letters become ASCII, ligatures are split), then case folding. Strictly
   the local part is case-sensitive, but no mail provider in use treats "Ann" and "ann" as two people.
3. The domain in its ASCII form (IDNA: "пример.рф" → "xn--e1afmkfd.xn--p1ai"), without a trailing dot.
4. Provider rules, only where the provider documents them:
   - `googlemail.com` is `gmail.com`, and dots in a Gmail local part are ignored (`a.n.n` is `ann`).
   - A `+tag` suffix is dropped for providers that deliver `name+tag@` to `name@` (sub-addressing), listed in
     PLUS_ADDRESSING_DOMAINS: Gmail; Microsoft's Outlook.com, Hotmail, Live and MSN; Fastmail; Proton; iCloud;
     Yahoo is not among them (it uses "-" with a separately created alias, which is a distinct address), nor
     are company domains, whose servers may treat "+" as an ordinary character.

The address as typed is kept beside the canonical one: mail is sent to what the person wrote.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

MAX_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
PLUS_ADDRESSING_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "live.com",
        "live.co.uk",
        "msn.com",
        "fastmail.com",
        "fastmail.fm",
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "pm.me",
        "icloud.com",
        "me.com",
        "mac.com",
    }
)

_validator = EmailValidator()


class InvalidEmail(ValueError):
    """An address we cannot use; the message says why, for the person who typed it."""


def _is_unprintable(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} or char.isspace()


def _scripts(label: str) -> set[str]:
    """The alphabets of a domain label's letters (LATIN, CYRILLIC, GREEK, ...); digits and hyphens have none."""
    found = set()
    for char in label:
        if char.isalpha():
            name = unicodedata.name(char, "")
            found.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return found


def email_domain_ascii(domain: str) -> str:
    domain = domain.rstrip(".")
    if not domain or len(domain) > 253:
        raise InvalidEmail("The part after the @ is not a valid domain name.")
    labels = domain.split(".")
    for label in labels:
        if len(_scripts(label)) > 1:
            raise InvalidEmail(
                "The part after the @ mixes letters from different alphabets, as look-alike addresses do. "
                "Check it and type it again."
            )
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidEmail("The part after the @ is not a valid domain name.") from exc
    return ascii_domain.lower()


def email_parts(raw: str) -> tuple[str, str]:
    """(local part, ASCII domain) of an address, normalised (steps 1-3 above); InvalidEmail if it is not usable."""
    if not isinstance(raw, str):
        raise InvalidEmail("Enter an e-mail address.")
    value = raw.strip()
    if not value:
        raise InvalidEmail("Enter an e-mail address.")
    if len(value) > MAX_LENGTH:
        raise InvalidEmail(f"An e-mail address has at most {MAX_LENGTH} characters.")
    if any(_is_unprintable(char) for char in value):
        raise InvalidEmail("An e-mail address cannot contain spaces or invisible characters.")
    value = unicodedata.normalize("NFKC", value).casefold()
    if value.count("@") != 1:
        raise InvalidEmail("An e-mail address has exactly one @, like name@example.org.")
    local, domain = value.split("@")
    if not local or '"' in local:
        raise InvalidEmail("The part before the @ is missing or not one we can use.")
    ascii_domain = email_domain_ascii(domain)
    try:
        _validator(f"{local}@{ascii_domain}")
    except ValidationError as exc:
        raise InvalidEmail("This is not a valid e-mail address.") from exc
    return local, ascii_domain


def email_canonical(raw: str) -> str:
    """The address as the unique constraint compares it (see the module's docstring)."""
    local, domain = email_parts(raw)
    if domain in GMAIL_DOMAINS:
        domain = "gmail.com"
    if domain in PLUS_ADDRESSING_DOMAINS and "+" in local:
        local = local.split("+", 1)[0]
    if domain == "gmail.com":
        local = local.replace(".", "")
    if not local:
        raise InvalidEmail("The part before the @ is missing or not one we can use.")
    return f"{local}@{domain}"


def email_for_sending(raw: str) -> str:
    """The address as typed, trimmed, with its domain in ASCII: what goes into the To: header."""
    value = raw.strip()
    local, _, domain = value.rpartition("@")
    return f"{local}@{email_domain_ascii(unicodedata.normalize('NFKC', domain).casefold())}"


def email_masked(address: str) -> str:
    """j•••@g•••.com: enough for staff to tell rows apart in a list, not enough to read an address."""
    local, _, domain = (address or "").partition("@")
    if not domain:
        return "•••"
    host, _, tld = domain.rpartition(".")
    return f"{local[:1]}•••@{(host or tld)[:1]}•••.{tld if host else ''}".rstrip(".")
