"""Signature rules: what staff (for every petition) and organisers (for theirs) refuse, hold for review or allow.

A rule matches one of:
- a network (`ip_range`): an IPv4 or IPv6 range in CIDR form, compared with the client's address at request time,
  before the address is hashed, so nothing more is stored than without rules;
- an e-mail domain (`domain`): a plain domain covers itself and every subdomain (`example.com` catches
  `mail.example.com`); a pattern with `*` or `?` is matched on the whole domain (`spam-*.example`). Domains are
  compared in their ASCII (IDNA) form, and a Unicode domain that only looks like a ruled one (`ехаmple.com` in
  Cyrillic) is caught through its confusables skeleton;
- the disposable e-mail domains (`disposable`): the list kept by the disposable-email-domains package, which a
  package upgrade refreshes; an allow rule for a domain overrides it;
- one address (`address`): compared in canonical form (case, dots in Gmail, `+tags` where the provider delivers
  them, full-width letters), and by skeleton for look-alike letters;
- a country limit (`country_limit`, one petition): more confirmed signatures from one country than the limit.

Each rule refuses (the signer sees the usual refusal), marks (the signer sees the usual answer and the signature is
held out of counts until reviewed), or allows (overrides every other rule). The sign path calls
`signature_rules_check`, which reads compiled rules kept in the process and looks again at most every
VIGIL_SIGNATURE_RULES_SECONDS whether any rule changed. Changing rules goes through `signature_rule_add`,
`signature_rule_change` and `signature_rule_remove`, each written to the audit (SignatureRuleChange).
"""

import functools
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import re2
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from core.outage import DATABASE_DOWN, database_unreachable
from signatures.countries import COUNTRY_NAMES
from signatures.email import InvalidEmail, email_canonical, email_domain_ascii
from signatures.models import (
    ALLOWABLE_KINDS,
    RegionTally,
    RuleAction,
    RuleKind,
    SignatureRule,
    SignatureRuleChange,
)

logger = logging.getLogger(__name__)

_GLOB_CHARS = frozenset("*?")
_PATTERN_HELP = "A pattern is a domain with * (any letters) or ? (one letter), like spam-*.example."


class RuleError(ValueError):
    """A rule that cannot be added as given; the message says why, for the person adding it."""


@dataclass(frozen=True)
class Verdict:
    action: str  # RuleAction.REFUSE or RuleAction.MARK
    rule_id: int


# --- Look-alike letters ----------------------------------------------------------------------------------------


@functools.cache
def _confusable_table() -> dict[int, str]:
    """Non-ASCII characters that Unicode's confusables table says look like an ASCII letter or digit."""
    from confusable_homoglyphs.confusables import confusables_data

    table = {}
    for char, glyphs in confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for glyph in glyphs:
            target = glyph["c"].lower()
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[ord(char)] = target
                break
    return table


def skeleton(text: str) -> str:
    """The text with look-alike letters replaced by the ASCII ones they imitate (`раураl` → `paypal`); ASCII text
    is returned as it is."""
    if text.isascii():
        return text
    return text.translate(_confusable_table())


def _domain_unicode(domain: str) -> str:
    if "xn--" not in domain:
        return domain
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain


# --- Normalising what organisers type ---------------------------------------------------------------------------


def rule_value_normalise(*, kind: str, value: str) -> str:
    """The value as rules are compared, or RuleError with what is wrong."""
    value = (value or "").strip()
    if kind == RuleKind.DISPOSABLE:
        return ""
    if not value:
        raise RuleError("Enter what the rule matches.")
    if kind == RuleKind.IP_RANGE:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise RuleError("Enter an address or a range in CIDR form, like 203.0.113.0/24 or 2001:db8::/64.") from exc
        if network.prefixlen < (8 if network.version == 4 else 16):
            raise RuleError("That range is too wide: it would cover a large part of the internet.")
        return str(network)
    if kind == RuleKind.DOMAIN:
        domain = value.lower().lstrip("@").rstrip(".")
        if set(domain) & set("[]{}()|\\^$+"):
            raise RuleError(_PATTERN_HELP)
        if _GLOB_CHARS & set(domain):
            if domain.replace("*", "").replace("?", "").replace(".", "") == "":
                raise RuleError("That pattern would match every domain.")
            try:
                labels = [
                    email_domain_ascii(label) if not _GLOB_CHARS & set(label) else label for label in domain.split(".")
                ]
                email_domain_ascii(domain.replace("*", "a").replace("?", "a"))
            except InvalidEmail as exc:
                raise RuleError(_PATTERN_HELP) from exc
            return ".".join(labels)
        try:
            ascii_domain = email_domain_ascii(domain)
        except InvalidEmail as exc:
            raise RuleError(str(exc)) from exc
        if "." not in ascii_domain:
            raise RuleError("Enter a whole domain, like example.com.")
        return ascii_domain
    if kind == RuleKind.ADDRESS:
        try:
            return email_canonical(value)
        except InvalidEmail as exc:
            raise RuleError(str(exc)) from exc
    if kind == RuleKind.COUNTRY_LIMIT:
        code = value.upper()
        if code not in COUNTRY_NAMES:
            raise RuleError("Choose a country from the list.")
        return code
    raise RuleError("Choose what kind of rule this is.")


