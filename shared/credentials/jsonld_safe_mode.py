"""JSON-LD safe mode: pyld's processor failing where it would silently drop data.

pyld drops terms no context defines, so data added after signing would not
change the canonical form. :class:`SafeProcessor` fails instead, naming the
member's path (``credentialSubject.extraField``):

- ``undefined_term``: a key or ``type`` value that no active context defines
  (terms reached through an ``@vocab``, e.g. ``credentials/undefined-terms/v2``,
  count as defined only where that context is listed), or a compact IRI whose
  prefix is undefined;
- ``relative_iri``: an ``id`` or IRI-typed value that is not an absolute IRI
  (RDF conversion drops it);
- ``iri_key_for_defined_term``: a full IRI used as a key where a term exists
  for it (the JSON would not show the member under its term);
- ``inline_context`` / ``context_not_bundled`` (:func:`check_contexts`, before
  pyld runs): ``@context`` entries other than bundled URLs and inline term
  definitions (VC 2.0 §4.3 allows context objects; we take only those that
  name each term's absolute IRI: no ``@vocab`` catch-all, no ``@import``,
  nothing fetched, and the bundled contexts' protected terms stay protected).

The processor also memoises processed contexts in an :class:`Lru` that the
caller owns (``jsonld.ContextRegistry``): pyld re-processes type-scoped
contexts on every call otherwise, which is ~80% of its expansion time.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from pyld.jsonld import JsonLdProcessor

from .errors import ContextError

_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
# Schemes accepted as absolute IRIs in keys/types without a defining prefix.
_IRI_SCHEMES = frozenset({"http", "https", "urn", "did", "tag", "mailto"})


def check_deadline(deadline: float) -> None:
    """``canonicalization_too_slow`` once ``deadline`` (``time.monotonic()``) passed."""
    if deadline != math.inf and time.monotonic() > deadline:
        raise ContextError("canonicalization_too_slow", "the document takes too long to process")


class UndefinedTermError(ContextError):
    """A key or type that no context defines (safe mode)."""

    def __init__(self, detail: str, path: str | None = None) -> None:
        super().__init__("undefined_term", detail, path)


class Lru:
    """A small bounded mapping (least recently used entries go first)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[object, Any] = OrderedDict()

    def get(self, key: object, default: Any = None) -> Any:
        value = self._data.get(key, default)
        if key in self._data:
            self._data.move_to_end(key)
        return value

    def __setitem__(self, key: object, value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._size:
            self._data.popitem(last=False)


def format_path(parts: list[str | int]) -> str:
    """``["a", 0, "b"]`` -> ``a[0].b``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _find(node: object, target: object) -> list[str | int] | None:
    """Path from ``node`` to the object ``target`` (identity), if it is inside."""
    if node is target:
        return []
    items: list[tuple[str | int, object]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, child in items:
        if isinstance(child, dict | list):
            found = _find(child, target)
            if found is not None:
                return [key, *found]
    return None


def check_contexts(doc: object, allowed: Mapping[str, object], path: list[str | int]) -> None:
    """Every ``@context`` must be a bundled URL or a list of them (no inline contexts)."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            check_contexts(item, allowed, [*path, i])
        return
    if not isinstance(doc, dict):
        return
    for key, value in doc.items():
        if key != "@context":
            check_contexts(value, allowed, [*path, key])
            continue
        for entry in value if isinstance(value, list) else [value]:
            where = format_path([*path, "@context"])
            if isinstance(entry, dict):
                # a context object may wrap its definitions in "@context" (JSON-LD 1.1 §4.1)
                inner = entry.get("@context") if set(entry) == {"@context"} else entry
                _check_term_definitions(inner if isinstance(inner, dict) else entry, where)
                continue
            if not isinstance(entry, str):
                raise ContextError("inline_context", "a context is a URL or an object", where)
            if entry not in allowed:
                raise ContextError("context_not_bundled", f"context not bundled: {entry}", where)


_TERM_KEYS = frozenset({"@id", "@type", "@container"})
_CONTAINERS = frozenset({"@set", "@list", "@language", "@index"})


def _check_term_definitions(context: Mapping[str, object], where: str) -> None:
    """An inline context must only define terms as absolute IRIs (``term: IRI``
    or ``term: {"@id": IRI, "@type"?: IRI | "@id" | "@json", "@container"?}``)."""
    for term, definition in context.items():
        if term.startswith("@"):
            raise ContextError(
                "inline_context",
                f"inline contexts may not set {term} (term definitions only)",
                where,
            )
        target = definition.get("@id") if isinstance(definition, dict) else definition
        if not isinstance(target, str) or not _is_iri(target):
            raise ContextError(
                "inline_context", f"term {term!r} must map to an absolute IRI", where
            )
        if isinstance(definition, dict):
            kind, container = definition.get("@type"), definition.get("@container")
            if (
                not set(definition) <= _TERM_KEYS
                or (kind is not None and not (kind in ("@id", "@json") or _is_iri(kind)))
                or (container is not None and container not in _CONTAINERS)
            ):
                raise ContextError(
                    "inline_context", f"term {term!r}: unsupported definition", where
                )


def _is_iri(value: object) -> bool:
    return isinstance(value, str) and bool(_ABSOLUTE_IRI.fullmatch(value)) and ":" in value


class SafeProcessor(JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor with safe-mode checks and a processed-context memo."""

    def __init__(self, memo: Lru, root_path: str, deadline: float = math.inf) -> None:
        super().__init__(on_property_dropped=self._dropped)
        self._memo = memo
        self._root_path = root_path
        self._deadline = deadline
        self._stack: list[tuple[dict[str, Any], dict[str, Any]]] = []

    # -- context memo: processed contexts are immutable in pyld; reuse them --

    def _process_context(
        self,
        active_ctx: dict[str, Any],
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        flags = (override_protected, propagate, validate_scoped)
        uuid = active_ctx.get("_uuid")
        if cycles or uuid is None:
            return super()._process_context(active_ctx, local_ctx, options, *flags, cycles)
        if isinstance(local_ctx, str):
            ident: object = local_ctx
        elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
            ident = tuple(local_ctx)
        else:
            ident = id(local_ctx)  # the entry keeps local_ctx alive: ids stay unique
        key = (uuid, ident, flags)
        hit = self._memo.get(key)
        if hit is not None and (not isinstance(ident, int) or hit[0] is local_ctx):
            return hit[1]
        result = super()._process_context(active_ctx, local_ctx, options, *flags, cycles)
        self._memo[key] = (local_ctx, result)
        return result

    # -- safe mode ------------------------------------------------------------

    def _path(self, element: object | None = None, *tail: str) -> str:
        chain: list[object] = [entry[0] for entry in self._stack]
        if element is not None and (not chain or chain[-1] is not element):
            chain.append(element)
        parts: list[str | int] = []
        for parent, child in itertools.pairwise(chain):
            parts.extend(_find(parent, child) or [])
        parts.extend(tail)
        inner = format_path(parts)
        if self._root_path and inner:
            return f"{self._root_path}{'' if inner.startswith('[') else '.'}{inner}"
        return self._root_path or inner

    def _dropped(self, expanded: str | None) -> None:
        element, ctx = self._stack[-1]
        for key in sorted(element):
            if key != "@context" and self._expand_iri(ctx, key, vocab=True) == expanded:
                raise UndefinedTermError(f"term {key!r} is not defined", self._path(None, key))
        raise UndefinedTermError(f"term {expanded!r} is not defined", self._path())

    def _check_iri_word(self, ctx: dict[str, Any], word: str, key: str | None) -> None:
        """A key (``key`` is None) or type outside the context must be a compact IRI
        with a defined prefix or a full IRI; a key must not be the IRI of a term."""
        mappings = ctx["mappings"]
        if word in mappings or word.startswith("@") or ":" not in word:
            return
        prefix, _, suffix = word.partition(":")
        if prefix in mappings or suffix.startswith("//") or prefix in _IRI_SCHEMES:
            iri = self._expand_iri(ctx, word, vocab=True)
            if key is None and any(
                isinstance(d, dict) and d.get("@id") == iri for d in mappings.values()
            ):
                raise ContextError(
                    "iri_key_for_defined_term",
                    f"{word!r} must be written as its term",
                    self._path(None, word),
                )
            return
        raise UndefinedTermError(f"prefix {prefix!r} is not defined", self._path(None, key or word))

    def _expand_object(
        self,
        active_ctx: dict[str, Any],
        active_property: Any,
        expanded_active_property: Any,
        element: dict[str, Any],
        expanded_parent: dict[str, Any],
        options: dict[str, Any],
        inside_list: bool = False,
        type_key: Any = None,
        type_scoped_ctx: Any = None,
    ) -> Any:
        check_deadline(self._deadline)
        self._stack.append((element, active_ctx))
        try:
            for key in element:
                if ":" in key:
                    self._check_iri_word(active_ctx, key, None)
            if type_key is not None:
                types = element.get(type_key)
                for value in types if isinstance(types, list) else [types]:
                    if isinstance(value, str) and ":" in value:
                        self._check_iri_word(type_scoped_ctx or active_ctx, value, type_key)
            super()._expand_object(
                active_ctx,
                active_property,
                expanded_active_property,
                element,
                expanded_parent,
                options,
                inside_list,
                type_key,
                type_scoped_ctx,
            )
            self._check_node(expanded_parent, type_key)
        finally:
            self._stack.pop()

    def _create_node_map(self, *args: Any, **kwargs: Any) -> Any:
        check_deadline(self._deadline)  # RDF conversion: quadratic in array lengths
        return super()._create_node_map(*args, **kwargs)

    def _check_node(self, expanded: dict[str, Any], type_key: Any) -> None:
        node_id = expanded.get("@id")
        for value in node_id if isinstance(node_id, list) else [node_id]:
            if isinstance(value, str) and not _is_node_iri(value):
                raise ContextError(
                    "relative_iri", f"id {value!r} is not an absolute IRI", self._path(None, "id")
                )
        if "@value" in expanded:
            return
        types = expanded.get("@type")
        for value in types if isinstance(types, list) else [types]:
            if isinstance(value, str) and not _is_node_iri(value):
                raise UndefinedTermError(
                    f"type {value!r} is not defined", self._path(None, type_key or "type")
                )

    def _expand_value(
        self, active_ctx: dict[str, Any], active_property: Any, value: Any, options: Any
    ) -> Any:
        result = super()._expand_value(active_ctx, active_property, value, options)
        node_id = result.get("@id") if isinstance(result, dict) else None
        if isinstance(node_id, str) and not _is_node_iri(node_id) and self._stack:
            where = self._path(None, str(active_property))
            coerce = self.get_context_value(active_ctx, active_property, "@type")
            if coerce == "@vocab":
                raise UndefinedTermError(f"value {value!r} is not a defined term", where)
            raise ContextError("relative_iri", f"{value!r} is not an absolute IRI", where)
        return result


def _is_node_iri(value: str) -> bool:
    return value.startswith("_:") or _ABSOLUTE_IRI.fullmatch(value) is not None
