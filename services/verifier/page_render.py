"""Rendering the verification page's HTML: Jinja2 templates, autoescaped.

Jinja2 (Pallets) is the well-kept, widely used template engine for Python:
autoescaping on every template (no learner- or issuer-supplied string can
become markup), template inheritance for one layout, and no other dependency
than MarkupSafe.  Templates live in `templates/`, strings in `i18n/`.

Every page is sent with a strict Content-Security-Policy: only our own
stylesheet and script, images from here or `data:`, forms posting here, no
framing; nothing is loaded from another origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from services.verifier.page_i18n import LANGUAGES, Catalogue, catalogue

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept, Accept-Language",
    "Cache-Control": "no-store",
}
STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}


class PageRenderer:
    """The page templates of the verifier, ready to render."""

    def __init__(self, templates: Path | None = None) -> None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates or Path(__file__).with_name("templates")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        # Compiled once, at start: a running process keeps the templates of
        # its own code (an upgrade on disk under it is not read half-way).
        self._templates = {name: env.get_template(name) for name in env.list_templates()}
        for lang in LANGUAGES:
            catalogue(lang)

    def render(self, template: str, lang: str, **context: Any) -> str:
        """`template` in `lang`, with `t` (the catalogue) and `lang` in its context."""
        strings: Catalogue = catalogue(lang)
        return self._templates[template].render(t=strings, lang=lang, **context)

    def response(
        self,
        template: str,
        lang: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> web.Response:
        """An HTML response with the security headers and `Content-Language`."""
        body = self.render(template, lang, **context)
        all_headers = {**SECURITY_HEADERS, "Content-Language": lang, **(headers or {})}
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=all_headers
        )


def static_response(name: str) -> web.Response:
    """One of our own static files (the stylesheet, the drag-and-drop script)."""
    path = STATIC_DIR / name
    content_type = STATIC_TYPES.get(path.suffix)
    if content_type is None or path.parent != STATIC_DIR or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
