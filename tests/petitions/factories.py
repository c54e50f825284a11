import factory
from django.utils import timezone

from petitions.models import MembershipRole, Petition, PetitionMembership, PetitionStatus
from signatures.models import Signature, SignatureState


class DraftPetitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Petition

    title = factory.Sequence(lambda n: f"Stop the thing number {n}")
    slug = factory.Sequence(lambda n: f"stop-the-thing-{n}")
    target_name = "Dana Chief"
    target_organisation = "Megacorp"
    target_email = "ceo@megacorp.example"
    ask = "Stop selling face recognition to police."
    body = "<p>Because it matters.</p>"
    goal = 100
    status = PetitionStatus.DRAFT


class OpenPetitionFactory(DraftPetitionFactory):
    status = PetitionStatus.OPEN
    opened_at = factory.LazyFunction(timezone.now)


class ClosedPetitionFactory(OpenPetitionFactory):
    status = PetitionStatus.CLOSED
    closed_at = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PetitionMembership

    petition = factory.SubFactory(OpenPetitionFactory)
    user = None
    role = MembershipRole.OWNER


class PendingSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    petition = factory.SubFactory(OpenPetitionFactory)
    first_name = "Ann"
    last_name = "Example"
    email = factory.Sequence(lambda n: f"signer{n}@example.org")
    canonical_email = factory.LazyAttribute(lambda o: o.email.lower())
    email_domain = "example.org"
    country = "GB"
    region = "Scotland"
    town = "Glasgow"
    show_publicly = True
    state = SignatureState.PENDING
    mail_count = 1


class ConfirmedSignatureFactory(PendingSignatureFactory):
    state = SignatureState.CONFIRMED
    confirmed_at = factory.LazyFunction(timezone.now)
