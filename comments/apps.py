from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"

    def ready(self) -> None:
        from comments.models import Comment
        from comments.services.writing import comment_discussion_scopes
        from core import pagecache

        pagecache.watch_models(Comment, scopes=comment_discussion_scopes)

        from accounts.services.deletion import account_deleting
        from comments.services.writing import comments_erase_for_account

        account_deleting.connect(comments_erase_for_account, dispatch_uid="comments.erase_for_account")
