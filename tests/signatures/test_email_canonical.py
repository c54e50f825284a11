"""One person, one canonical address: the rules, and every malformed or hostile address refused with a reason."""

import pytest

from signatures.email import InvalidEmail, email_canonical, email_masked


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("  Ann.Smith@Example.ORG ", "ann.smith@example.org"),  # trimmed, case-folded; dots kept off Gmail
        ("A.n.N+petitions@googlemail.com", "ann@gmail.com"),  # googlemail is gmail; dots and +tag ignored there
        ("ann+x@gmail.com", "ann@gmail.com"),
        ("ann+news@outlook.com", "ann@outlook.com"),
        ("ann+news@fastmail.com", "ann@fastmail.com"),
        ("ann+news@proton.me", "ann@proton.me"),
        ("ann+news@icloud.com", "ann@icloud.com"),
        ("ann+news@example.org", "ann+news@example.org"),  # a company server may not do sub-addressing
        ("a.nn@outlook.com", "a.nn@outlook.com"),  # dots matter outside Gmail
        ("ＡＮＮ@ｅｘａｍｐｌｅ.org", "ann@example.org"),  # full-width letters, NFKC
        ("STRASSE@example.org", "strasse@example.org"),
        ("ann@пример.рф", "ann@xn--e1afmkfd.xn--p1ai"),  # internationalised domain in ASCII
        ("ann@example.org.", "ann@example.org"),
    ],
)
def test_canonical_form(typed, canonical):
    assert email_canonical(typed) == canonical


def test_the_same_person_spelled_differently_is_one_address():
    spellings = [
        "Ann.Smith@gmail.com",
        "annsmith@googlemail.com",
        "ANN.SMITH+petition@GMAIL.COM",
        " a.n.n.s.m.i.t.h@gmail.com",
    ]
    assert {email_canonical(s) for s in spellings} == {"annsmith@gmail.com"}


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "Enter an e-mail address"),
        ("ann.example.org", "exactly one @"),
        ("ann@@example.org", "exactly one @"),
        ("ann smith@example.org", "spaces"),
        ("ann@exa mple.org", "spaces"),
        ("ann\x00@example.org", "invisible"),
        ("ann\u200b@example.org", "invisible"),  # zero-width space
        ("ann\r\nBcc: victim@example.org@example.org", "invisible"),  # header injection
        ("a" * 290 + "@example.org", "at most 254"),
        ("ann@gmаil.com", "different alphabets"),  # Cyrillic а among Latin letters
        ("ann@pаypal.com", "different alphabets"),
        ('"ann"@example.org', "not one we can use"),
        ("ann@", "not a valid domain"),
        ("ann@-example-.org", "not a valid"),
        ("ann@example", "not a valid"),
        ("<script>@example.org", "not a valid"),
        ("+tag@gmail.com", "not one we can use"),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(typed, why):
    with pytest.raises(InvalidEmail, match=why):
        email_canonical(typed)


def test_masked_address_reveals_little():
    assert email_masked("ann.smith@gmail.com") == "a•••@g•••.com"
    assert "smith" not in email_masked("ann.smith@example.org")
