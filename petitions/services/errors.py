"""What the petition services raise: a move the petition cannot make, with a message that says why."""


class PetitionError(ValueError):
    """A move the petition cannot make; the message says why."""


class PetitionStateError(PetitionError):
    pass
