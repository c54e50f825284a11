"""Writes and workflows for discussion and moderation; see each module. Import from here."""

from comments.services.counts import comment_counts_reconcile
from comments.services.errors import (
    CommentError,
    CommentInvalid,
    CommentNotAllowed,
    DiscussionClosed,
    FlagDuplicate,
    ModerationError,
)
from comments.services.moderation import (
    comment_approve,
    comment_remove,
    comment_remove_and_suspend,
    moderation_action_reverse,
    reader_comments_hide_all,
    reader_suspend,
    suspension_lift,
    watched_pattern_add,
    watched_pattern_delete,
)
from comments.services.notices import (
    comment_preferences_set,
    comment_reply_notice_queue,
    reply_notices_wanted,
    unsubscribe_token,
    unsubscribe_token_user,
)
from comments.services.writing import (
    Eligibility,
    FlagResult,
    comment_create,
    comment_delete_by_author,
    comment_edit,
    comment_eligibility,
    comment_flag,
    comment_text_clean,
    watched_pattern_matches,
)

__all__ = [
    "CommentError",
    "CommentInvalid",
    "CommentNotAllowed",
    "DiscussionClosed",
    "Eligibility",
    "FlagDuplicate",
    "FlagResult",
    "ModerationError",
    "comment_approve",
    "comment_counts_reconcile",
    "comment_create",
    "comment_delete_by_author",
    "comment_edit",
    "comment_eligibility",
    "comment_flag",
    "comment_preferences_set",
    "comment_remove",
    "comment_remove_and_suspend",
    "comment_reply_notice_queue",
    "comment_text_clean",
    "moderation_action_reverse",
    "reader_comments_hide_all",
    "reader_suspend",
    "reply_notices_wanted",
    "suspension_lift",
    "unsubscribe_token",
    "unsubscribe_token_user",
    "watched_pattern_add",
    "watched_pattern_delete",
    "watched_pattern_matches",
]
