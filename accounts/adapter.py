"""allauth, adapted: the client's address comes from core.net, like every rate limit's."""

from allauth.account.adapter import DefaultAccountAdapter

from core.net import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request) -> str:
        return client_ip(request)
