"""Content negotiation between a page for people and JSON (RFC 9110 §12.5.1)."""

from __future__ import annotations

_KINDS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/json": "json",
    "application/problem+json": "json",  # RFC 9457 §3: what our errors are
}


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def _ranks(accept: str) -> dict[str, float]:
    ranks = {"html": 0.0, "json": 0.0}
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        kind = _KINDS.get(media.strip().lower())
        if kind is not None:
            ranks[kind] = max(ranks[kind], _quality(params))
    return ranks


def prefers_html(accept: str) -> bool:
    """True when an `Accept` header ranks HTML above JSON (a browser); a
    missing header, `*/*` or a tie answer JSON (for an API first)."""
    ranks = _ranks(accept)
    return ranks["html"] > ranks["json"]


def prefers_json(accept: str) -> bool:
    """True when an `Accept` header ranks JSON above HTML; a missing header,
    `*/*` or a tie answer HTML (for a page first: the verification and share
    pages, which link-preview crawlers fetch with `*/*`)."""
    ranks = _ranks(accept)
    return ranks["json"] > ranks["html"]
