"""The only package that talks to the ``openai`` SDK; this file is its public surface.

A run is a stream of events — ``PartialImage``, ``FinalImage``, ``UsageReport``, ``Failed`` (and a
conversation turn's ``TurnReply``) — whatever the backend (OpenAI, the offline backend, or any
compatible base URL). Laid out the way openai-python is:

    connection   Connection, make_client and the timeouts
    errors       the RequestFailed tree (drawn there) and the table that translates SDK errors
    events       the event types a run yields
    decode       base64 image fields and the check that bytes are a picture
    images       images.generate and images.edit: run_images, generate, edit
    responses    responses.create for conversation turns (in the background: resumed, resume, cancel_response),
                 for words (ask_for_words: describe a picture, rewrite a prompt),
                 and Files API uploads
"""

from __future__ import annotations

# MIN_TIMEOUT is read through this package by make_client, so lowering it here (as tests do) takes effect
from .connection import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Connection, SDKClient, interrupt, make_client
from .connection import MIN_TIMEOUT as MIN_TIMEOUT
from .decode import check_image_bytes
from .decode import final_image as _final  # noqa: F401  (the decode-and-check path the bench times)
from .errors import (
    AccessDenied,
    BadKey,
    Cancelled,
    ConnectionFailed,
    InvalidRequest,
    ModelUnavailable,
    ModerationBlocked,
    NotAnImage,
    NotTheAPI,
    NotVerified,
    RateLimited,
    RequestFailed,
    RequestTimedOut,
    ServerError,
    StreamCut,
    translate_error,
)
from .events import Event, Failed, FinalImage, PartialImage, ResponseProgress, TurnReply, UsageReport
from .images import edit, generate, run_images
from .responses import ask_for_words, cancel_response, respond, resume, upload_files

__all__ = [
    "Connection", "SDKClient", "make_client", "interrupt", "generate", "edit", "run_images", "respond", "resume",
    "cancel_response", "ask_for_words",
    "TurnReply", "ResponseProgress", "upload_files", "PartialImage", "FinalImage", "UsageReport", "Failed", "Event",
    "RequestFailed", "BadKey", "NotVerified", "AccessDenied", "ModerationBlocked", "InvalidRequest",
    "ModelUnavailable", "RateLimited", "ServerError", "RequestTimedOut", "ConnectionFailed", "StreamCut", "Cancelled",
    "NotAnImage", "NotTheAPI", "translate_error", "check_image_bytes", "DEFAULT_TIMEOUT", "DEFAULT_RETRIES",
]
