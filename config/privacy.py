"""Every class of personal data Vigil holds, and the rule that removes or anonymises it (core.privacy).

README's privacy section shows this table (tests/privacy/test_lifecycle.py keeps them equal). Where data is kept on
purpose (the delivery log) or left to its owner (an account), the table says so rather than promise a schedule.
"""

from django.db.models import Min, Q

from core.models import OutboundEmail
from core.privacy import PersonalData
from deliverables.models import (
    Delivery,
    DeliveryItem,
    JobState,
    LetterCompile,
    PacketExport,
    PrivateDownload,
    SignOn,
    SignOnState,
)
from petitions.models import PetitionInvitation
from signatures.models import IntakeFailure, RuleKind, Signature, SignatureRule, SignatureState
from signatures.services.rules import ERASED

HOURLY = "core.tasks.privacy_rules_task (hourly)"


def _held(queryset, field: str):
    found = queryset.aggregate(oldest=Min(field))
    return queryset.count(), found["oldest"]


def held_pending_signatures():
    return _held(Signature.objects.filter(state=SignatureState.PENDING), "created_at")


def held_signers():
    return _held(
        Signature.objects.filter(anonymised_at__isnull=True).exclude(state=SignatureState.PENDING), "created_at"
    )


def held_outbox():
    return _held(OutboundEmail.objects.filter(scrubbed_at__isnull=True), "created_at")


def held_intake_failures():
    return _held(IntakeFailure.objects.all(), "failed_at")


def held_download_addresses():
    return _held(PrivateDownload.objects.exclude(ip_hash=""), "at")


def held_packets():
    return _held(PacketExport.objects.exclude(file_name=""), "created_at")


def held_signons():
    return _held(SignOn.objects.filter(anonymised_at__isnull=True).exclude(email=""), "created_at")


def held_unverified_uploads():
    unverified = SignOn.objects.filter(state__in=[SignOnState.PENDING, SignOnState.REJECTED])
    return _held(unverified.exclude(logo="", proof_file=""), "created_at")


def held_delivered_files():
    items = DeliveryItem.objects.exclude(file_name="")
    compiles = LetterCompile.objects.filter(state=JobState.DONE).exclude(file_name="")
    counts = [_held(items, "delivery__created_at"), _held(compiles, "created_at")]
    oldest = [when for _count, when in counts if when is not None]
    return sum(count for count, _when in counts), min(oldest) if oldest else None


def held_rule_addresses():
    rules = SignatureRule.objects.filter(kind__in=[RuleKind.ADDRESS, RuleKind.IP_RANGE]).exclude(value=ERASED)
    return _held(rules, "created_at")


def held_invitations():
    return _held(PetitionInvitation.objects.all(), "created_at")


def held_deliveries():
    return _held(Delivery.objects.filter(~Q(recipient_email="")), "created_at")


