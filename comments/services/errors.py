"""The comments app's domain errors: each carries a message fit to show the person who caused it."""


class CommentError(ValueError):
    """Any refusal of the comments services."""


class CommentNotAllowed(CommentError):
    """This person may not write here (not signed in, not verified, suspended or banned)."""


class DiscussionClosed(CommentError):
    pass


class CommentInvalid(CommentError):
    """Empty, too long, or a reply that cannot be made (wrong article, removed parent, too deep)."""


class FlagDuplicate(CommentError):
    pass


class ModerationError(CommentError):
    """An illegal moderation move: no permission, or the comment is not in a state the decision applies to."""