# --- Compiled rules ---------------------------------------------------------------------------------------------


def _glob_regex(glob: str) -> str:
    """A domain pattern as a regular expression: * any run of characters, ? one, the rest as written."""
    return "".join(".*" if char == "*" else "." if char == "?" else re2.escape(char) for char in glob)


@dataclass
class _Scope:
    """One scope's rules (every petition, or one), indexed for lookups that cost the same with 10 or 10,000."""

    addresses: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    domains: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    globs: list[tuple[str, str, int]] = field(default_factory=list)
    glob_matcher: object = None
    disposable: list[tuple[str, int]] = field(default_factory=list)
    # {(version, prefix length): {network as an int: [(action, rule id)]}}
    networks: dict[tuple[int, int], dict[int, list[tuple[str, int]]]] = field(default_factory=dict)
    countries: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # code: (action, id, limit)

    def add(self, rule: SignatureRule) -> None:
        entry = (rule.action, rule.pk)
        if rule.kind == RuleKind.ADDRESS:
            self.addresses.setdefault(rule.value, []).append(entry)
            alike = skeleton(rule.value)
            if alike != rule.value:
                self.addresses.setdefault(alike, []).append(entry)
        elif rule.kind == RuleKind.DOMAIN:
            if _GLOB_CHARS & set(rule.value):
                self.globs.append((rule.value, rule.action, rule.pk))
            else:
                self.domains.setdefault(rule.value, []).append(entry)
                alike = skeleton(_domain_unicode(rule.value))
                if alike != rule.value:
                    self.domains.setdefault(alike, []).append(entry)
        elif rule.kind == RuleKind.DISPOSABLE:
            self.disposable.append(entry)
        elif rule.kind == RuleKind.IP_RANGE:
            network = ipaddress.ip_network(rule.value)
            key = (network.version, network.prefixlen)
            bits = network.max_prefixlen - network.prefixlen
            self.networks.setdefault(key, {}).setdefault(int(network.network_address) >> bits, []).append(entry)
        elif rule.kind == RuleKind.COUNTRY_LIMIT and rule.limit is not None:
            self.countries[rule.value] = (rule.action, rule.pk, rule.limit)

    def finish(self) -> None:
        if self.globs:
            # One RE2 set: a single pass over the domain says which of the patterns match it, however many.
            matcher = re2.Set.FullMatchSet()
            for glob, _action, _pk in self.globs:
                matcher.Add(_glob_regex(glob))
            matcher.Compile()
            self.glob_matcher = matcher

    def matches(self, *, addresses: list[str], domain: str, domains: list[str], ip, petition_id: int, country: str):
        """Every (action, rule id) of this scope that matches. `addresses` and `domains` are the signer's (the
        domain with its parents) and their look-alike skeletons; `domain` is the domain as given, for patterns."""
        found = []
        for address in addresses:
            found.extend(self.addresses.get(address, ()))
        for name in domains:
            found.extend(self.domains.get(name, ()))
        if self.glob_matcher is not None and domain:
            for index in self.glob_matcher.Match(domain) or ():
                _glob, action, pk = self.globs[index]
                found.append((action, pk))
        if self.disposable and domains and _is_disposable(domains):
            found.extend(self.disposable)
        if ip is not None and self.networks:
            number = int(ip)
            for (version, prefixlen), table in self.networks.items():
                if version == ip.version:
                    hit = table.get(number >> (ip.max_prefixlen - prefixlen))
                    if hit:
                        found.extend(hit)
        if country and country in self.countries:
            action, pk, limit = self.countries[country]
            if _country_count(petition_id=petition_id, country=country) >= limit:
                found.append((action, pk))
        return found


def _is_disposable(domains: list[str]) -> bool:
    from disposable_email_domains import blocklist

    return any(domain in blocklist for domain in domains)


@dataclass
class _Compiled:
    stamp: tuple
    checked_at: float
    everywhere: _Scope
    petitions: dict[int, _Scope]
    any_everywhere: bool


_compiled: _Compiled | None = None
_lock = threading.Lock()
_country_counts: dict[tuple[int, str], tuple[float, int]] = {}


def _stamp() -> tuple:
    found = SignatureRule.objects.aggregate(n=Count("pk"), latest=Max("changed_at"))
    return found["n"], found["latest"]


