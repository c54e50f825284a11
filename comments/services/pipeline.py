"""The checks every comment passes, on posting and on editing: a pipeline of small named steps, run in the order
VIGIL_COMMENTS_PIPELINE gives, the first that objects holding the comment for a moderator.

Each step takes the submission and answers None (no objection) or a Hold: the step's name, recorded on the comment
(`held_by_step`, shown to moderators in the queue) and a reason in plain words (`state_reason`, shown to the author).

- watch_words: a word or phrase moderators watch (WatchedPattern; RE2 for regular expressions).
- standing: an account whose recent comments moderators often removed (more than
  VIGIL_COMMENTS_REJECTION_RATE of its last VIGIL_COMMENTS_STANDING_SAMPLE decided comments, and at least two) is
  checked again before its comments appear.
- new_account: an account's first VIGIL_COMMENTS_HOLD_FIRST comments (not on an edit).
- links: a link from an account with fewer than VIGIL_COMMENTS_LINKS_MIN_APPROVED comments that appeared.
- repeats: the same words (compared after folding case, spacing and punctuation) by the same account within
  VIGIL_COMMENTS_REPEAT_WINDOW_MINUTES, or by VIGIL_COMMENTS_REPEAT_ACCOUNTS accounts or more.
- hook: an outside moderation service, if VIGIL_COMMENTS_HOOK_URL is set (see step_hook).
An account is trusted once VIGIL_COMMENTS_TRUSTED_AFTER of its comments appeared and none was removed within
VIGIL_COMMENTS_STANDING_DAYS: new_account and links let it through.
"""

import hashlib
import hmac
import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import re2
import urllib3
from django.conf import settings
from django.db.models import Count, Max

from accounts.models import User
from comments.models import Comment, CommentState, WatchedPattern

