"""The ``rft serve`` ASGI application: OpenAI's grader API, OpenRLHF's ``/get_reward``, our ``/score``.

Endpoints (JSON in, JSON out; errors in OpenAI's ``{"error": {"message", ...}}`` shape):

- ``POST /v1/fine_tuning/alpha/graders/run``: ``{"grader"?, "model_sample", "item"?}`` -> OpenAI's
  run response (``openai_compat.run_response``); without ``grader``, the server's spec grades.
- ``POST /v1/fine_tuning/alpha/graders/validate``: ``{"grader"}`` -> ``{"grader"}``, or 422 with
  every problem of the grader.
- ``POST /get_reward``: OpenRLHF's remote reward protocol (``integrations.openrlhf``).
- ``POST /score``: ``{"rows": [...]}`` in any ``rft score`` row format -> ``{"rows": [...]}``, the
  output rows of ``rft score``; ``grader`` in the body grades with it instead of the spec.
- ``GET /health``, ``GET /graders``: liveness; the grader types and the spec's components.

Every request is graded through one ``Batcher``, so concurrent clients share batches.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ...kernel.errors import RftError, SpecError
from ...kernel.grader import Grader
from ..components import component_paths
from ..openrlhf import reward_inputs, rewards_response
from ..openai_compat import run_response
from ...kernel.registry import Registry, default_registry
from ...kernel.runtime import Runtime
from ...kernel.spec import load_spec
from ...kernel.types import Sample
from .batching import Batcher
from .http import BearerToken, JSONEndpoint, RequestError, json_kind
from .rows import output_rows, read_rows

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "create_app"]

DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
GRADER_CACHE = 64
"""Request graders kept built (by their JSON), so clients sending the same grader share batches."""


class _Service:
    """What the endpoints share: the spec's grader, request graders built so far, the batcher, the runtime."""

    def __init__(
        self, spec: Grader | None, spec_source: str | None, registry: Registry, batcher: Batcher,
        request_graders: bool, runtime: Runtime,
    ) -> None:
        self.runtime = runtime
        self.spec = spec
        self.spec_source = spec_source
        self.registry = registry
        self.batcher = batcher
        self.request_graders = request_graders
        self._built: OrderedDict[bytes, Grader] = OrderedDict()

    def grader(self, body: Mapping[str, Any], endpoint: str) -> Grader:
        """The request's ``grader`` if it has one, else the spec's; 422 if neither, 403 if refused."""
        document = body.get("grader")
        if document is None:
            if self.spec is None:
                raise RequestError(422, f"{endpoint}: this server has no spec: send a 'grader' object, "
                                   "or start the server with one (rft serve SPEC)", "grader")
            return self.spec
        if not self.request_graders:
            raise RequestError(403, f"{endpoint}: this server grades only its spec ({self.spec_source}): "
                               "leave 'grader' out of the request (rft serve --spec-only)", "grader")
        return self.build(document, openai_fidelity=endpoint.startswith("graders/"))

    def build(self, document: Any, *, openai_fidelity: bool = False) -> Grader:
        """A request's grader, built once per distinct JSON; 422 naming every problem otherwise.

        A grader sent to OpenAI's endpoints is OpenAI's JSON: built with ``openai_fidelity`` (judges
        send its prompt verbatim and only the sampling parameters it sets, as ``rft run`` does)."""
        if not isinstance(document, dict):
            raise RequestError(422, f"'grader' must be a grader object, not {type(document).__name__}", "grader")
        key = bytes([openai_fidelity]) + orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        grader = self._built.get(key)
        if grader is not None:
            self._built.move_to_end(key)
            return grader
        try:
            grader = load_spec(document, self.registry, openai_fidelity=openai_fidelity, runtime=self.runtime)
        except SpecError as exc:
            problems = "; ".join(map(str, exc.issues))
            raise RequestError(422, f"request grader: {len(exc.issues)} problem(s): {problems}", "grader") from None
        except RftError as exc:
            raise RequestError(422, f"request grader: {exc}", "grader") from None
        self._built[key] = grader
        if len(self._built) > GRADER_CACHE:
            self._built.popitem(last=False)
        return grader