REGISTRY = [
    PersonalData(
        name="signatures-pending",
        what="Unconfirmed signatures: name, e-mail, town, postal code, hashed address, referrer",
        where="`signatures_signature` (state pending)",
        rule="deleted, with the e-mails written to them, this many days after signing",
        setting="`VIGIL_SIGNATURE_PENDING_PURGE_DAYS` (14)",
        task="signatures.tasks.signatures_pending_purge_task (hourly)",
        apply="signatures.services.privacy.signatures_pending_purge",
        holding="config.privacy.held_pending_signatures",
    ),
    PersonalData(
        name="signers",
        what="Confirmed and withdrawn signers: name, e-mail, town, postal code, hashed address, referrer "
        "(a withdrawal erases the name, town and postal code at once; the e-mail stays to recognise a new signature)",
        where="`signatures_signature`",
        rule="anonymised (every personal field erased; state, country, region and times kept for the counts), "
        "with the e-mails written to them, this many months after the petition closes",
        setting="`VIGIL_SIGNATURE_ANONYMISE_AFTER_MONTHS` (6)",
        task="petitions.tasks.petitions_anonymise_due_task (every 6 hours)",
        apply="petitions.services.lifecycle.petitions_anonymise_due",
        holding="config.privacy.held_signers",
    ),
    PersonalData(
        name="outbox",
        what="E-mails on their way out: recipients, subject, bodies, headers, rendering context, attachment paths",
        where="`core_outboundemail`",
        rule="scrubbed this many days after sent or given up; at once when the signature they were about is "
        "withdrawn, purged or anonymised",
        setting="`VIGIL_OUTBOX_RETENTION_DAYS` (30)",
        task=HOURLY,
        apply="core.services.scrub.outbound_email_scrub_due",
        holding="config.privacy.held_outbox",
    ),
    PersonalData(
        name="intake",
        what="Signatures waiting in the signing intake, and entries set aside with their error",
        where="Redis list `signatures:intake:queue`; `signatures_intakefailure`",
        rule="the list is written to the database within seconds; set-aside entries are deleted with unconfirmed "
        "signatures; entry ids (no personal data) after a day",
        setting="`VIGIL_SIGNATURE_PENDING_PURGE_DAYS` (14), `VIGIL_SIGN_INTAKE_RECEIPT_HOURS` (24)",
        task="signatures.tasks.signatures_pending_purge_task (hourly)",
        apply="signatures.services.intake.signature_intake_records_purge",
        holding="config.privacy.held_intake_failures",
    ),
    PersonalData(
        name="rate-limits",
        what="Rate-limit counters: keyed by hashed client address and hashed e-mail address",
        where="Redis (the cache)",
        rule="each key expires with its window (at most a day)",
        setting="`VIGIL_SIGN_RATE_PER_IP`, `VIGIL_SIGN_RATE_PER_EMAIL`",
        task="Redis key expiry",
    ),
    PersonalData(
        name="download-log",
        what="Download and delivery-link log: account, file, time, hashed client address",
        where="`signatures_privatedownload`",
        rule="the hashed address erased this many days after the download (account, file and time kept)",
        setting="`VIGIL_DOWNLOAD_LOG_ADDRESS_DAYS` (90)",
        task=HOURLY,
        apply="deliverables.services.privacy.private_downloads_prune",
        holding="config.privacy.held_download_addresses",
    ),
    PersonalData(
        name="packets",
        what="Signature packets (CSV, PDF): signers' names, towns, and e-mails where asked for",
        where="files under `VIGIL_PRIVATE_ROOT`; `signatures_packetexport`",
        rule="the file deleted this many days after it was made",
        setting="`VIGIL_EXPORT_EXPIRY_DAYS` (14)",
        task="deliverables.tasks.packet_exports_expire_task (hourly)",
        apply="deliverables.services.packets.packet_exports_expire",
        holding="config.privacy.held_packets",
    ),
    PersonalData(
        name="delivered-files",
        what="Copies of packets and letters attached to deliveries; compiled letter PDFs (signatories' names)",
        where="files under `VIGIL_PRIVATE_ROOT`; `petitions_deliveryitem`, `petitions_lettercompile`",
        rule="the files deleted this many days after they were made; the delivery log keeps what, when, to whom, "
        "size and checksum",
        setting="`VIGIL_DELIVERED_FILE_EXPIRY_DAYS` (90)",
        task=HOURLY,
        apply="deliverables.services.delivery.deliverables_files_expire",
        holding="config.privacy.held_delivered_files",
    ),
    PersonalData(
        name="sign-ons",
        what="Sign-ons to letters: contact e-mail, signer's name and role, review note, proof document",
        where="`signatures_signon`; proof files under `VIGIL_PRIVATE_ROOT`",
        rule="erased (the proof file deleted) this many months after the letter closes; the organisation's name, "
        "website and logo, public on the letter, stay",
        setting="`VIGIL_SIGNON_ANONYMISE_AFTER_MONTHS` (6)",
        task=HOURLY,
        apply="deliverables.services.privacy.signons_anonymise_due",
        holding="config.privacy.held_signons",
    ),
    PersonalData(
        name="sign-on-uploads",
        what="Logos and proof documents of sign-ons never confirmed by e-mail, or rejected",
        where="files under `MEDIA_ROOT` and `VIGIL_PRIVATE_ROOT`",
        rule="deleted this many days after the sign-on",
        setting="`VIGIL_SIGNON_UNVERIFIED_UPLOAD_DAYS` (30)",
        task=HOURLY,
        apply="deliverables.services.privacy.signons_unverified_uploads_remove",
        holding="config.privacy.held_unverified_uploads",
    ),
    PersonalData(
        name="delivery-recipients",
        what="Deliveries: the recipient's name and e-mail address, the covering note",
        where="`petitions_delivery`",
        rule="kept: the delivery log is the campaign's public record of what was delivered to whom",
        setting="",
        task="—",
        holding="config.privacy.held_deliveries",
    ),
    PersonalData(
        name="invitations",
        what="Invitations to organise a petition: the invited e-mail address",
        where="`petitions_petitioninvitation`",
        rule="deleted when accepted, withdrawn, replaced, or this many days after they were sent",
        setting="`VIGIL_INVITATION_MAX_AGE_DAYS` (14)",
        task=HOURLY,
        apply="petitions.services.memberships.petition_invitations_expire",
        holding="config.privacy.held_invitations",
    ),
    PersonalData(
        name="signature-rules",
        what="Signature rules naming one e-mail address (canonical form) or a network, with their audit",
        where="`signatures_signaturerule`, `signatures_signaturerulechange`",
        rule="kept while the rule is in force; erased (in the rule and its audit) this many days after it is removed",
        setting="`VIGIL_SIGNATURE_RULE_ERASE_DAYS` (90)",
        task=HOURLY,
        apply="signatures.services.rules.signature_rules_prune",
        holding="config.privacy.held_rule_addresses",
    ),
    PersonalData(
        name="accounts-and-comments",
        what="Accounts (e-mail, name, second factor) and the comments written under them",
        where="`auth_user`, allauth's tables, `comments_comment`",
        rule="deleted when its owner deletes the account (`/account/delete/`): the account, its addresses and "
        'second factors go, its comments\' words are erased (a "[deleted]" place keeps replies in their thread), '
        "mail to its addresses is scrubbed",
        setting="",
        task="the account's owner",
    ),
    PersonalData(
        name="logs",
        what="Application and access logs (client addresses in the web server's access log)",
        where="standard output, collected by the process manager",
        rule="the process manager's retention (Docker's default keeps container logs until the container is removed)",
        setting="",
        task="the process manager",
    ),
]