logger = logging.getLogger(__name__)
_INVISIBLE = frozenset({"Cf", "Cc"})
_LINK = re.compile(r"https?://|www\.|<a\s", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")

HOLD_REASON_NEW_ACCOUNT = "New accounts' first comments are checked by a moderator before they appear."
HOLD_REASON_WATCHED = "It contains a word or phrase that a moderator checks before it appears."
HOLD_REASON_STANDING = "Several of your recent comments were removed, so a moderator checks yours before they appear."
HOLD_REASON_LINKS = "Links from accounts new to the discussion are checked by a moderator before they appear."
HOLD_REASON_REPEAT_OWN = "You posted the same words a short while ago; a moderator checks repeated comments."
HOLD_REASON_REPEAT_MANY = "The same words were posted by several accounts; a moderator checks them before they appear."


@dataclass(frozen=True)
class Hold:
    step: str
    reason: str


@dataclass
class Submission:
    """What the steps look at: the author, the words as typed, and (for an edit) the comment being changed."""

    author: User
    text: str
    now: datetime
    comment_id: int | None = None

    @property
    def is_edit(self) -> bool:
        return self.comment_id is not None

    @cached_property
    def fingerprint(self) -> str:
        return text_fingerprint(self.text)

    @cached_property
    def standing(self) -> "Standing":
        return _standing(author=self.author, now=self.now, exclude=self.comment_id)


@dataclass(frozen=True)
class Standing:
    # All three among the account's last VIGIL_COMMENTS_STANDING_SAMPLE comments:
    appeared: int  # visible now
    removed_recently: int  # removed by moderators within VIGIL_COMMENTS_STANDING_DAYS
    rejection_rate: float  # removed, among those decided (visible or removed)

    @property
    def trusted(self) -> bool:
        return self.appeared >= settings.VIGIL_COMMENTS_TRUSTED_AFTER and not self.removed_recently


def _standing(*, author: User, now: datetime, exclude: int | None) -> Standing:
    """Read from the account's last VIGIL_COMMENTS_STANDING_SAMPLE comments, in one query on its (author, created)
    index: an account with thousands of comments costs no more than a new one."""
    since = now - timedelta(days=settings.VIGIL_COMMENTS_STANDING_DAYS)
    recent = list(
        Comment.objects.filter(author=author)
        .exclude(pk=exclude)
        .order_by("-created_at")
        .values_list("state", "state_changed_at")[: settings.VIGIL_COMMENTS_STANDING_SAMPLE]
    )
    appeared = sum(1 for state, _changed in recent if state == CommentState.VISIBLE)
    removed = [changed for state, changed in recent if state == CommentState.REMOVED]
    decided = appeared + len(removed)
    return Standing(appeared=appeared, removed_recently=sum(1 for changed in removed if changed >= since),
                    rejection_rate=len(removed) / decided if decided else 0.0)  # fmt: skip


def folded(text: str) -> str:
    """Text as the checks see it: Unicode folded (full-width letters, ligatures), invisibles gone, case folded."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE).casefold()


def text_fingerprint(text: str) -> str:
    """The same for the same words, whatever their case, spacing or punctuation (the repeats step compares these)."""
    return hashlib.sha256(_NOT_WORD.sub(" ", folded(text)).strip().encode()).hexdigest()[:40]


def watch_regex_compile(pattern: str):
    """A moderator's pattern, compiled by RE2 (case-insensitive): it matches in time linear in the text, whatever
    the pattern, so a pattern like (a+)+$ cannot hang a worker. None if RE2 cannot compile it (look-arounds and
    back-references are not RE2 syntax; watched_pattern_add refuses them)."""
    try:
        return re2.compile("(?i)" + pattern)
    except re2.error:
        return None


class _Watchlist:
    """Every watched pattern compiled once per process into two RE2 matchers (words and phrases as one alternation,
    expressions as another), compiled again when the list changes (its size or newest id moves; looked at every
    VIGIL_COMMENTS_WATCHLIST_SECONDS). RE2 matches in
    time linear in the text for any number of alternatives: a thousand patterns cost one pass over the comment."""

    def __init__(self) -> None:
        self.version: tuple | None = None
        self.checked_at = 0.0
        self.words = None
        self.expressions = None

    def current(self):
        now = time.monotonic()
        if self.version is not None and now - self.checked_at < settings.VIGIL_COMMENTS_WATCHLIST_SECONDS:
            return self.words, self.expressions
        self.checked_at = now
        version = tuple(WatchedPattern.objects.aggregate(n=Count("pk"), last=Max("pk")).values())
        if version != self.version:
            words = [folded(p) for p in WatchedPattern.objects.filter(is_regex=False).values_list("pattern", flat=True)]
            expressions = [
                p for p in WatchedPattern.objects.filter(is_regex=True).values_list("pattern", flat=True)
                if watch_regex_compile(p) is not None
            ]  # fmt: skip
            # A word or phrase matches whole: not inside a longer word (letters, digits or underscore either side).
            alternation = "|".join(re2.escape(word) for word in words if word)
            self.words = re2.compile(rf"(?i)(?:^|[^\pL\pN_])(?:{alternation})(?:[^\pL\pN_]|$)") if alternation else None
            self.expressions = re2.compile("(?i)(?:" + ")|(?:".join(expressions) + ")") if expressions else None
            self.version = version
        return self.words, self.expressions


_watchlist = _Watchlist()


def watched_words_match(*, text: str) -> bool:
    """Whether the text contains a watched word or phrase, or matches a watched expression."""
    words, expressions = _watchlist.current()
    text = folded(text)
    return bool((words is not None and words.search(text)) or (expressions is not None and expressions.search(text)))


# --- The steps ------------------------------------------------------------------------------------------------------


def step_watch_words(submission: Submission) -> Hold | None:
    if watched_words_match(text=submission.text):
        return Hold("watch_words", HOLD_REASON_WATCHED)
    return None


def step_standing(submission: Submission) -> Hold | None:
    standing = submission.standing
    if standing.rejection_rate > settings.VIGIL_COMMENTS_REJECTION_RATE and standing.removed_recently >= 2:
        return Hold("standing", HOLD_REASON_STANDING)
    return None


def step_new_account(submission: Submission) -> Hold | None:
    hold_first = settings.VIGIL_COMMENTS_HOLD_FIRST
    if submission.is_edit or not hold_first or submission.standing.trusted:
        return None
    if Comment.objects.filter(author=submission.author).order_by()[:hold_first].count() < hold_first:
        return Hold("new_account", HOLD_REASON_NEW_ACCOUNT)
    return None


def step_links(submission: Submission) -> Hold | None:
    if not _LINK.search(submission.text) or submission.standing.trusted:
        return None
    if submission.standing.appeared < settings.VIGIL_COMMENTS_LINKS_MIN_APPROVED:
        return Hold("links", HOLD_REASON_LINKS)
    return None


def step_repeats(submission: Submission) -> Hold | None:
    if len(_NOT_WORD.sub("", submission.text)) < settings.VIGIL_COMMENTS_REPEAT_MIN_CHARS:
        return None  # "Agreed." twice is not spam
    since = submission.now - timedelta(minutes=settings.VIGIL_COMMENTS_REPEAT_WINDOW_MINUTES)
    same = (
        Comment.objects.filter(fingerprint=submission.fingerprint, created_at__gte=since)
        .exclude(pk=submission.comment_id)
        .exclude(state=CommentState.DELETED_BY_AUTHOR)
    )
    authors = set(same.values_list("author_id", flat=True)[:50])
    if submission.author.pk in authors:
        return Hold("repeats", HOLD_REASON_REPEAT_OWN)
    if len(authors | {submission.author.pk}) >= settings.VIGIL_COMMENTS_REPEAT_ACCOUNTS:
        return Hold("repeats", HOLD_REASON_REPEAT_MANY)
    return None


HOLD_REASON_HOOK = "It waits for a moderator's check."
HOLD_REASON_HOOK_FAILED = "An automatic check could not be completed, so a moderator checks it before it appears."
_hook_pool = None


def _hook():
    global _hook_pool
    if _hook_pool is None:
        _hook_pool = urllib3.PoolManager(retries=False, maxsize=4)
    return _hook_pool


def step_hook(submission: Submission) -> Hold | None:
    """An outside moderation service (VIGIL_COMMENTS_HOOK_URL), asked over HTTPS with the comment's words and an
    opaque id for its account (never the account's name or address), signed like Vigil's webhooks
    (`Vigil-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>` under VIGIL_COMMENTS_HOOK_SECRET). It answers
    JSON {"hold": true|false, "reason": "..."}. No answer within VIGIL_COMMENTS_HOOK_TIMEOUT_MS, an error or an
    answer it cannot read holds the comment for a moderator: never lost, never shown unchecked."""
    url = settings.VIGIL_COMMENTS_HOOK_URL
    if not url:
        return None
    secret = settings.VIGIL_COMMENTS_HOOK_SECRET.encode()
    author = hmac.new(secret, f"author:{submission.author.pk}".encode(), hashlib.sha256).hexdigest()[:32]
    body = json.dumps({"text": submission.text, "author": author, "edit": submission.is_edit}).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    try:
        response = _hook().request(
            "POST", url, body=body, redirect=False,
            headers={"Content-Type": "application/json", "Vigil-Signature": f"t={stamp},v1={signature}"},
            timeout=urllib3.Timeout(total=settings.VIGIL_COMMENTS_HOOK_TIMEOUT_MS / 1000),
        )  # fmt: skip
        if response.status != 200:
            raise ValueError(f"answered {response.status}")
        answer = json.loads(response.data)
        hold = answer["hold"]
        if not isinstance(hold, bool):
            raise ValueError("'hold' is not true or false")
    except (urllib3.exceptions.HTTPError, ValueError, KeyError, TypeError) as exc:
        logger.warning("The comment moderation hook failed (%s): the comment is held", exc)
        return Hold("hook", HOLD_REASON_HOOK_FAILED)
    if hold:
        reason = answer.get("reason")
        return Hold("hook", reason[:300] if isinstance(reason, str) and reason.strip() else HOLD_REASON_HOOK)
    return None


STEPS = {
    "watch_words": step_watch_words,
    "standing": step_standing,
    "new_account": step_new_account,
    "links": step_links,
    "repeats": step_repeats,
    "hook": step_hook,
}


def comment_screen(*, submission: Submission) -> Hold | None:
    """Run the steps in order; the first Hold wins (None: the comment may appear at once)."""
    for name in settings.VIGIL_COMMENTS_PIPELINE:
        hold = STEPS[name](submission)
        if hold is not None:
            return hold
    return None