def _compile(stamp: tuple, now: float) -> _Compiled:
    everywhere, petitions, any_everywhere = _Scope(), {}, False
    for rule in SignatureRule.objects.filter(removed_at__isnull=True).order_by("pk").iterator(chunk_size=5000):
        scope = everywhere if rule.petition_id is None else petitions.setdefault(rule.petition_id, _Scope())
        any_everywhere = any_everywhere or rule.petition_id is None
        try:
            scope.add(rule)
        except ValueError:
            logger.exception("Signature rule %s could not be read; it is left out", rule.pk)
    everywhere.finish()
    for scope in petitions.values():
        scope.finish()
    return _Compiled(
        stamp=stamp, checked_at=now, everywhere=everywhere, petitions=petitions, any_everywhere=any_everywhere
    )


def _rules() -> _Compiled:
    """The compiled rules, looked at again when older than VIGIL_SIGNATURE_RULES_SECONDS (and rebuilt only if a
    rule was added, changed or removed since). While the database cannot be reached, the rules last read go on
    applying (none, in a process that never read them): signing goes on through the intake meanwhile."""
    global _compiled
    now = time.monotonic()
    compiled = _compiled
    if compiled is not None and now - compiled.checked_at < settings.VIGIL_SIGNATURE_RULES_SECONDS:
        return compiled
    with _lock:
        compiled = _compiled
        if compiled is not None and now - compiled.checked_at < settings.VIGIL_SIGNATURE_RULES_SECONDS:
            return compiled
        try:
            stamp = _stamp()
            if compiled is not None and compiled.stamp == stamp:
                compiled.checked_at = now
                return compiled
            _compiled = _compile(stamp, now)
        except DATABASE_DOWN as exc:
            database_unreachable(exc, what="signatures are checked against the rules last read")
            if compiled is None:
                _compiled = _Compiled(
                    stamp=None, checked_at=now, everywhere=_Scope(), petitions={}, any_everywhere=False
                )
            else:
                compiled.checked_at = now
            return _compiled
        _country_counts.clear()
        return _compiled


def signature_rules_forget() -> None:
    """Drop this process's compiled rules: the next check reads them again (after a change made here)."""
    global _compiled
    _compiled = None
    _country_counts.clear()


def _country_count(*, petition_id: int, country: str) -> int:
    """Confirmed signatures from one country on one petition, as the tallies say (re-read at most every
    VIGIL_SIGNATURE_RULES_SECONDS)."""
    key = (petition_id, country)
    now = time.monotonic()
    cached = _country_counts.get(key)
    if cached is not None and now - cached[0] < settings.VIGIL_SIGNATURE_RULES_SECONDS:
        return cached[1]
    try:
        total = RegionTally.objects.filter(petition_id=petition_id, country=country).aggregate(n=Sum("confirmed"))["n"]
    except DATABASE_DOWN as exc:
        database_unreachable(exc, what="country limits use the counts last read")
        total = cached[1] if cached is not None else 0
    _country_counts[key] = (now, total or 0)
    return total or 0


def _domain_and_parents(domain: str) -> list[str]:
    """`a.b.example.com` → [a.b.example.com, b.example.com, example.com] (never a bare top-level domain)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [domain]


def signature_rules_check(*, petition_id: int, canonical_email: str, ip: str = "", country: str = "") -> Verdict | None:
    """What the rules say about one signature: None to accept it as usual, or a Verdict to refuse it or hold it
    for review. `ip` is the client's address as received (it is not kept)."""
    compiled = _rules()
    scope = compiled.petitions.get(petition_id)
    if scope is None and not compiled.any_everywhere:
        return None
    address = canonical_email or ""
    domain = address.rpartition("@")[2]
    addresses = [address] if address else []
    domains = _domain_and_parents(domain) if domain else []
    if not address.isascii() or "xn--" in domain:  # Unicode: look for what it may imitate too
        alike_domain = skeleton(_domain_unicode(domain))
        addresses.append(skeleton(address.rpartition("@")[0]) + "@" + alike_domain)
        if alike_domain != domain:
            domains += _domain_and_parents(alike_domain)
    address_ip = None
    if ip:
        try:
            address_ip = ipaddress.ip_address(ip)
        except ValueError:
            address_ip = None
        else:
            if address_ip.version == 6 and address_ip.ipv4_mapped is not None:
                address_ip = address_ip.ipv4_mapped
    found = []
    for rules in (compiled.everywhere if compiled.any_everywhere else None, scope):
        if rules is not None:
            found.extend(
                rules.matches(
                    addresses=addresses, domain=domain, domains=domains, ip=address_ip, petition_id=petition_id,
                    country=country,
                )
            )  # fmt: skip
    if not found:
        return None
    actions = {action for action, _pk in found}
    if RuleAction.ALLOW in actions:
        return None
    wanted = RuleAction.REFUSE if RuleAction.REFUSE in actions else RuleAction.MARK
    return Verdict(action=wanted, rule_id=min(pk for action, pk in found if action == wanted))


