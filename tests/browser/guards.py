"""What every journey must not do: log a console error, throw, or ask another host for anything."""

from urllib.parse import urlsplit

# Schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about"}


class BrowserGuard:
    """Watches one browser context: console errors, uncaught exceptions and requests to other hosts.

    Requests to another host are recorded and aborted (context.route), so a page that needs one also breaks in the
    test. Listens on the context, so every page and pop-up it opens is covered.
    """

    def __init__(self, *, base_url: str):
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(self.base_url)
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.outside_requests: list[str] = []

    def is_local(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        return scheme in LOCAL_SCHEMES or _origin(url) == self._origin

    def attach(self, context) -> None:
        context.route("**/*", self._route)
        context.on("request", self._on_request)
        context.on("console", self._on_console)
        context.on("weberror", self._on_weberror)

    def _route(self, route) -> None:
        if self.is_local(route.request.url):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def _on_request(self, request) -> None:
        if not self.is_local(request.url):
            self.outside_requests.append(request.url)

    def _on_console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(f"{message.text} ({location.get('url', '?')}:{location.get('lineNumber', '?')})")

    def _on_weberror(self, web_error) -> None:
        self.page_errors.append(str(web_error.error))

    def problems(self) -> list[str]:
        return (
            [f"console error: {text}" for text in self.console_errors]
            + [f"uncaught exception: {text}" for text in self.page_errors]
            + [f"request to another host: {url}" for url in self.outside_requests]
        )

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "The browser reported:\n" + "\n".join(problems)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in {"localhost", "127.0.0.1", "::1"}:
        host = "localhost"  # the live server answers on the loopback under either name
    return parts.scheme, host, parts.port
