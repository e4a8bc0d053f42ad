"""Authentication for the offline backend, answered the way the API answers it.

Owns ``AuthMiddleware`` (every HTTP request needs ``Authorization: Bearer <key>``, or HTTP basic
auth with the key as the password and a blank user name), ``presented_key`` (the key a request
carries) and ``masked_key`` (a key as the API's 401 message shows it). With ``token=None`` any
non-empty key is accepted; with a token, only that one. No key → 401 "You didn't provide an API
key. …" (code null); another key → 401 ``invalid_api_key`` "Incorrect API key provided:
sk-abc12***…***wxyz. …". Builds on ``protocol``.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from .protocol import APIError

__all__ = ["AuthMiddleware", "presented_key", "masked_key", "NO_KEY_MESSAGE"]

NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
    "accessing the API from your browser and are prompted for a username and password. You can obtain an API "
    "key from https://platform.openai.com/account/api-keys."
)
SHOWN_HEAD, SHOWN_TAIL = 8, 4  # how much of a wrong key the API's message shows


def presented_key(authorization: str | None) -> str:
    """The key in an ``Authorization`` header ("" when there is none): the bearer token, or the
    password of basic auth."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""


def masked_key(key: str) -> str:
    """``key`` as the API's "Incorrect API key provided" shows it: the first 8 and last 4 characters,
    a star for each one between; a key too short to hide anything is shown as it is."""
    if len(key) <= SHOWN_HEAD + SHOWN_TAIL:
        return key
    return key[:SHOWN_HEAD] + "*" * (len(key) - SHOWN_HEAD - SHOWN_TAIL) + key[-SHOWN_TAIL:]


class AuthMiddleware:
    """Answers 401 like the API unless the request carries an accepted key."""

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token

    def refusal(self, key: str) -> APIError | None:
        if not key:
            return APIError(401, NO_KEY_MESSAGE)
        if self.token is not None and not hmac.compare_digest(key.encode(), self.token.encode()):
            return APIError(401, f"Incorrect API key provided: {masked_key(key)}. You can find your API key at "
                                 "https://platform.openai.com/account/api-keys.", code="invalid_api_key")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"authorization"), None)
            refusal = self.refusal(presented_key(header))
            if refusal is not None:
                await refusal.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