# --- Changing rules ---------------------------------------------------------------------------------------------


def _action_check(*, kind: str, action: str) -> None:
    if action not in RuleAction.values:
        raise RuleError("Choose what the rule does.")
    if action == RuleAction.ALLOW and kind not in ALLOWABLE_KINDS:
        raise RuleError("Only networks, domains and addresses can be allowed.")


def _snapshot(rule: SignatureRule) -> dict:
    return {"kind": rule.kind, "action": rule.action, "value": rule.value, "limit": rule.limit, "note": rule.note}


def signature_rule_add(
    *,
    petition,
    by,
    kind: str,
    action: str,
    value: str = "",
    limit: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> SignatureRule:
    """Add a rule for one petition (`petition`) or every petition (None: staff only, which the caller checks)."""
    now = now or timezone.now()
    if kind not in RuleKind.values:
        raise RuleError("Choose what kind of rule this is.")
    _action_check(kind=kind, action=action)
    if kind == RuleKind.COUNTRY_LIMIT:
        if petition is None:
            raise RuleError("A country limit belongs to one petition.")
        if limit is None or limit < 0:
            raise RuleError("Give the number of signatures the country may reach.")
    else:
        limit = None
    value = rule_value_normalise(kind=kind, value=value)
    try:
        with transaction.atomic():
            rule = SignatureRule.objects.create(
                petition=petition, kind=kind, action=action, value=value, limit=limit, note=(note or "").strip()[:500],
                created_by=by, created_at=now, changed_at=now,
            )  # fmt: skip
            SignatureRuleChange.objects.create(
                rule=rule, petition=petition, by=by, at=now, change="added", after=_snapshot(rule)
            )
    except IntegrityError as exc:
        raise RuleError("There is already a rule for that.") from exc
    signature_rules_forget()
    logger.info("%s added signature rule %s: %s", by, rule.pk, rule)
    return rule


def signature_rule_change(*, rule: SignatureRule, by, action: str, note: str, now: datetime | None = None) -> bool:
    """Change what a rule does, or its note (what it matches is the rule itself: remove it and add another).
    Recorded like an addition; applies to signatures from the next look at the rules. False if nothing changed."""
    now = now or timezone.now()
    _action_check(kind=rule.kind, action=action)
    note = (note or "").strip()[:500]
    with transaction.atomic():
        current = SignatureRule.objects.select_for_update().get(pk=rule.pk)
        if current.removed_at is not None:
            raise RuleError("This rule was removed: add a new one.")
        if (current.action, current.note) == (action, note):
            return False
        before = _snapshot(current)
        current.action, current.note, current.changed_at = action, note, now
        current.save(update_fields=["action", "note", "changed_at"])
        SignatureRuleChange.objects.create(
            rule=current, petition=current.petition, by=by, at=now, change="changed", before=before,
            after=_snapshot(current),
        )  # fmt: skip
    rule.action, rule.note, rule.changed_at = action, note, now
    signature_rules_forget()
    return True


def signature_rule_remove(*, rule: SignatureRule, by, now: datetime | None = None) -> bool:
    """Remove a rule (it stays on record, and so does what it held). False if it was removed already."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = SignatureRule.objects.filter(pk=rule.pk, removed_at__isnull=True).update(
            removed_at=now, changed_at=now
        )
        if updated:
            SignatureRuleChange.objects.create(
                rule=rule, petition=rule.petition, by=by, at=now, change="removed", before=_snapshot(rule)
            )
    signature_rules_forget()
    return bool(updated)


# What a removed rule's value becomes once its time on record is up.
ERASED = "(erased)"


def signature_rules_prune(*, now: datetime | None = None) -> int:
    """Erase the address (or network) of address and network rules removed more than
    VIGIL_SIGNATURE_RULE_ERASE_DAYS ago, in the rule and in its audit: a suspected abuser's address is not kept
    for good once no rule needs it. What the rules did (held signatures, the record of changes) stays."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.VIGIL_SIGNATURE_RULE_ERASE_DAYS)
    with transaction.atomic():
        old = SignatureRule.objects.filter(
            kind__in=[RuleKind.ADDRESS, RuleKind.IP_RANGE], removed_at__lt=cutoff
        ).exclude(value=ERASED)
        ids = list(old.values_list("pk", flat=True))
        changes = list(SignatureRuleChange.objects.filter(rule_id__in=ids))
        for change in changes:
            for snapshot in (change.before, change.after):
                if snapshot.get("value"):
                    snapshot["value"] = ERASED
        SignatureRuleChange.objects.bulk_update(changes, ["before", "after"])
        erased = SignatureRule.objects.filter(pk__in=ids).update(value=ERASED)
    return erased
