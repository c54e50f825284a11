"""Moderators' pages under /moderation/: the queue, one-click decisions, the audit trail and its reversals, readers,
suspensions and watched words."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comments import selectors
from comments.forms import (
    AuditFilterForm,
    ModerationForm,
    ReaderActionForm,
    WatchedPatternForm,
    suspension_days,
)
from comments.models import Comment, ModerationAction, Suspension, WatchedPattern
from comments.services import errors, moderation

MODERATE = "comments.moderate_comment"


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
                moderation.comment_approve(comment=comment, actor=request.user)
            elif kind == "remove":
                moderation.comment_remove(comment=comment, actor=request.user, reason=reason)
            else:
                moderation.comment_remove_and_suspend(
                    comment=comment,
                    actor=request.user,
                    reason=reason,
                    days=suspension_days(form.cleaned_data.get("duration") or "7"),
                )
            done += 1
        except errors.CommentError as exc:
            failed.append(str(exc))
    if done:
        messages.success(request, _("Done: %(count)d comment(s).") % {"count": done})
    for message in failed:
        messages.warning(request, message)
    return redirect(back)


@require_POST
@moderator_required
def comment_feature(request: HttpRequest, pk: int) -> HttpResponse:
    """Feature a comment from its own page, or stop featuring it."""
    comment = get_object_or_404(Comment, pk=pk)
    featured = bool(request.POST.get("featured"))
    try:
        moderation.comment_feature(comment=comment, actor=request.user, featured=featured)
    except errors.CommentError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, _("Featured: it is shown first in its discussion.") if featured
                         else _("It is no longer featured."))  # fmt: skip
    return redirect("comments:permalink", pk=pk)


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
        moderation.moderation_action_reverse(action=action, actor=request.user, reason=request.POST.get("reason", ""))
    except errors.CommentError as exc:
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
                    moderation.reader_comments_hide_all(user=reader, actor=request.user, reason=data["reason"])
                else:
                    moderation.reader_suspend(
                        user=reader,
                        actor=request.user,
                        reason=data["reason"],
                        days=suspension_days(data.get("duration") or "7"),
                    )
            except errors.CommentError as exc:
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
        moderation.suspension_lift(suspension=suspension, actor=request.user)
    except errors.CommentError as exc:
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
                moderation.watched_pattern_add(actor=request.user, **form.cleaned_data)
            except errors.CommentError as exc:
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
    moderation.watched_pattern_delete(pattern=get_object_or_404(WatchedPattern, pk=pk), actor=request.user)
    messages.success(request, _("Removed from the list."))
    return redirect("comments:moderation_patterns")
