"""Readers' pages: a discussion, writing, replying, editing, deleting and flagging comments, and notice settings."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from comments import selectors
from comments.forms import (
    CommentForm,
    FlagForm,
    PreferencesForm,
)
from comments.models import Comment, CommentState
from comments.services import errors, notices, reader_data, writing
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


def _discussion_response(request, *, article, form=None, status=200, error: str = ""):
    data = selectors.discussion_page(
        article=article, viewer=request.user, page_number=request.GET.get("page"), sort=request.GET.get("sort", "")
    )
    eligibility = writing.comment_eligibility(user=request.user) if article.comments_open else None
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
        comment = writing.comment_create(article=article, author=request.user, text=form.cleaned_data["text"])
    except errors.CommentError as exc:
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
    can_feature = context.comment.state == CommentState.VISIBLE and request.user.has_perm("comments.moderate_comment")
    return render(request, "comments/comment_detail.html",
                  {"context": context, "article": context.article, "can_feature": can_feature})  # fmt: skip


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
                reply = writing.comment_create(
                    article=context.article, author=request.user, text=form.cleaned_data["text"], parent=parent
                )
            except errors.CommentError as exc:
                status, error = 400, str(exc)
            else:
                _posted_message(request, reply)
                return redirect(reply.get_absolute_url() + f"#{reply.anchor}")
        else:
            status = 400
    else:
        form = CommentForm(label=_("Your reply"))
    eligibility = writing.comment_eligibility(user=request.user)
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
                writing.comment_edit(comment=comment, user=request.user, text=form.cleaned_data["text"])
            except errors.CommentError as exc:
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
            writing.comment_delete_by_author(comment=comment, user=request.user)
        except errors.CommentError as exc:
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
                writing.comment_flag(
                    comment=comment,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            except errors.FlagDuplicate as exc:
                messages.info(request, str(exc))
                return redirect(comment.get_absolute_url() + f"#{comment.anchor}")
            except errors.CommentError as exc:
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
            notices.comment_preferences_set(user=request.user, reply_notices=form.cleaned_data["reply_notices"])
            messages.success(request, _("Your discussion settings are saved."))
            return redirect("comments:preferences")
    else:
        form = PreferencesForm(initial={"reply_notices": notices.reply_notices_wanted(user=request.user)})
    return render(request, "comments/preferences.html", {"form": form})


@require_GET
@login_required
def reader_data_download(request: HttpRequest) -> JsonResponse:
    """Everything the signed-in reader wrote (comments, flags), as a JSON file to keep."""
    data = reader_data.reader_data_export(user=request.user)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="vigil-my-comments-{stamp}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt  # the signed token is the proof; mail clients' one-click unsubscribe posts without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    user = notices.unsubscribe_token_user(token=token)
    if user is None:
        return render(request, "comments/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        notices.comment_preferences_set(user=user, reply_notices=False)
        done = True
    return render(request, "comments/unsubscribe.html", {"done": done, "token": token})
