import factory
from django.utils import timezone

from deliverables.models import HoldingKind, Letter, LetterKind, LetterState, LetterVersion, SignOn, SignOnState
from petitions.models import MembershipRole
from tests.factories import staff_user
from tests.petitions.factories import MembershipFactory


def organiser_of(petition, role=MembershipRole.OWNER):
    from accounts.roles import ORGANISERS

    user = staff_user(ORGANISERS)
    MembershipFactory(petition=petition, user=user, role=role)
    return user


class OpenLetterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Letter
        skip_postgeneration_save = True

    petition = None
    kind = LetterKind.COALITION
    slug = factory.Sequence(lambda n: f"letter-{n}")
    title = "Organisations against face recognition"
    body = "We, the undersigned organisations, ask you to stop.\n\nSecond paragraph."
    state = LetterState.OPEN
    opened_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def version(self, create, extracted, **kwargs):
        if create:
            version = LetterVersion.objects.create(letter=self, number=1, title=self.title, body=self.body)
            Letter.objects.filter(pk=self.pk).update(current_version=version)
            self.current_version = version


class SignOnFactory(factory.django.DjangoModelFactory):
    """A verified organisation on a letter."""

    class Meta:
        model = SignOn

    letter = None
    letter_version = factory.LazyAttribute(lambda o: o.letter.current_version)
    state = SignOnState.VERIFIED
    name = factory.Sequence(lambda n: f"Organisation {n:03d}")
    website = factory.Sequence(lambda n: f"https://org{n}.example.org")
    canonical_website = factory.Sequence(lambda n: f"org{n}.example.org")
    signer_name = "Sam Director"
    signer_role = "Director"
    email = factory.Sequence(lambda n: f"contact{n}@org.example")
    canonical_email = factory.LazyAttribute(lambda o: o.email.lower())
    confirmed_at = factory.LazyFunction(timezone.now)
    reviewed_at = factory.LazyFunction(timezone.now)


class ShareholderSignOnFactory(SignOnFactory):
    website = ""
    canonical_website = ""
    holding_kind = HoldingKind.SHARES
    shares = 1200
