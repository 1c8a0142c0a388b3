"""Content negotiation: a page for people or JSON (RFC 9110 §12.5.1), and
the language of what people read (§12.5.4)."""

from __future__ import annotations

from collections.abc import Sequence

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


def negotiate_language(
    query_lang: str | None, accept_language: str | None, languages: Sequence[str]
) -> str:
    """`?lang=` when it names one of `languages`, else the best match in
    `Accept-Language` (quality values honoured; a primary subtag match:
    `fr-CA` is `fr`), else the first of `languages`."""
    if query_lang in languages:
        return str(query_lang)
    best, best_q = languages[0], 0.0
    for position, item in enumerate((accept_language or "").split(",")[:20]):
        tag, _, parameters = item.partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = _quality(parameters) - position * 1e-6  # earlier wins a tie
        if primary in languages and q > best_q:
            best, best_q = primary, q
    return best
