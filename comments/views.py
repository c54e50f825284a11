"""The discussion pages and the moderators' tools. Each view parses input, calls a service or selector, renders.

Rate limits (django-ratelimit) on posting and on flagging are keyed on the account and on the client's address.
The address is `core.net.client_ip` (RATELIMIT_IP_META_KEY): the socket's address, or the one the trusted proxies
report (DJANGO_TRUSTED_PROXY_COUNT / DJANGO_TRUSTED_CLIENT_IP_HEADER; see README, "The client's address behind a
proxy"). Over a limit, the form comes back with status 429 and the reader's text still in it.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from comments import selectors, services
from comments.forms import (
    AuditFilterForm,
    CommentForm,
    FlagForm,
    ModerationForm,
    PreferencesForm,
    ReaderActionForm,
    WatchedPatternForm,
    suspension_days,
)
from comments.models import Comment, CommentState, ModerationAction, Suspension, WatchedPattern
from core import pagecache

MODERATE = "comments.moderate_comment"


def _rate(setting_name: str):
    def rate(group, request):
        return getattr(settings, setting_name)

    return rate


def _limits(kind: str):
    """Two limits on one action: per account and per client address; block=False sets request.limited instead."""
    user_rate = _rate(f"VIGIL_COMMENTS_{kind.upper()}_RATE_USER")
    ip_rate = _rate(f"VIGIL_COMMENTS_{kind.upper()}_RATE_IP")

    def decorator(view):
        view = ratelimit(group=f"comments:{kind}:ip", key="ip", rate=ip_rate, method="POST", block=False)(view)
        return ratelimit(group=f"comments:{kind}:user", key="user", rate=user_rate, method="POST", block=False)(view)

    return decorator


TOO_FAST = _("You are posting faster than we allow. Wait a few minutes and send it again: your text is kept below.")


# --- the discussion ---------------------------------------------------------------------------------------------


def _discussion_response(request, *, article, form=None, status=200, error: str = ""):
    data = selectors.discussion_page(
        article=article, viewer=request.user, page_number=request.GET.get("page"), sort=request.GET.get("sort", "")
    )
    eligibility = services.comment_eligibility(user=request.user) if article.comments_open else None
    if form is None and eligibility is not None and eligibility.allowed:
        form = CommentForm()
    return render(
        request,
        "comments/discussion.html",
        {"discussion": data, "article": article, "form": form, "eligibility": eligibility, "form_error": error},
        status=status,
    )


@require_GET
@pagecache.shared_page(
    query={"page": pagecache.small_page_number, "sort": lambda value: value in selectors.SORTS},
    scopes=lambda slug: [pagecache.discussion_scope(slug)],
)
def discussion(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_for_discussion(slug=slug, user=request.user)
    return _discussion_response(request, article=article)


@require_POST
@login_required
@_limits("post")
def comment_post(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_for_discussion(slug=slug, user=request.user)
    form = CommentForm(request.POST)
    if getattr(request, "limited", False):
        return _discussion_response(request, article=article, form=form, status=429, error=TOO_FAST)
    if not form.is_valid():
        return _discussion_response(request, article=article, form=form, status=400)
    try:
        comment = services.comment_create(article=article, author=request.user, text=form.cleaned_data["text"])
    except services.CommentError as exc:
        return _discussion_response(request, article=article, form=form, status=400, error=str(exc))
    _posted_message(request, comment)
    return redirect(comment.get_absolute_url() + f"#{comment.anchor}")


def _posted_message(request, comment: Comment) -> None:
    if comment.state == CommentState.HELD:
        messages.info(
            request, _("Thank you. Your comment is awaiting review: %(reason)s") % {"reason": comment.state_reason}
        )
    else:
        messages.success(request, _("Your comment is posted."))


@require_GET
def comment_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    context = selectors.comment_in_context(comment_id=pk, viewer=request.user)
    return render(request, "comments/comment_detail.html", {"context": context, "article": context.article})


@require_http_methods(["GET", "POST"])
@login_required
@_limits("post")
def comment_reply(request: HttpRequest, pk: int) -> HttpResponse:
    context = selectors.comment_in_context(comment_id=pk, viewer=request.user)
    parent = context.comment
    status, error = 200, ""
    if request.method == "POST":
        form = CommentForm(request.POST, label=_("Your reply"))
        if getattr(request, "limited", False):
            status, error = 429, TOO_FAST
        elif form.is_valid():
            try:
                reply = services.comment_create(
                    article=context.article, author=request.user, text=form.cleaned_data["text"], parent=parent
                )
            except services.CommentError as exc:
                status, error = 400, str(exc)
            else:
                _posted_message(request, reply)
                return redirect(reply.get_absolute_url() + f"#{reply.anchor}")
        else:
            status = 400
    else:
        form = CommentForm(label=_("Your reply"))
    eligibility = services.comment_eligibility(user=request.user)
    if not context.article.comments_open:
        error = error or _("This discussion is closed.")
    elif parent.state != CommentState.VISIBLE:
        error = error or _("That comment can no longer be replied to.")
    return render(
        request,
        "comments/comment_reply.html",
        {"context": context, "article": context.article, "form": form, "eligibility": eligibility, "form_error": error},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = selectors.comment_for_author_action(comment_id=pk)
    if comment.author_id != request.user.pk:
        raise Http404("No comment of yours at this address.")
    status, error = 200, ""
    if request.method == "POST":
        form = CommentForm(request.POST, label=_("Your comment"))
        if form.is_valid():
            try:
                services.comment_edit(comment=comment, user=request.user, text=form.cleaned_data["text"])
            except services.CommentError as exc:
                status, error = 400, str(exc)
            else:
                messages.success(request, _("Your comment is updated."))
                return redirect(comment.get_absolute_url() + f"#{comment.anchor}")
        else:
            status = 400
    else:
        form = CommentForm(initial={"text": comment.body_source})
        if not comment.can_be_edited_by(request.user):
            error = _("This comment can no longer be edited.")
    return render(
        request,
        "comments/comment_edit.html",
        {"comment": comment, "article": comment.article, "form": form, "form_error": error},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    comment = selectors.comment_for_author_action(comment_id=pk)
    if comment.author_id != request.user.pk:
        raise Http404("No comment of yours at this address.")
    error = ""
    if request.method == "POST":
        try:
            services.comment_delete_by_author(comment=comment, user=request.user)
        except services.CommentError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Your comment is deleted. Replies to it stay in place."))
            return redirect(comment.get_absolute_url() + f"#{comment.anchor}")
    return render(
        request,
        "comments/comment_delete.html",
        {"comment": comment, "article": comment.article, "form_error": error},
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
@_limits("flag")
def comment_flag(request: HttpRequest, pk: int) -> HttpResponse:
    comment = selectors.comment_for_reader(comment_id=pk, viewer=request.user)
    if comment.state not in (CommentState.VISIBLE, CommentState.HIDDEN_BY_FLAGS):
        raise Http404("No comment to flag at this address.")
    status, error = 200, ""
    if request.method == "POST":
        form = FlagForm(request.POST)
        if getattr(request, "limited", False):
            status, error = 429, _("You are flagging faster than we allow. Wait a while and try again.")
        elif form.is_valid():
            try:
                services.comment_flag(
                    comment=comment,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            except services.FlagDuplicate as exc:
                messages.info(request, str(exc))
                return redirect(comment.get_absolute_url() + f"#{comment.anchor}")
            except services.CommentError as exc:
                status, error = 400, str(exc)
            else:
                messages.success(request, _("Thank you: your flag was received, and a moderator will look at it."))
                return redirect(comment.get_absolute_url() + f"#{comment.anchor}")
        else:
            status = 400
    else:
        form = FlagForm()
    return render(
        request,
        "comments/comment_flag.html",
        {"comment": comment, "article": comment.article, "form": form, "form_error": error},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.comment_preferences_set(user=request.user, reply_notices=form.cleaned_data["reply_notices"])
            messages.success(request, _("Your discussion settings are saved."))
            return redirect("comments:preferences")
    else:
        form = PreferencesForm(initial={"reply_notices": services.reply_notices_wanted(user=request.user)})
    return render(request, "comments/preferences.html", {"form": form})


@csrf_exempt  # the signed token is the proof; mail clients' one-click unsubscribe posts without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    user = services.unsubscribe_token_user(token=token)
    if user is None:
        return render(request, "comments/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        services.comment_preferences_set(user=user, reply_notices=False)
        done = True
    return render(request, "comments/unsubscribe.html", {"done": done, "token": token})


# --- moderators -------------------------------------------------------------------------------------------------


def moderator_required(view):
    return login_required(permission_required(MODERATE, raise_exception=True)(view))


@require_GET
@moderator_required
def moderation_queue(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "flagged")
    if tab not in selectors.QUEUE_TABS:
        tab = "flagged"
    page = selectors.moderation_queue_page(tab=tab, page_number=request.GET.get("page"))
    return render(
        request,
        "comments/moderation/queue.html",
        {"tab": tab, "page": page, "form": ModerationForm(), "tabs": selectors.QUEUE_TABS},
    )


@require_POST
@moderator_required
def moderation_act(request: HttpRequest) -> HttpResponse:
    form = ModerationForm(request.POST)
    tab = request.POST.get("tab", "flagged")
    back = reverse("comments:moderation_queue") + f"?tab={tab if tab in selectors.QUEUE_TABS else 'flagged'}"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    kind, reason = form.cleaned_data["kind"], form.cleaned_data.get("reason", "")
    done, failed = 0, []
    for comment in Comment.objects.filter(pk__in=form.cleaned_data["ids"]).order_by("pk"):
        try:
            if kind == "approve":
                services.comment_approve(comment=comment, actor=request.user)
            elif kind == "remove":
                services.comment_remove(comment=comment, actor=request.user, reason=reason)
            else:
                services.comment_remove_and_suspend(
                    comment=comment,
                    actor=request.user,
                    reason=reason,
                    days=suspension_days(form.cleaned_data.get("duration") or "7"),
                )
            done += 1
        except services.CommentError as exc:
            failed.append(str(exc))
    if done:
        messages.success(request, _("Done: %(count)d comment(s).") % {"count": done})
    for message in failed:
        messages.warning(request, message)
    return redirect(back)


@require_GET
@moderator_required
def moderation_audit(request: HttpRequest) -> HttpResponse:
    moderators = selectors.moderators()
    form = AuditFilterForm(request.GET or None, moderators=moderators)
    filters = selectors.AuditFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AuditFilters(
            action=data.get("action") or "",
            actor_id=data.get("actor"),
            target_user_id=data.get("user"),
            comment_id=data.get("comment"),
            date_from=form.day_start(data["date_from"]) if data.get("date_from") else None,
            date_to=form.day_start(data["date_to"]) + timedelta(days=1) if data.get("date_to") else None,
        )
    page = selectors.moderation_audit_page(filters=filters, page_number=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "comments/moderation/audit.html", {"form": form, "page": page, "query": query.urlencode()})


@require_POST
@moderator_required
def moderation_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(ModerationAction, pk=pk)
    try:
        services.moderation_action_reverse(action=action, actor=request.user, reason=request.POST.get("reason", ""))
    except services.CommentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The decision is reversed, and the reversal is on record."))
    next_url = request.POST.get("next", "")
    return redirect(next_url if next_url.startswith("/moderation/") else "comments:moderation_audit")


@require_http_methods(["GET", "POST"])
@moderator_required
def moderation_reader(request: HttpRequest, pk: int) -> HttpResponse:
    reader, suspensions, comment_count = selectors.reader_for_moderation(user_id=pk)
    form = ReaderActionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == "hide_all":
                    services.reader_comments_hide_all(user=reader, actor=request.user, reason=data["reason"])
                else:
                    services.reader_suspend(
                        user=reader,
                        actor=request.user,
                        reason=data["reason"],
                        days=suspension_days(data.get("duration") or "7"),
                    )
            except services.CommentError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, _("Done, and on record."))
                return redirect("comments:moderation_reader", pk=reader.pk)
        else:
            status = 400
    return render(
        request,
        "comments/moderation/reader.html",
        {"reader": reader, "suspensions": suspensions, "comment_count": comment_count, "form": form},
        status=status,
    )


@require_POST
@moderator_required
def moderation_suspension_lift(request: HttpRequest, pk: int) -> HttpResponse:
    suspension = get_object_or_404(Suspension, pk=pk)
    try:
        services.suspension_lift(suspension=suspension, actor=request.user)
    except services.CommentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The suspension is lifted."))
    return redirect("comments:moderation_reader", pk=suspension.user_id)


@require_http_methods(["GET", "POST"])
@moderator_required
def moderation_patterns(request: HttpRequest) -> HttpResponse:
    form = WatchedPatternForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.watched_pattern_add(actor=request.user, **form.cleaned_data)
            except services.CommentError as exc:
                form.add_error("pattern", str(exc))
                status = 400
            else:
                messages.success(request, _("Added. New comments that match are held for review."))
                return redirect("comments:moderation_patterns")
        else:
            status = 400
    page = selectors.watched_patterns_page(page_number=request.GET.get("page"))
    return render(request, "comments/moderation/patterns.html", {"form": form, "page": page}, status=status)


@require_POST
@moderator_required
def moderation_pattern_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.watched_pattern_delete(pattern=get_object_or_404(WatchedPattern, pk=pk), actor=request.user)
    messages.success(request, _("Removed from the list."))
    return redirect("comments:moderation_patterns")
