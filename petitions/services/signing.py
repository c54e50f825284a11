"""One signature sent by a person (the sign form) or for a person (the API's record signature helper): the same
checks, limits and answers for both, in this order: over the sender's limit, petition not open, invalid details,
over the e-mail's limit. An accepted signature is handed to the intake, which a worker writes in batches, or, with
no intake, written here in one statement (signatures.services.signing.signature_create). Either way it waits for
its signer's confirmation by e-mail."""

import enum
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from petitions.forms import SignForm
from petitions.models import Petition
from signatures.models import RuleAction
from signatures.ratelimits import sign_rate_limited
from signatures.services import intake, rules, signing

# What a signer refused by a rule reads: the usual words for a signature that cannot be taken, naming no rule.
REFUSED = gettext_lazy("We could not accept this signature. If you think this is a mistake, write to the organisers.")


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    SENDER_OVER = "sender_over"  # too many from this address (or this API token)
    NOT_OPEN = "not_open"
    INVALID = "invalid"  # the form's errors say why
    EMAIL_OVER = "email_over"  # too many with this e-mail address on this petition


@dataclass(frozen=True)
class Submitted:
    outcome: Outcome
    notice: str = ""


def signature_submit(
    request: HttpRequest,
    *,
    petition: Petition,
    form: SignForm,
    ip: str,
    sender_rate: str,
    sender: tuple[str, str] | None = None,
) -> Submitted:
    """Decide on one signature. `ip` is the signer's address as far as it is known (its HMAC is kept; "" when a
    tool sends for the signer); `sender` is what `sender_rate` counts: a group and a value, or the client's address
    when None."""
    valid = form.is_valid()
    accepts = petition.accepts_signatures()
    entry = None
    marked_rule = None
    if valid and accepts:
        # The rules see the client's address here, before only its hash is kept.
        verdict = rules.signature_rules_check(
            petition_id=petition.pk, canonical_email=form.canonical_email, ip=ip, country=form.cleaned_data["country"]
        )
        if verdict is not None and verdict.action == RuleAction.REFUSE:
            form.add_error(None, REFUSED)
            valid = False
        elif verdict is not None:
            marked_rule = verdict.rule_id
    if valid and accepts and intake.intake_enabled():
        try:
            entry = intake.signature_intake_entry(
                petition=petition,
                details=form.details(),
                origin=form.origin(ip=ip, marked_rule=marked_rule),
                canonical=form.canonical_email,
            )
        except (signing.InvalidEmail, signing.SignatureError) as exc:
            form.add_error(None, str(exc))
            valid = False
    limits = sign_rate_limited(
        request,
        petition_id=petition.pk,
        ip_rate=sender_rate,
        email_rate=settings.VIGIL_SIGN_RATE_PER_EMAIL,
        canonical_email=form.canonical_email if valid else None,
        intake=entry,
        source=sender,
    )
    if limits.ip_over:
        return Submitted(Outcome.SENDER_OVER)
    if not accepts:
        return Submitted(Outcome.NOT_OPEN, _("This petition is not open for signatures."))
    if not valid:
        return Submitted(Outcome.INVALID)
    if limits.email_over:
        return Submitted(Outcome.EMAIL_OVER)
    if limits.queued:
        intake.signature_intake_drain_soon()
        return Submitted(Outcome.ACCEPTED)
    try:
        signing.signature_create(
            petition=petition, details=form.details(), origin=form.origin(ip=ip, marked_rule=marked_rule)
        )
    except signing.PetitionNotOpen as exc:
        return Submitted(Outcome.NOT_OPEN, str(exc))
    except (signing.InvalidEmail, signing.SignatureError) as exc:
        form.add_error(None, str(exc))
        return Submitted(Outcome.INVALID)
    return Submitted(Outcome.ACCEPTED)
