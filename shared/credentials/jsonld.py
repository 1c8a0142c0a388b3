"""Bundled JSON-LD contexts, safe-mode expansion and RDFC-1.0 canonicalisation.

Contexts come only from ``contexts/manifest.json`` (each file's SHA-256 is
checked once, when a registry is built); any other URL is a ``ContextError``
and never a network fetch. The W3C example contexts are served only by a
registry built with ``allow_examples=True`` (W3C test vectors).

Every expansion and canonicalisation runs in safe mode (``jsonld_safe_mode``:
``undefined_term``, ``relative_iri``, ``iri_key_for_defined_term``,
``inline_context``, ``context_not_bundled``, each with the member's path).

Registries cache processed contexts (pyld re-processes type-scoped contexts
on every call otherwise, which is ~80% of its expansion time). A registry is
not thread-safe: use one per thread (asyncio code runs on one).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdError

from .errors import ContextError, CredentialError
from .jsonld_safe_mode import Lru, SafeProcessor, check_contexts, check_deadline

CONTEXTS_DIR = Path(__file__).with_name("contexts")
EXAMPLE_CONTEXTS = frozenset(
    {
        "https://www.w3.org/2018/credentials/examples/v1",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://www.w3.org/ns/odrl.jsonld",
    }
)
_MAX_CANON_WORK = 20_000  # permutations + n-degree hashes (RDFC-1.0 §4.8)
_MAX_PERMUTED_GROUP = 8  # 8! = 40,320 already exceeds the budget
# Wall-clock cap of one expansion or canonicalisation; callers may pass less.
DEFAULT_SECONDS = 5.0

JsonDoc = dict[str, Any]
DocumentLoader = Callable[..., dict[str, Any]]


def _load_bundle(directory: Path, allow_examples: bool) -> Mapping[str, bytes]:
    entries = json.loads((directory / "manifest.json").read_text("utf-8"))
    files: dict[str, bytes] = {}
    for entry in entries:
        url, raw = entry["url"], (directory / entry["file"]).read_bytes()
        if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise ContextError("context_integrity", f"bundled context {url} fails its sha256")
        if allow_examples or url not in EXAMPLE_CONTEXTS:
            files[url] = raw
    return files


class _GuardedCanon(URDNA2015):  # type: ignore[misc]
    """RDFC-1.0 with a work budget: hostile blank-node graphs cost factorial
    time. The budget counts steps and, through `deadline`, time."""

    def __init__(self, deadline: float = math.inf) -> None:
        super().__init__()
        self._work = 0
        self._deadline = deadline

    def _spend(self, units: int) -> None:
        self._work += units
        if self._work > _MAX_CANON_WORK:
            raise ContextError("canonicalization_too_complex", "blank node structure too costly")
        check_deadline(self._deadline)

    def hash_first_degree_quads(self, id_: str) -> Any:
        check_deadline(self._deadline)
        return super().hash_first_degree_quads(id_)

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._spend(1)
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        related = super().create_hash_to_related(id_, issuer)
        for group in related.values():
            if len(group) > _MAX_PERMUTED_GROUP:
                self._spend(_MAX_CANON_WORK + 1)
            self._spend(math.factorial(len(group)))
        return related


def _credential_cause(exc: BaseException) -> CredentialError | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, CredentialError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


class ContextRegistry:
    """The bundled contexts plus the caches that make pyld fast on them."""

    def __init__(self, directory: Path = CONTEXTS_DIR, *, allow_examples: bool = False) -> None:
        self.allow_examples = allow_examples
        self._files = _load_bundle(directory, allow_examples)
        self._documents: Mapping[str, JsonDoc] = {
            url: json.loads(raw) for url, raw in self._files.items()
        }
        self._resolved = Lru(256)  # pyld ContextResolver's shared cache, ours alone
        self._memo = Lru(2048)

    @property
    def urls(self) -> frozenset[str]:
        """The context URLs this registry serves."""
        return frozenset(self._documents)

    def resource_bytes(self, url: str) -> bytes | None:
        """The bundled file of the context ``url``, byte for byte (the resource
        a relatedResource digest is computed over: VC 2.0 §5.3)."""
        return self._files.get(url)

    def load_document(self, url: str, options: object = None) -> dict[str, Any]:
        """pyld document loader: bundled contexts only, never the network."""
        doc = self._documents.get(url)
        if doc is None:
            raise ContextError("context_not_bundled", f"context not bundled: {url}")
        # "tag" lets pyld's resolver keep the parsed context across calls.
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(doc),
            "tag": "static",
        }

    def _run(self, doc: Mapping[str, Any], path: str, op: str, seconds: float) -> Any:
        if not isinstance(doc, Mapping) or "@context" not in doc:
            raise ContextError("missing_context", "document has no @context", path or None)
        deadline = time.monotonic() + seconds
        processor = SafeProcessor(self._memo, path, deadline)
        options = {
            "documentLoader": self.load_document,
            "contextResolver": ContextResolver(self._resolved, self.load_document),
            "base": None,  # relative IRIs stay relative (and fail safe mode)
            "processingMode": "json-ld-1.1",
        }
        try:
            check_contexts(dict(doc), self._documents, [path] if path else [])
            if op == "expand":
                return processor.expand(dict(doc), options)
            dataset = processor.to_rdf(dict(doc), options)
            return _GuardedCanon(deadline).main(dataset, {"format": "application/n-quads"})
        except CredentialError:
            raise
        except JsonLdError as exc:
            cause = _credential_cause(exc)
            if cause is not None:
                raise cause from None
            raise ContextError(
                "jsonld_error", str(exc).splitlines()[0][:300], path or None
            ) from exc
        except RecursionError as exc:
            raise ContextError("too_deep", "document is nested too deeply", path or None) from exc

    def expand(
        self, doc: Mapping[str, Any], *, path: str = "", seconds: float = DEFAULT_SECONDS
    ) -> list[JsonDoc]:
        """Safe-mode JSON-LD expansion; ``path`` prefixes error paths."""
        result: list[JsonDoc] = self._run(doc, path, "expand", seconds)
        return result

    def canonize(
        self, doc: Mapping[str, Any], *, path: str = "", seconds: float = DEFAULT_SECONDS
    ) -> str:
        """RDFC-1.0 (URDNA2015) canonical N-Quads of ``doc``, after the safe-mode
        checks; ``canonicalization_too_slow`` after ``seconds``."""
        result: str = self._run(doc, path, "canonize", seconds)
        return result


@functools.lru_cache(maxsize=2)
def default_registry(*, allow_examples: bool = False) -> ContextRegistry:
    """The process-wide registry for the bundled contexts (built on first use)."""
    return ContextRegistry(allow_examples=allow_examples)


def document_loader(*, allow_examples: bool = False) -> DocumentLoader:
    """A pyld ``documentLoader`` serving bundled contexts only."""
    return default_registry(allow_examples=allow_examples).load_document


def expand(doc: Mapping[str, Any], *, allow_examples: bool = False) -> list[JsonDoc]:
    """Safe-mode expansion with the default registry."""
    return default_registry(allow_examples=allow_examples).expand(doc)


def canonize(doc: Mapping[str, Any], *, allow_examples: bool = False) -> str:
    """RDFC-1.0 N-Quads with the default registry (safe mode first)."""
    return default_registry(allow_examples=allow_examples).canonize(doc)
