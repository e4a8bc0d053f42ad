"""Where picture bytes live: ``PictureStorage``, the one interface, and ``S3Storage``, shared storage.

Two implementations answer the same calls:

- ``BlobStore`` (``imagelab.history.blobs``): files in the data directory, the single-user default.
- ``S3Storage``: an S3-compatible bucket named by ``IMAGELAB_STORAGE_URL=s3://bucket/prefix``, reached
  with boto3's own settings (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_REGION``), so every server of a team sees every picture. A picture is the object
  ``<prefix>/sha256/<hex>.<ext>``, written with ``If-None-Match: *`` so an object is never rewritten;
  the copies pages show (thumbnails, display copies) are ``<prefix>/thumbs/<hex>-<side>.<ext>``. Pages
  show both through presigned URLs that live ``IMAGELAB_URL_LIFETIME`` seconds (15 minutes unless set).
  An export zip goes to ``<prefix>/exports/`` in parts and is downloaded from a presigned URL
  (``publish_export``); the next export deletes those whose URLs have expired.

A picture someone paid for is never lost to a storage that is down or refuses: its bytes wait in
``<data dir>/spool/`` (written like ``BlobStore`` writes) and are read from there meanwhile; they are
sent on at start-up (``sweep``) and by the next write or read once ``RETRY_SECONDS`` have passed.

Failures become a ``PictureStorageError`` whose sentence names the endpoint and bucket, never a secret
(``storage_error`` holds the table of causes).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from .blobs import EXTENSIONS, ORPHAN_AGE_SECONDS, BlobStore, content_hash
from .errors import PictureStorageError

__all__ = ["PictureStorage", "S3Storage", "picture_storage", "storage_error", "url_lifetime",
           "URL_LIFETIME_SECONDS", "MAX_URL_LIFETIME_SECONDS"]

URL_LIFETIME_SECONDS = 15 * 60
MAX_URL_LIFETIME_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
_CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
                  "svg": "image/svg+xml"}
# Objects never change under their name, so a browser may keep them as long as it likes.
_IMMUTABLE = "public, max-age=31536000, immutable"


class PictureStorage(Protocol):
    """What the store asks of wherever picture bytes live (see the module's docstring)."""

    def write(self, data: bytes, fmt: str) -> str:
        """Keep bytes under their hash, whole or not at all; return the hash."""
        ...

    def read(self, digest: str, fmt: str) -> bytes:
        """The bytes; ``FileNotFoundError`` when they are not there."""
        ...

    def has_bytes(self, digest: str, fmt: str) -> bool: ...

    def set_aside(self, digest: str, fmt: str) -> object | None:
        """Take the bytes out of sight before their last row is deleted; ``put_back`` or ``discard`` after."""
        ...

    def put_back(self, aside: object | None) -> None: ...

    def discard(self, aside: object | None) -> None: ...

    def sweep(self, known: Collection[str], min_age: float = ORPHAN_AGE_SECONDS) -> Sequence[Path | str]:
        """After a restart: finish what a dead process left half done, remove what no row names."""
        ...

    def remove_unknown(self, known: Collection[str], min_age: float = ORPHAN_AGE_SECONDS) -> Sequence[Path | str]:
        """Delete stored bytes whose hash is not in ``known`` and that are ``min_age`` seconds old."""
        ...

    def url_for(self, digest: str, fmt: str) -> str | None:
        """A URL any browser can fetch the picture from for a while; ``None`` where there is none."""
        ...

    def copy_url(self, name: str, make: Callable[[], tuple[bytes, str]], *, wait: bool = True) -> str | None:
        """The URL of a copy made from a picture (``make()`` gives its bytes and extension, once) kept
        beside it; ``None`` where copies are not kept in the storage or it cannot be reached, and, with
        ``wait=False``, while a copy just made is still on its way up (show the bytes meanwhile)."""
        ...

    def forget_copies(self, digest: str) -> None: ...

    def spooled_count(self) -> int:
        """How many pictures wait on this machine to be sent to the storage."""
        ...

    def problem(self) -> str | None:
        """Why pictures wait, as a sentence, while they do."""
        ...


def url_lifetime() -> int:
    """Seconds a presigned URL lives: ``IMAGELAB_URL_LIFETIME`` or 15 minutes."""
    raw = os.environ.get("IMAGELAB_URL_LIFETIME", "").strip()
    if not raw:
        return URL_LIFETIME_SECONDS
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= MAX_URL_LIFETIME_SECONDS:
        raise PictureStorageError(f"IMAGELAB_URL_LIFETIME must be a whole number of seconds from 1 to "
                                  f"{MAX_URL_LIFETIME_SECONDS:,} (seven days); it is {raw[:40]!r}.")
    return seconds


def picture_storage(storage_url: str, spool: BlobStore) -> S3Storage:
    """The storage ``IMAGELAB_STORAGE_URL`` names (``s3://bucket/prefix``), spooling into ``spool``."""
    parts = urlsplit(storage_url.strip())
    if parts.scheme != "s3" or not parts.hostname:
        raise PictureStorageError("IMAGELAB_STORAGE_URL must look like s3://bucket/prefix (the prefix is "
                                  "optional); leave it unset to keep pictures in the data folder.")
    if parts.username or parts.password or parts.query:
        raise PictureStorageError("IMAGELAB_STORAGE_URL names only the bucket and prefix; give the credentials "
                                  "in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.")
    return S3Storage(parts.hostname, parts.path.strip("/"), spool)


# --- failures -------------------------------------------------------------------------------

_REFUSED = {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "InvalidToken", "ExpiredToken",
            "InvalidSecurity", "AuthorizationHeaderMalformed", "403", "Forbidden"}


def _endpoint_words(endpoint: str) -> str:
    """The endpoint as it may be shown: scheme, host and port, never a user, password or query."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}" if parts.hostname else "AWS"


# Causes in order, first match wins: (test, sentence). The sentence may name {endpoint}, {bucket} and {code}.
_CAUSES: tuple[tuple[Callable[[str, int, BaseException], bool], str], ...] = (
    (lambda code, status, exc: type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"),
     "ImageLab has no credentials for the picture storage at {endpoint}: set AWS_ACCESS_KEY_ID and "
     "AWS_SECRET_ACCESS_KEY."),
    (lambda code, status, exc: code in _REFUSED or status == 403,
     "The picture storage at {endpoint} refused ImageLab's credentials ({code}) for the bucket {bucket}. "
     "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."),
    (lambda code, status, exc: code == "NoSuchBucket",
     "The picture storage at {endpoint} has no bucket {bucket}: create it, or correct IMAGELAB_STORAGE_URL."),
    (lambda code, status, exc: not code and type(exc).__module__.startswith(("botocore", "urllib3")),
     "ImageLab cannot reach the picture storage at {endpoint}. Check that it is running and that "
     "AWS_ENDPOINT_URL names it."),
    (lambda code, status, exc: status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"),
     "The picture storage at {endpoint} failed ({code}); try again in a moment."),
)


def storage_error(exc: BaseException, endpoint: str, bucket: str) -> PictureStorageError:
    """The sentence a boto3 failure becomes (``_CAUSES``); never the server's words or a secret."""
    code = re.sub(r"[^A-Za-z0-9_.-]", "", _error_code(exc))[:40]  # a server's code, never its words
    status = int((getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    where = {"endpoint": _endpoint_words(endpoint), "bucket": bucket, "code": code or status or type(exc).__name__}
    for test, sentence in _CAUSES:
        if test(code, status, exc):
            return PictureStorageError(sentence.format(**where))
    return PictureStorageError("The picture storage at {endpoint} did not accept the request ({code}) for the "
                               "bucket {bucket}.".format(**where))


# --- S3 -------------------------------------------------------------------------------------

class S3Storage:
    """Pictures in ``bucket`` under ``prefix``; what cannot be sent waits in ``spool``."""

    RETRY_SECONDS = 30.0  # after a failure, writes and reads try the spool again no sooner than this

    def __init__(self, bucket: str, prefix: str, spool: BlobStore, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.spool = spool
        self.lifetime = url_lifetime()
        self._client = client if client is not None else _make_client()
        self.endpoint = str(self._client.meta.endpoint_url)
        self._present: set[str] = set()                     # keys seen in the bucket (for showing only)
        self._urls: dict[str, tuple[str, float]] = {}       # key -> (presigned URL, when made)
        self._copies: dict[str, str] = {}                   # copy name -> its key
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._problem: str | None = None
        self._next_retry = 0.0
        # bytes this process has just sent, so the display copy made right after a save does not fetch them
        # back: content-addressed, so they never change under their key (a delete here drops them)
        self._recent: OrderedDict[str, bytes] = OrderedDict()
        self._recent_bytes = 0
        self._new: set[str] = set()                         # digests whose objects this process made
        self._uploading: set[str] = set()                   # copies on their way up (``copy_url(wait=False)``)
        self._uploader = ThreadPoolExecutor(2, thread_name_prefix="imagelab-copies")

    # --- names --------------------------------------------------------------------------

    def key_for(self, digest: str, fmt: str) -> str:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a content hash")
        return f"{self.prefix}sha256/{digest}.{EXTENSIONS.get(fmt, 'bin')}"

    def _copy_key(self, name: str, ext: str) -> str:
        return f"{self.prefix}thumbs/{name}{ext}"

    # --- the calls of PictureStorage ----------------------------------------------------

    def write(self, data: bytes, fmt: str) -> str:
        digest = content_hash(data)
        key = self.key_for(digest, fmt)
        self._retry_spool()
        try:  # always asked, never taken from memory: another server may have deleted it meanwhile
            made = self._put(key, data, _CONTENT_TYPES.get(EXTENSIONS.get(fmt, ""), "application/octet-stream"),
                             digest=digest)
        except PictureStorageError as exc:
            self._note(exc)
            return self.spool.write(data, fmt)  # kept here until the storage takes it
        self._remember(key, data)
        if made:
            with self._lock:
                self._new.add(digest)
        return digest

    def _remember(self, key: str, data: bytes) -> None:
        with self._lock:
            if key in self._recent:
                return
            self._recent[key] = data
            self._recent_bytes += len(data)
            while self._recent_bytes > _RECENT_BYTES and self._recent:
                self._recent_bytes -= len(self._recent.popitem(last=False)[1])

    def read(self, digest: str, fmt: str) -> bytes:
        key = self.key_for(digest, fmt)
        self._retry_spool()
        spooled = self.spool.path_for(digest, fmt)
        with contextlib.suppress(FileNotFoundError):  # gone: sent on meanwhile, so read from the bucket
            return spooled.read_bytes()
        with self._lock:
            recent = self._recent.get(key)
        if recent is not None:
            return recent
        try:
            body = self._call("get_object", Bucket=self.bucket, Key=key)["Body"]
            data: bytes = body.read()
        except _Missing:
            raise FileNotFoundError(f"no picture {digest}") from None
        except Exception as exc:
            with contextlib.suppress(FileNotFoundError):  # spooled meanwhile by a write that found no storage
                return spooled.read_bytes()
            raise self._failure(exc) from None
        self._present.add(key)
        return data

    def has_bytes(self, digest: str, fmt: str) -> bool:
        key = self.key_for(digest, fmt)
        return key in self._present or self.spool.path_for(digest, fmt).is_file() or self._exists(key)

    def set_aside(self, digest: str, fmt: str) -> Path | None:
        """The bytes leave the bucket for a set-aside file of the spool, so a process that dies before the
        delete commits loses nothing: start-up puts the file back in the spool when a row still names it."""
        key = self.key_for(digest, fmt)
        try:
            data: bytes | None = self._call("get_object", Bucket=self.bucket, Key=key)["Body"].read()
        except _Missing:
            data = None
        except PictureStorageError:
            raise
        except Exception as exc:
            raise self._failure(exc) from None
        if data is not None:
            self.spool.write(data, fmt)
        aside = self.spool.set_aside(digest, fmt)
        if data is not None:
            try:
                self._call("delete_object", Bucket=self.bucket, Key=key)
            except BaseException:
                self.spool.put_back(aside)  # still in the bucket; the spooled copy goes up as a no-op
                raise
        self._forget(key)
        return aside

    def put_back(self, aside: object | None) -> None:
        self.spool.put_back(aside)
        self.flush_spool()

    def discard(self, aside: object | None) -> None:
        self.spool.discard(aside)

    def sweep(self, known: Collection[str], min_age: float = ORPHAN_AGE_SECONDS) -> list[str]:
        removed = [str(p) for p in self.spool.sweep(known, min_age)]
        self.flush_spool()
        try:
            return removed + self.remove_unknown(known, min_age)
        except PictureStorageError as exc:  # start-up goes on; the next start-up sweeps again
            self._note(exc)
            return removed

    def remove_unknown(self, known: Collection[str], min_age: float = ORPHAN_AGE_SECONDS) -> list[str]:
        cutoff = time.time() - min_age
        removed = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            folders = (self.prefix + "sha256/", self.prefix + "thumbs/")  # only what ImageLab names there
            pages = itertools.chain.from_iterable(paginator.paginate(Bucket=self.bucket, Prefix=folder)
                                                  for folder in folders)
            for page in pages:
                for obj in page.get("Contents", []):
                    key = str(obj["Key"])
                    digest = key.rsplit("/", 1)[-1][:64]
                    if digest in known or obj["LastModified"].timestamp() >= cutoff:
                        continue
                    self._call("delete_object", Bucket=self.bucket, Key=key)
                    self._forget(key)
                    removed.append(key)
        except PictureStorageError:
            raise
        except Exception as exc:
            raise self._failure(exc) from None
        return removed

    def url_for(self, digest: str, fmt: str) -> str | None:
        key = self.key_for(digest, fmt)
        if self.spool.path_for(digest, fmt).is_file():
            return None  # not in the bucket yet: the page shows the bytes
        return self._presigned(key)

    def copy_url(self, name: str, make: Callable[[], tuple[bytes, str]], *, wait: bool = True) -> str | None:
        key = self._copies.get(name)
        if key is None and not wait:
            with self._lock:
                if name in self._uploading:
                    return None
        try:
            with self._lock:  # a picture this process just put there has no copies yet: nothing to look for
                new = name.split("-", 1)[0] in self._new
            if key is None and not new:  # one listing finds the copy whatever its extension
                listed = self._call("list_objects_v2", Bucket=self.bucket, Prefix=self._copy_key(name, "."),
                                    MaxKeys=4)
                key = next((str(o["Key"]) for o in listed.get("Contents", [])
                            if str(o["Key"]).rsplit(".", 1)[-1] in ("jpg", "png", "gif")), None)
            if key is None:
                data, ext = make()
                key = self._copy_key(name, ext)
                if not wait:  # the caller shows the bytes it has; the copy's URL serves every view after
                    with self._lock:
                        self._uploading.add(name)
                    self._uploader.submit(self._send_copy, name, key, data, ext)
                    return None
                self._put(key, data, _CONTENT_TYPES.get(ext.lstrip("."), "application/octet-stream"))
        except PictureStorageError as exc:
            self._note(exc)
            return None
        self._copies[name] = key
        return self._presigned(key)

    def _send_copy(self, name: str, key: str, data: bytes, ext: str) -> None:
        try:
            self._put(key, data, _CONTENT_TYPES.get(ext.lstrip("."), "application/octet-stream"))
            self._copies[name] = key
        except PictureStorageError as exc:
            self._note(exc)
        finally:
            with self._lock:
                self._uploading.discard(name)

    def forget_copies(self, digest: str) -> None:
        prefix = self._copy_key(digest, "-")
        try:
            listed = self._call("list_objects_v2", Bucket=self.bucket, Prefix=prefix)
            for obj in listed.get("Contents", []):
                self._call("delete_object", Bucket=self.bucket, Key=obj["Key"])
                self._forget(str(obj["Key"]))
        except PictureStorageError as exc:  # an orphan copy goes at the next start-up's sweep
            self._note(exc)

    def publish_export(self, body: IO[bytes], file_name: str) -> str:
        """Send a finished export (an open, seekable file) to ``<prefix>/exports/`` in parts, so no more than
        a few parts are ever in memory, and return a presigned URL that downloads it as ``file_name`` for
        the URL lifetime. Exports whose URLs have all expired go first: the bucket keeps no old zips."""
        folder = f"{self.prefix}exports/"
        cutoff = time.time() - self.lifetime
        key = f"{folder}{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(8)}/{file_name}"
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
                for obj in page.get("Contents", []):
                    if obj["LastModified"].timestamp() < cutoff:
                        self._call("delete_object", Bucket=self.bucket, Key=obj["Key"])
            self._client.upload_fileobj(body, self.bucket, key, ExtraArgs={"ContentType": "application/zip"},
                                        Config=_transfer_config())
            return str(self._client.generate_presigned_url(
                "get_object", ExpiresIn=self.lifetime, Params={
                    "Bucket": self.bucket, "Key": key, "ResponseContentType": "application/zip",
                    "ResponseContentDisposition": f'attachment; filename="{file_name}"'}))
        except PictureStorageError:
            raise
        except Exception as exc:
            raise self._failure(exc) from None

    def spooled_count(self) -> int:
        return sum(1 for p in self.spool.folder.glob("*/*.*") if not p.name.startswith("."))

    def problem(self) -> str | None:
        return self._problem if self.spooled_count() else None

    # --- the spool ----------------------------------------------------------------------

    def flush_spool(self) -> int:
        """Send what waits in the spool; stop at the first failure. Returns how many were sent."""
        if not self._flush_lock.acquire(blocking=False):
            return 0  # another thread is sending them
        sent = 0
        try:
            for path in sorted(self.spool.folder.glob("*/*.*")):
                if path.name.startswith("."):
                    continue
                digest, ext = path.stem, path.suffix.lstrip(".")
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                if content_hash(data) != digest:  # never send what is not whole
                    path.unlink(missing_ok=True)
                    continue
                key = self.key_for(digest, _format_of_extension(ext))
                try:
                    self._put(key, data, _CONTENT_TYPES.get(ext, "application/octet-stream"))
                except PictureStorageError as exc:
                    self._note(exc)
                    break
                path.unlink(missing_ok=True)
                sent += 1
            else:
                self._problem = None
        finally:
            self._flush_lock.release()
        return sent

    def _retry_spool(self) -> None:
        if time.monotonic() >= self._next_retry and self.spooled_count():
            self.flush_spool()

    def _note(self, exc: PictureStorageError) -> None:
        self._problem = exc.sentence
        self._next_retry = time.monotonic() + self.RETRY_SECONDS

    # --- boto3 --------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(**kwargs)
        except Exception as exc:
            if _is_missing(exc):
                raise _Missing() from None
            raise self._failure(exc) from None

    def _failure(self, exc: BaseException) -> PictureStorageError:
        return exc if isinstance(exc, PictureStorageError) else storage_error(exc, self.endpoint, self.bucket)

    def _put(self, key: str, data: bytes, content_type: str, *, digest: str | None = None) -> bool:
        """Write an object that is not there yet; one already there is left as it is (412). Returns whether
        this call made it. The bytes' SHA-256 (``digest``, a picture's content hash, when known) goes with
        them for the server to check, so the client hashes nothing more (see ``_make_client``)."""
        sha256 = bytes.fromhex(digest) if digest else hashlib.sha256(data).digest()
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*",
                                    ContentType=content_type, CacheControl=_IMMUTABLE,
                                    ChecksumSHA256=base64.b64encode(sha256).decode())
        except Exception as exc:
            if _error_code(exc) not in ("PreconditionFailed", "412"):
                raise self._failure(exc) from None
            self._present.add(key)
            return False
        self._present.add(key)
        return True

    def _exists(self, key: str) -> bool:
        try:
            self._call("head_object", Bucket=self.bucket, Key=key)
        except _Missing:
            return False
        self._present.add(key)
        return True

    def _forget(self, key: str) -> None:
        self._present.discard(key)
        with self._lock:
            self._urls.pop(key, None)
            dropped = self._recent.pop(key, None)
            self._recent_bytes -= len(dropped or b"")
            for name in [n for n, k in self._copies.items() if k == key]:
                del self._copies[name]

    def _presigned(self, key: str) -> str:
        """A URL for the object, the same one while it has more than half its life left, so a browser
        that fetched it once keeps it."""
        now = time.monotonic()
        with self._lock:
            made = self._urls.get(key)
            if made is not None and now - made[1] < self.lifetime / 2:
                return made[0]
        url = str(self._client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                      ExpiresIn=self.lifetime))
        with self._lock:
            self._urls[key] = (url, now)
        return url


# At most this many bytes of pictures just sent are kept in memory for the reads that follow a save.
_RECENT_BYTES = 64 * 1024 * 1024


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    # an export goes up 8 MB at a time, two parts at once and two read ahead at most (s3transfer reads ten
    # ahead unless told): tens of megabytes in memory however large the zip
    config = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024,
                            max_concurrency=2)
    config.max_in_memory_upload_chunks = 2
    return config


class _Missing(Exception):
    """The object is not in the bucket (404, NoSuchKey)."""


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or "")


