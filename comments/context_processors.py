"""The moderators' queue sizes for the header: one small query, made only when a signed-in page shows the nav."""

from django.utils.functional import SimpleLazyObject

from comments.selectors import moderation_queue_counts_for_header


def moderation_queue(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"moderation_queue": None}
    return {"moderation_queue": SimpleLazyObject(lambda: moderation_queue_counts_for_header(user=user))}
