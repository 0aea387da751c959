"""The security headers of every response, sent by the app itself (flask-talisman).

One strict set for everything: a Content-Security-Policy that the Dash pages work
under (scripts only from the app plus the hashes of Dash's own inline scripts),
nosniff, a referrer policy, a permissions policy, `frame-ancestors 'none'` with
`X-Frame-Options: DENY`, and HSTS on HTTPS requests. The one exception is a share
link's page, which the origins in EMBED_ALLOWED_ORIGINS may frame
(`embeddable_view`); nothing else can be framed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask, Response
from flask_talisman import DENY, Talisman

# Styles: Plotly, dash-ag-grid and the date picker set inline styles at run time.
# Images and fonts: Plotly's mode bar and Bootstrap icons use data: URIs.
BASE_POLICY = {
    "default-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
PERMISSIONS_POLICY = dict.fromkeys(
    ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"), "()"
)
REFERRER_POLICY = "strict-origin-when-cross-origin"


def content_security_policy(
    script_hashes: Sequence[str], frame_ancestors: Sequence[str] = ()
) -> dict[str, str]:
    """The policy: Dash's inline scripts by hash; framing by the given origins only."""
    return {
        **BASE_POLICY,
        "script-src": " ".join(["'self'", *script_hashes]),
        "frame-ancestors": " ".join(frame_ancestors) or "'none'",
    }


class SecurityHeaders:
    """The app's Talisman, its script policy kept equal to Dash's inline scripts.

    Dash adds inline scripts until its first request (the pages router registers
    one then), so the hashes are compared before each response is finished and
    the policies follow when they change.
    """

    def __init__(self, server: Flask, script_hashes: Callable[[], Sequence[str]]):
        self.script_hashes = script_hashes
        self.hashes: tuple[str, ...] = ()
        self.embed_policies: list[tuple[dict, tuple[str, ...]]] = []
        self.talisman = Talisman()
        self.talisman.init_app(
            server,
            # TLS is terminated in front of the app; redirecting is the proxy's job.
            force_https=False,
            # Cookie flags are auth.login's (Secure on HTTPS requests).
            session_cookie_secure=False,
            session_cookie_http_only=True,
            frame_options=DENY,
            content_security_policy=content_security_policy(()),
            referrer_policy=REFERRER_POLICY,
            permissions_policy=PERMISSIONS_POLICY,
            strict_transport_security=True,
            strict_transport_security_include_subdomains=True,
        )
        # Registered after Talisman's hook, so it runs just before it.
        server.after_request(self._follow_inline_scripts)

    def _follow_inline_scripts(self, response: Response) -> Response:
        hashes = tuple(self.script_hashes())
        if hashes != self.hashes:
            self.hashes = hashes
            self.talisman.content_security_policy = content_security_policy(hashes)
            for policy, origins in self.embed_policies:
                policy.update(content_security_policy(hashes, origins))
        return response

    def embeddable_view(self, view: Callable, origins: Sequence[str]) -> Callable:
        """`view` with framing allowed for `origins` only (none: still refused)."""
        policy = content_security_policy(self.hashes, origins)
        self.embed_policies.append((policy, tuple(origins)))
        options: dict = {"content_security_policy": policy}
        # frame-ancestors is the modern control; X-Frame-Options cannot list
        # several origins, so it is left out only where an origin is allowed.
        if origins:
            options["frame_options"] = None
        return self.talisman(**options)(view)


def install_security_headers(
    server: Flask, script_hashes: Callable[[], Sequence[str]]
) -> SecurityHeaders:
    """Send the strict header set on every response of this app."""
    headers = SecurityHeaders(server, script_hashes)
    server.extensions["insightboard_security_headers"] = headers
    return headers
