"""Failed requests, said plainly: the ``RequestFailed`` tree and the one table that picks a branch.

Every failure carries a sentence a designer understands, the API's own message (scrubbed of
anything key-shaped), the status, the API's error code and the request id::

    ImageLabError                  imagelab.errors: the root of every error with a sentence
     └── RequestFailed             anything else that went wrong with a request
          ├── BadKey               401: the key was refused
          ├── NotVerified          403: the organization must be verified for this model
          ├── AccessDenied         403: any other refusal
          ├── ModerationBlocked    400 moderation_blocked, at the input or output stage
          ├── InvalidRequest       400/404/422: names the parameter
          │    └── ModelUnavailable  404 model_not_found, or a 400 saying the model does not exist:
          │                          names the catalog's successor when there is one
          ├── RateLimited          429 (or out of quota)
          ├── ServerError          5xx
          ├── RequestTimedOut      no answer in time
          ├── ConnectionFailed     the base URL could not be reached
          ├── StreamCut            the stream ended before the image was finished
          ├── Cancelled            the response was cancelled before it was finished
          ├── NotAnImage           the server answered with bytes that are not an image
          └── NotTheAPI            the server answered with something that is not the API's JSON or
                                   events (an HTML page, a cut-off body): the base URL is wrong

``translate_error`` turns an SDK exception into one of these by walking ``RULES`` top to bottom.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import openai

from imagelab.catalog import model_info
from imagelab.errors import ImageLabError
from imagelab.text import redact_url, scrub, shorten

__all__ = [
    "RequestFailed", "BadKey", "NotVerified", "AccessDenied", "ModerationBlocked", "InvalidRequest", "ModelUnavailable",
    "RateLimited", "ServerError", "RequestTimedOut", "ConnectionFailed", "StreamCut", "Cancelled", "NotAnImage",
    "NotTheAPI", "Cause", "Rule", "RULES", "translate_error", "CHECK_BASE_URL",
]

# Server text is kept to a readable length: a proxy's whole HTML page is no message.
API_MESSAGE_LIMIT = 500

CHECK_BASE_URL = "Check the base URL: it should end in /v1 and point at an OpenAI-compatible API."


class RequestFailed(ImageLabError):
    """A failed request, said plainly, with what the API itself said beneath."""

    kind = "error"

    def __init__(self, sentence: str, *, api_message: str | None = None, request_id: str | None = None,
                 status: int | None = None, code: str | None = None, param: str | None = None) -> None:
        super().__init__(sentence)
        self.api_message = api_message
        self.request_id = request_id
        self.status = status
        self.code = code
        self.param = param

    def details(self) -> str:
        """What the server said beneath the sentence: its message, HTTP status, error code and request id."""
        parts = []
        if self.api_message and self.api_message != self.sentence:
            parts.append(f"API said: {self.api_message}")
        if self.status:
            parts.append(f"status {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return " · ".join(parts)

    def scrub(self, secrets: Iterable[str | None] = ()) -> RequestFailed:
        """Remove anything key-shaped (and ``secrets``) from every text this error carries; returns itself."""
        secrets = tuple(secrets)

        def clean(text: str | None) -> str | None:
            return None if text is None else scrub(str(text), secrets)

        self.sentence = clean(self.sentence) or ""
        self.args = (self.sentence,)
        self.api_message = clean(self.api_message)
        self.request_id = clean(self.request_id)
        self.code = clean(self.code)
        self.param = clean(self.param)
        return self


class BadKey(RequestFailed):
    """The server refused the API key (401)."""

    kind = "bad_key"


class NotVerified(RequestFailed):
    """The model needs a verified OpenAI organization (403 mentioning verification)."""

    kind = "not_verified"


class AccessDenied(RequestFailed):
    """The key may not make this request (any other 403)."""

    kind = "access_denied"


class ModerationBlocked(RequestFailed):
    """The safety system refused the prompt (``stage`` "input") or withheld the image ("output")."""

    kind = "moderation"

    def __init__(self, sentence: str, *, stage: str | None = None, **kw: Any) -> None:
        super().__init__(sentence, **kw)
        self.stage = stage


class InvalidRequest(RequestFailed):
    """The API refused a setting (400, 404 or 422); ``param`` names it when the API did."""

    kind = "invalid_request"


class ModelUnavailable(InvalidRequest):
    """The API says the model does not exist (or not for this key): shut down, retired or never offered."""

    kind = "model_unavailable"


class RateLimited(RequestFailed):
    """Too many requests (429), or the account is out of credit."""

    kind = "rate_limited"


class ServerError(RequestFailed):
    """The service failed on its side (5xx)."""

    kind = "server_error"


class RequestTimedOut(RequestFailed):
    """No answer within the timeout."""

    kind = "timeout"


class ConnectionFailed(RequestFailed):
    """The base URL could not be reached at all."""

    kind = "connection"


class StreamCut(RequestFailed):
    """The stream ended before every image (or the turn) was finished."""

    kind = "stream_cut"


class Cancelled(RequestFailed):
    """The response was cancelled (by this app or another client) before it was finished."""

    kind = "cancelled"


class NotAnImage(RequestFailed):
    """The answer had the API's shape, but its image bytes are empty, not base64 or not a picture."""

    kind = "not_an_image"