def create_app(
    spec: str | Path | Mapping[str, Any] | Grader | None = None,
    *,
    token: str | None = None,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    request_graders: bool = True,
    threads: int = 16,
    registry: Registry | None = None,
    runtime: Runtime | None = None,
) -> Starlette:
    """The ASGI app (run it with uvicorn; ``rft serve`` does).

    Args:
        spec: the spec that grades requests that send no grader (a path, mapping or Grader); SpecError if invalid.
        token: when set, every request but ``/health`` needs ``Authorization: Bearer <token>``.
        max_request_bytes: larger request bodies are refused with 413.
        request_graders: accept a ``grader`` in requests (OpenAI's API sends one); False grades only the spec.
        threads: grading passes in flight at once (each grader has its own queue).
        registry: grader types (default: the installed plugins).
        runtime: what the graders share (default: one made from the environment, closed when the
            app shuts down); a Grader passed as ``spec`` keeps its own unless ``runtime`` is given.
    """
    registry = registry or default_registry()
    own_runtime = runtime is None
    if isinstance(spec, Grader) and runtime is not None:
        spec.bind(runtime)
    runtime = runtime or Runtime.from_environment()
    grader = spec if isinstance(spec, Grader) or spec is None else load_spec(spec, registry, runtime=runtime)
    source = str(spec) if isinstance(spec, (str, Path)) else (grader.name if grader is not None else None)
    batcher = Batcher(threads)
    service = _Service(grader, source, registry, batcher, request_graders, runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        batcher.close()
        if own_runtime:
            runtime.close()

    def endpoint(handler: Any) -> JSONEndpoint:
        return JSONEndpoint(service, handler, max_request_bytes)

    routes = [
        Route("/v1/fine_tuning/alpha/graders/run", endpoint(_run), methods=["POST"]),
        Route("/v1/fine_tuning/alpha/graders/validate", endpoint(_validate), methods=["POST"]),
        Route("/get_reward", endpoint(_get_reward), methods=["POST"]),
        Route("/score", endpoint(_score), methods=["POST"]),
        Route("/health", endpoint(_health), methods=["GET"]),
        Route("/graders", endpoint(_graders), methods=["GET"]),
    ]
    middleware = [Middleware(BearerToken, token=token)] if token else []
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


async def _run(service: _Service, body: dict[str, Any]) -> dict[str, Any]:
    grader = service.grader(body, "graders/run")
    sample = body.get("model_sample")
    if not isinstance(sample, str):
        raise RequestError(422, f"'model_sample' must be a string (the model's output), not {json_kind(sample)}",
                           "model_sample")
    item = body.get("item")
    if item is not None and not isinstance(item, dict):
        raise RequestError(422, f"'item' must be a JSON object (the dataset row), not {json_kind(item)}", "item")
    [result], seconds = await service.batcher.grade(grader, [Sample(sample)], [item or {}])
    return run_response(grader, result, seconds)


async def _validate(service: _Service, body: dict[str, Any]) -> dict[str, Any]:
    if "grader" not in body:
        raise RequestError(422, "graders/validate: send the grader to check as 'grader'", "grader")
    service.build(body["grader"], openai_fidelity=True)
    return {"grader": body["grader"]}


async def _get_reward(service: _Service, body: dict[str, Any]) -> dict[str, Any]:
    grader = service.grader(body, "get_reward")
    missing = [key for key in ("query", "prompts", "labels") if key not in body]
    if missing:
        raise RequestError(422, f"get_reward: missing {', '.join(map(repr, missing))}: OpenRLHF sends "
                           '{"query": [prompt + response, ...], "prompts": [...], "labels": [...]}', missing[0])
    try:
        inputs = reward_inputs(body["query"], body["prompts"], body["labels"])
    except RftError as exc:
        raise RequestError(422, f"get_reward: {exc}") from None
    results, _ = await service.batcher.grade(grader, inputs.samples, inputs.items)
    return rewards_response(inputs.results(results), grader)


async def _score(service: _Service, body: dict[str, Any]) -> dict[str, Any]:
    grader = service.grader(body, "score")
    rows = body.get("rows")
    if not isinstance(rows, list):
        raise RequestError(422, 'score: send {"rows": [...]}, each row in an rft score format '
                           f"(e.g. {{\"output_text\": ..., \"answer\": ...}}); 'rows' is {json_kind(rows)}", "rows")
    read = read_rows(rows)
    results, seconds = await service.batcher.grade(grader, read.samples, read.items)
    return {"rows": output_rows(read, results, seconds)}


async def _health(service: _Service, body: dict[str, Any]) -> dict[str, Any]:
    return {"status": "ok"}


async def _graders(service: _Service, body: dict[str, Any]) -> dict[str, Any]:
    types = [
        {"type": name, "plugin": entry.plugin, "description": entry.cls.summary()} for name, entry in service.registry
    ]
    spec = None
    if service.spec is not None:
        components = [".".join(path) for path in component_paths(service.spec)]
        spec = {"source": service.spec_source, "name": service.spec.name, "type": service.spec.type,
                "components": components}
    return {"graders": types, "spec": spec}

