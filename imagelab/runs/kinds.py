"""Jobs as data: what a run is (its kind, its spec as JSON, where it goes and whose it is), so any worker can send it.

A *kind* names a request the app can send (``generate``, ``edit``, ``turn``, ``describe``, ``improve``)
and pairs the spec type that reads its JSON with the client call that sends it. A ``Job`` is plain
data: the kind, the spec's JSON, the backend *without its key*, the page, the pictures it is made
from, its group and label, who submitted it, and the named step that runs on every saved result
(``keep_exact``). ``Job.request`` turns it back into the run engine's ``JobRequest`` wherever it
runs: in this process's pool, or in a worker on another machine (``imagelab.runs.queue``). The key is
added there, from that process's own environment or the person's session; it never enters a job.

    job = Job.of("generate", spec, connection, page="generate")
    engine.submit(job.request(connection.api_key))
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from imagelab.client import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Connection, ask_for_words, edit, generate, respond
from imagelab.costs import Estimate
from imagelab.drift import DerivedImage, KeepExact
from imagelab.prompts import DESCRIBE, REWRITE, PromptRequest
from imagelab.specs import EditSpec, GenerateSpec, TurnSpec, bytes_from_json, bytes_to_json

__all__ = ["Spec", "Kind", "KINDS", "Job", "Backend", "PostStep", "kind_of", "BadJob"]


class Spec(Protocol):
    """What every request spec offers the run engine and the queue."""

    @property
    def model(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def n(self) -> int: ...
    @property
    def text_only(self) -> bool: ...  # words are the result, not pictures

    def to_record(self) -> dict[str, Any]: ...   # kept with the run (inputs by hash)
    def to_json(self) -> dict[str, Any]: ...     # everything to send it again (inputs included)
    def estimate(self) -> Estimate: ...
    def inputs(self) -> list[tuple[bytes, str]]: ...  # pictures sent with it (bytes, MIME)


SpecCall = Callable[[Any, Any], Iterator[Any]]


class BadJob(ValueError):
    """A job that cannot be read back (an unknown kind or step, a spec this version does not know)."""


def _background_turn(client: Any, spec: Any) -> Iterator[Any]:
    # a turn taken by a worker is sent in the background, so it can be resumed from its response id
    return respond(client, spec, None, background=True)


@dataclass(frozen=True)
class Kind:
    """A kind of request: how its spec is read back from JSON, and the client call that sends it."""

    name: str
    load: Callable[[dict[str, Any]], Spec]
    call: SpecCall


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("generate", GenerateSpec.from_json, generate),
    Kind("edit", EditSpec.from_json, edit),
    Kind("turn", TurnSpec.from_json, _background_turn),
    Kind("describe", PromptRequest.from_json, ask_for_words),
    Kind("improve", PromptRequest.from_json, ask_for_words),
)}


def kind_of(spec: Spec) -> str:
    """The kind that sends ``spec``."""
    if isinstance(spec, GenerateSpec):
        return "generate"
    if isinstance(spec, EditSpec):
        return "edit"
    if isinstance(spec, TurnSpec):
        return "turn"
    if isinstance(spec, PromptRequest):
        return {DESCRIBE: "describe", REWRITE: "improve"}[spec.kind]
    raise BadJob(f"no job kind sends a {type(spec).__name__}")


@dataclass(frozen=True)
class Backend:
    """Where a job goes, without its key: the worker adds a key of its own."""

    base_url: str | None
    label: str
    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES

    @classmethod
    def of(cls, connection: Connection) -> Backend:
        return cls(connection.base_url, connection.label, connection.offline, connection.timeout,
                   connection.max_retries)

    def connection(self, api_key: str) -> Connection:
        return Connection(self.base_url, api_key, label=self.label, offline=self.offline, timeout=self.timeout,
                          max_retries=self.max_retries)


@dataclass(frozen=True)
class PostStep:
    """A named step run on every saved result, with its arguments as JSON (``keep_exact``)."""

    name: str
    args: dict[str, Any]

    @classmethod
    def keep_exact(cls, step: KeepExact) -> PostStep:
        return cls("keep_exact", {"original": bytes_to_json(step.original), "mask": bytes_to_json(step.mask),
                                  "feather": step.feather})

    def build(self) -> Callable[[bytes, str], list[DerivedImage]]:
        if self.name == "keep_exact":
            return KeepExact(bytes_from_json(self.args["original"]), bytes_from_json(self.args["mask"]),
                             int(self.args["feather"]))
        raise BadJob(f"no step is named {self.name!r}")


@dataclass(frozen=True)
class Job:
    """A run as data: what any worker needs to send it, and nothing secret."""

    kind: str
    spec: dict[str, Any]
    backend: Backend
    page: str
    parents: tuple[str, ...] = ()
    group: str | None = None
    label: str | None = None
    owner: str | None = None                   # who submitted it (a person's name, once there are logins)
    post: PostStep | None = None
    estimate: dict[str, Any] | None = None
    moderate: bool = False
    session_runs: tuple[int, ...] = ()         # the submitting session's runs, for its own spending limit
    # the spec object itself, when the job is run where it was made (not part of the job's JSON)
    loaded: Spec | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, kind: str, spec: Spec, connection: Connection, *, page: str, parents: tuple[str, ...] = (),
           group: str | None = None, label: str | None = None, owner: str | None = None,
           post: PostStep | None = None, estimate: Estimate | None = None, moderate: bool = False,
           session_runs: tuple[int, ...] = ()) -> Job:
        if kind not in KINDS:
            raise BadJob(f"no job kind is named {kind!r}")
        est = None if estimate is None else asdict(estimate)
        return cls(kind, spec.to_json(), Backend.of(connection), page, tuple(parents), group, label, owner, post,
                   est, moderate, tuple(session_runs), loaded=spec)

    def spec_object(self) -> Spec:
        if self.loaded is not None:
            return self.loaded
        try:
            return KINDS[self.kind].load(self.spec)
        except KeyError as exc:
            raise BadJob(f"this job lacks {exc}") from None
        except (TypeError, ValueError) as exc:
            raise BadJob(f"this job's spec cannot be read: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": self.spec, "backend": self.backend.__dict__, "page": self.page,
                "parents": list(self.parents), "group": self.group, "label": self.label, "owner": self.owner,
                "post": None if self.post is None else {"name": self.post.name, "args": self.post.args},
                "estimate": self.estimate, "moderate": self.moderate, "session_runs": list(self.session_runs)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        try:
            kind = str(data["kind"])
            if kind not in KINDS:
                raise BadJob(f"no job kind is named {kind!r}")
            post = data.get("post")
            return cls(kind, dict(data["spec"]), Backend(**data["backend"]), str(data["page"]),
                       tuple(data.get("parents") or ()), data.get("group"), data.get("label"), data.get("owner"),
                       PostStep(str(post["name"]), dict(post["args"])) if post else None, data.get("estimate"),
                       bool(data.get("moderate")), tuple(int(r) for r in data.get("session_runs") or ()))
        except (KeyError, TypeError) as exc:
            raise BadJob(f"this job cannot be read: {exc}") from None

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    def request(self, api_key: str, **hooks: Any) -> Any:
        """The run engine's ``JobRequest`` for this job, sent with ``api_key``; ``hooks`` are the request's
        other fields (``budget``, ``on_queued``, ``on_finish``, ``call`` to send it another way)."""
        from .engine import JobRequest

        spec = self.spec_object()
        est = Estimate(**{**self.estimate, "notes": tuple(self.estimate.get("notes") or ())}) if self.estimate else None
        call = hooks.pop("call", None) or KINDS[self.kind].call
        return JobRequest(spec, call, self.backend.connection(api_key), self.page, self.parents, est, self.group,
                          self.label, moderate=self.moderate,
                          postprocess=self.post.build() if self.post is not None else None, job=self, **hooks)