class NotTheAPI(RequestFailed):
    """The answer is not the API's at all: an HTML page, plain text, cut-off JSON, events it never sends."""

    kind = "not_the_api"


@dataclass(frozen=True)
class Cause:
    """What is known about a failure, with every piece of server text already scrubbed."""

    exc: BaseException
    where: str
    model: str | None
    status: int | None
    code: str | None
    param: str | None
    message: str
    body: dict[str, Any]

    @property
    def stage(self) -> str | None:
        details = self.body.get("moderation_details")
        stage = details.get("moderation_stage") if isinstance(details, dict) else None
        return stage if isinstance(stage, str) else None

    @property
    def model_name(self) -> str:
        return self.model or "this model"

    @property
    def wait(self) -> str:
        response = getattr(self.exc, "response", None)
        retry = response.headers.get("retry-after") if response is not None else None
        # only a number of seconds is repeated: the header is server text like any other
        if retry and re.fullmatch(r"\d{1,6}(\.\d{1,3})?", retry.strip()):
            return f"wait {retry.strip()} s"
        return "wait a moment"

    @property
    def exc_text(self) -> str:
        return str(self.exc)

    @property
    def missing_model(self) -> str | None:
        """The model the API says does not exist: the one its message names, else the one asked for."""
        named = _NAMED_MODEL.search(self.message)
        return named.group(1) if named else self.model

    @property
    def gone(self) -> str:
        """What to do about a model the API does not have: its successor, from the catalog, when known."""
        name = self.missing_model
        info = model_info(name) if name else None
        if info is not None and info.successor:
            return info.gone_sentence()
        return f"The API says the model {name or 'asked for'} does not exist for this key; choose another model."


# "The model `gpt-image-1.5` does not exist …", "The requested model 'x' does not exist."
_NAMED_MODEL = re.compile(r"model [`'\"]([A-Za-z0-9][A-Za-z0-9._:\-]{0,99})[`'\"]")
_NO_SUCH_MODEL = re.compile(r"\bmodel\b.*\b(does not exist|not found|no longer (available|exists))", re.IGNORECASE)


def _model_missing(c: Cause) -> bool:
    return c.code == "model_not_found" or (c.status == 400 and bool(_NO_SUCH_MODEL.search(c.message)))


def _moderation(c: Cause) -> bool:
    return c.code == "moderation_blocked" or (c.body.get("type") == "image_generation_user_error"
                                              and "safety" in c.message)


@dataclass(frozen=True)
class Rule:
    """One cause → one class and sentence.

    A rule matches when the exception is one of ``sdk`` or its status is in ``statuses`` (either, when
    both are given), and its error ``code`` and ``when`` agree. The sentence is a ``str.format``
    template over a ``Cause``: ``{c.where}``, ``{c.model_name}``, ``{c.wait}``, ``{c.param}``, ``{c.message}``.
    """

    cls: type[RequestFailed]
    sentence: str
    sdk: tuple[type[BaseException], ...] = ()
    statuses: Callable[[int], bool] | None = None
    code: str | None = None
    when: Callable[[Cause], bool] | None = None

    def matches(self, c: Cause) -> bool:
        if self.sdk or self.statuses:
            by_class = bool(self.sdk) and isinstance(c.exc, self.sdk)
            by_status = self.statuses is not None and c.status is not None and self.statuses(c.status)
            if not (by_class or by_status):
                return False
        if self.code is not None and c.code != self.code:
            return False
        return self.when is None or self.when(c)


def _is(*codes: int) -> Callable[[int], bool]:
    return lambda status: status in codes


_ANY_STATUS = openai.APIStatusError