def _is_missing(exc: BaseException) -> bool:
    return _error_code(exc) in ("NoSuchKey", "404", "NotFound")


def _format_of_extension(ext: str) -> str:
    return next((fmt for fmt, e in EXTENSIONS.items() if e == ext), ext)


def _make_client() -> Any:
    """A boto3 S3 client from the standard AWS_* settings; path-style addressing for a named endpoint
    (a local or self-hosted server has no bucket subdomains)."""
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    # No payload signing: over plain HTTP botocore would hash every body with SHA-256 to sign it (and with
    # CRC32 besides), a tenth of a picture's save to a nearby server; a picture's body carries the SHA-256
    # it is named by instead (``ChecksumSHA256``, checked by the server), other bodies botocore's CRC32.
    config = Config(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                    retries={"max_attempts": 2, "mode": "standard"},
                    s3={"addressing_style": "path" if endpoint else "auto", "payload_signing_enabled": False})
    # A session of its own: boto3's default one keeps the first credentials it found for the process.
    client = boto3.session.Session().client("s3", endpoint_url=endpoint or None, region_name=region, config=config)
    client.meta.events.register("before-sign.s3.PutObject", _send_at_once)
    return client


def _send_at_once(request: Any, **_: Any) -> None:
    """A picture goes up with its request rather than after a ``100 Continue``: botocore asks for one before
    every PutObject body, which costs a round trip per picture (a third of a save's time to a nearby server)
    to spare sending a few megabytes at most to a server that would refuse them."""
    if "Expect" in request.headers:  # asked for after the call's own handlers ran: taken off before signing
        del request.headers["Expect"]