RULES: tuple[Rule, ...] = (
    # transport: nothing (or nothing usable) came back
    Rule(RequestTimedOut, "{c.where} did not answer in time. The request may still finish on the server; "
                          "try again, or raise the timeout in the sidebar.", sdk=(openai.APITimeoutError,)),
    Rule(ConnectionFailed, "Could not reach {c.where}. Check the base URL in the sidebar and your network connection.",
         sdk=(openai.APIConnectionError,)),
    Rule(NotTheAPI, "The server at {c.where} answered with something the image API never sends. " + CHECK_BASE_URL,
         sdk=(openai.APIResponseValidationError,)),
    Rule(NotTheAPI, "The server at {c.where} sent a stream of events that are not the image API's JSON. "
                    + CHECK_BASE_URL, sdk=(json.JSONDecodeError, UnicodeDecodeError)),
    # the API said no
    Rule(ModerationBlocked, "The safety system withheld the finished image. Change the prompt or inputs and try "
                            "again; setting moderation to 'low' may help for legitimate work.",
         when=lambda c: _moderation(c) and c.stage == "output"),
    Rule(ModerationBlocked, "The safety system rejected this request before making anything. "
                            "Rephrase the prompt or change the inputs and try again.", when=_moderation),
    Rule(BadKey, "The API key was refused. Check the key in the sidebar, OPENAI_API_KEY or your secrets.",
         sdk=(openai.AuthenticationError,), statuses=_is(401)),
    Rule(NotVerified, "Your OpenAI organization must be verified before it can use {c.model_name}. Verify it under "
                      "Settings → Organization → General on platform.openai.com; access can take up to "
                      "15 minutes to arrive.",
         sdk=(openai.PermissionDeniedError,), statuses=_is(403), when=lambda c: "verif" in c.message.lower()),
    Rule(AccessDenied, "This key is not allowed to make that request. Check the project's permissions for the model.",
         sdk=(openai.PermissionDeniedError,), statuses=_is(403)),
    Rule(RateLimited, "Your OpenAI account is out of credit. Add credit in the billing settings, then try again.",
         sdk=(openai.RateLimitError,), statuses=_is(429), code="insufficient_quota"),
    Rule(RateLimited, "Too many requests for now; {c.wait} and try again.",
         sdk=(openai.RateLimitError,), statuses=_is(429)),
    Rule(ServerError, "The image service had a problem on its side. Nothing was lost here; try again in a moment.",
         statuses=lambda status: status >= 500),
    Rule(ModelUnavailable, "{c.gone}", statuses=_is(400, 404), when=_model_missing),
    Rule(InvalidRequest, "The API refused the '{c.param}' setting: {c.message}",
         sdk=(openai.BadRequestError,), statuses=_is(400, 404, 422), when=lambda c: bool(c.param)),
    Rule(InvalidRequest, "The API refused the request: {c.message}",
         sdk=(openai.BadRequestError,), statuses=_is(400, 404, 422)),
    Rule(RequestFailed, "The request failed: {c.message}", sdk=(openai.APIError,)),
    Rule(RequestFailed, "Something unexpected went wrong: {c.exc_text}"),
)


def _body_error(body: object) -> dict[str, Any]:
    if isinstance(body, dict):
        inner = body.get("error", body)
        return inner if isinstance(inner, dict) else {}
    return {}


def _text(value: object, secrets: tuple[str | None, ...]) -> str | None:
    if value is None:
        return None
    return shorten(scrub(str(value), secrets), API_MESSAGE_LIMIT)


def translate_error(exc: BaseException, *, base_url: str | None = None, model: str | None = None,
                    secrets: Iterable[str | None] = ()) -> RequestFailed:
    """Turn an SDK exception into a ``RequestFailed`` with a sentence for a designer.

    Every piece of server text in the result is scrubbed of anything key-shaped and of ``secrets``
    (pass the connection's API key); ``base_url`` is named without its credentials or query string.
    """
    secrets = tuple(secrets)
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "close"):
        response.close()  # an error reply to a streamed request is otherwise left open
    if isinstance(exc, RequestFailed):
        return exc.scrub(secrets)
    where = redact_url(base_url) if base_url else "the OpenAI API"
    body = _body_error(getattr(exc, "body", None))
    raw_message = (body.get("message") or exc.message) if isinstance(exc, openai.APIError) else str(exc)
    message = _text(raw_message, secrets) or ""
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None) if isinstance(exc, openai.APIError) else None
    param = getattr(exc, "param", None) if isinstance(exc, openai.APIError) else None
    param = param or body.get("param")
    cause = Cause(exc=exc, where=where, model=model, status=status if isinstance(status, int) else None,
                  code=_text(code, secrets), param=_text(param, secrets), message=message, body=body)
    rule = next(r for r in RULES if r.matches(cause))
    sentence = scrub(rule.sentence.format(c=cause), secrets)
    if isinstance(exc, openai.APIError):
        kw: dict[str, Any] = {"api_message": message,
                              "request_id": _text(getattr(exc, "request_id", None), secrets),
                              "status": cause.status, "code": cause.code, "param": cause.param}
    else:
        kw = {"api_message": _text(repr(exc) if rule.cls is RequestFailed else str(exc), secrets)}
    if rule.cls is ModerationBlocked:
        return ModerationBlocked(sentence, stage=cause.stage, **kw)
    return rule.cls(sentence, **kw)
