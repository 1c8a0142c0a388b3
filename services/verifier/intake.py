"""What people and job boards send to be verified, turned into a credential.

One place reads every input form (docs/api.md, "What you can send"):
the VC-API wrapper `{"verifiableCredential", "options"}`, the credential
itself as JSON, a compact JWT (`application/vc+jwt`, `application/jwt`,
`text/plain`), a URL (text, or `{"url": ...}`) fetched behind the SSRF guard,
and a baked badge image (`image/png`, `image/svg+xml`; OB 3.0 §5.3), or an
HTML form's `file`, `credential` or `url` field (multipart or urlencoded).
The result is an `Item` (a credential object or a JWT string) that
`Verifier.verify` takes.

Bad input is a domain error: 415 for a media type we do not read, 422 for
content we cannot read (saying why), 422 for a URL the guard refuses or that
does not answer usefully. A fetched body is read like a sent one (JSON, JWT
or image), but a URL found there is not followed.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

import orjson
from aiohttp import web

from services.verifier.budget import PARSED_BODY
from services.verifier.trust import TrustPolicy
from shared.credentials.baking import (
    PNG_SIGNATURE,
    unbake_ob2_png,
    unbake_ob2_svg,
    unbake_png,
    unbake_svg,
)
from shared.credentials.errors import CredentialError
from shared.credentials.verify import requested_checks
from shared.errors import DomainError, InvalidField
from shared.web.body import is_json_content_type, read_body
from shared.web.problems import UNREADABLE_BODY_ERRORS
from shared.web.safe_fetch import FetchError, SafeFetcher

Item = dict[str, Any] | str  # a credential (JSON object) or a compact JWT

JWT_MEDIA_TYPES = frozenset({"application/vc+jwt", "application/jwt", "text/plain"})
FORM_MEDIA_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
IMAGE_MEDIA_TYPES = frozenset({"image/png", "image/svg+xml"})
# JSON credentials also come as VC 2.0's `application/vc` (VC DM 2.0 §6.3).
JSON_MEDIA_TYPES = frozenset({"application/vc"})
ACCEPTED = (
    "application/json, application/vc, application/vc+jwt, application/jwt, text/plain, "
    "image/png, image/svg+xml, multipart/form-data, application/x-www-form-urlencoded"
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_ENTRY_KEYS = frozenset({"credential", "verifiableCredential", "jwt", "url", "image"})
_FETCH_ACCEPT = (
    "application/vc+jwt, application/vc, application/json, application/jwt, "
    "image/png, image/svg+xml, text/plain;q=0.5"
)


class UnsupportedSubmission(DomainError):
    """A body in a media type we do not read (RFC 9110 §15.5.16)."""

    status = 415
    title = "Unsupported Media Type"
    problem = "unsupported-media-type"


class UnreadableSubmission(DomainError):
    """A body (or a fetched document, or a batch line) that holds no credential we can read."""

    title = "Unreadable credential"
    problem = "unreadable-credential"


class NothingSent(UnreadableSubmission):
    """A form with none of its fields filled in."""


class UrlNotFetched(DomainError):
    """A credential URL the SSRF guard refuses (not https, a non-public
    address, a redirect) or that did not answer with a document."""

    title = "Credential URL not fetched"
    problem = "url-not-fetched"


@dataclass(frozen=True)
class Submission:
    """One credential to verify, with the caller's `options` (VC-API) and
    how it came (`vc-api`, `json`, `jwt`, `url`, `png`, `svg`)."""

    item: Item
    source: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def recipient(self) -> str | None:
        """`options.recipient`: an e-mail address or identifier to compare."""
        value = self.options.get("recipient")
        return value.strip() if isinstance(value, str) and value.strip() else None

    @property
    def checks(self) -> frozenset[str] | None:
        """`options.checks`: the checks asked for (None: all; checked by `_options`)."""
        return requested_checks(self.options.get("checks"))

    @property
    def trust(self) -> TrustPolicy | None:
        """`options.trust`: the trust policy asked for (checked by `_options`)."""
        value = self.options.get("trust")
        return "registered" if value == "registered" else "accredited" if value else None


@dataclass(frozen=True)
class Entry(Submission):
    """One batch line: a submission with its correlation `id`."""

    id: object = None


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _parse_json(text: str | bytes, what: str) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise UnreadableSubmission(f"{what} is not valid JSON: {error}") from None


def _options(value: object) -> Mapping[str, Any]:
    """The caller's `options`; `trust`, when given, must name a policy, and
    `checks` name checks we make (`requested_checks`)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnreadableSubmission("`options` must be a JSON object")
    if "trust" in value and value["trust"] not in get_args(TrustPolicy):
        raise InvalidField("$.options.trust", "must be 'accredited' or 'registered'")
    if value.get("recipient") is not None and not isinstance(value["recipient"], str):
        raise InvalidField("$.options.recipient", "must be an e-mail address or identifier")
    try:
        requested_checks(value.get("checks"))
    except CredentialError as exc:
        raise InvalidField("$.options.checks", exc.detail) from None
    return value


def _not_json_text(text: str, what: str) -> None:
    """VC Data Integrity §4.4: a secured document that is not a map is
    refused, and so is one sent as JSON text inside a JSON string."""
    if text.lstrip().startswith(("{", "[")):
        raise UnreadableSubmission(f"{what} is a JSON object or a compact JWT, not JSON text")


def _credential_object(value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON object that is a credential: it has `@context` (VC DM 2.0 §4.3;
    an `EnvelopedVerifiableCredential` has one too)."""
    if "@context" not in value:
        raise UnreadableSubmission(
            "a JSON object without `@context` is not a credential (send the credential "
            "itself, or `{verifiableCredential}`, or `{url}`)"
        )
    return dict(value)


def _image(data: bytes, media_type: str) -> tuple[Item, str]:
    """The credential baked into a PNG or SVG badge (OB 3.0 §5.3), else the
    OB 2.0 assertion baked into it (OB 2.0 Baking: `openbadges` iTXt,
    `<openbadges:assertion>`): a JWS, the assertion's JSON, or its URL."""
    png = data.startswith(PNG_SIGNATURE) or media_type == "image/png"
    kind = "PNG" if png else "SVG"
    try:
        found = unbake_png(data) if png else unbake_svg(data)
    except CredentialError as error:
        if error.code != "no_credential":
            raise UnreadableSubmission(
                f"the {kind} image holds no credential: {error.detail}"
            ) from None
        try:
            found = _ob2_assertion(unbake_ob2_png(data) if png else unbake_ob2_svg(data))
        except CredentialError as ob2_error:
            raise UnreadableSubmission(
                f"the {kind} image holds no credential: {error.detail}; nor an Open Badges "
                f"2.0 assertion: {ob2_error.detail}"
            ) from None
    return (found if isinstance(found, str) else dict(found)), "png" if png else "svg"


def _ob2_assertion(text: str) -> Item:
    """A baked OB 2.0 assertion: its JSON as an object; a JWS or URL as text."""
    if not text.startswith("{"):
        return text
    parsed = _parse_json(text, "the baked assertion")
    if not isinstance(parsed, dict):
        raise UnreadableSubmission("the baked assertion must be a JSON object")
    return parsed


def _looks_like_svg(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg")


class Intake:
    """Reads submissions; fetches credential URLs with its own SSRF-guarded
    fetcher (no trusted origins: a caller's URL never reaches our services)."""

    def __init__(self, fetcher: SafeFetcher) -> None:
        self._fetcher = fetcher

    async def read_submission(self, request: web.Request) -> Submission:
        """The credential a `POST /credentials/verify` request carries."""
        media_type = _mime(request.headers.get("Content-Type"))
        if media_type in FORM_MEDIA_TYPES:
            return await self._form(request)
        if is_json_content_type(media_type) or media_type in JSON_MEDIA_TYPES:
            body = await read_body(request)
            parsed = request.get(PARSED_BODY)  # the budget middleware's parse
            if parsed is None:
                return await self._json_body(_parse_json(body, "the request body"))
            return await self._json_body(parsed)
        if media_type in JWT_MEDIA_TYPES or media_type in IMAGE_MEDIA_TYPES:
            item, source = await self.decode_item(await read_body(request), media_type)
            return Submission(item, source)
        raise UnsupportedSubmission(
            f"a body of type {media_type or 'none'!r} is not read here; send one of {ACCEPTED}"
        )

    async def decode_item(
        self, data: str | bytes, media_type: str | None = None, *, follow_urls: bool = True
    ) -> tuple[Item, str]:
        """(item, source) from text or bytes: a baked image, JSON, a URL (fetched
        when `follow_urls`), an enveloped `data:` URL, or a compact JWT."""
        mime = _mime(media_type)
        if isinstance(data, bytes):
            if (
                data.startswith(PNG_SIGNATURE)
                or mime == "image/png"
                or (mime == "image/svg+xml" or _looks_like_svg(data))
            ):
                item, source = _image(data, mime)
                if isinstance(item, str) and _URL.match(item):  # a hosted OB 2.0 assertion
                    if not follow_urls:
                        raise UnreadableSubmission(
                            "a fetched image names another URL: not followed"
                        )
                    return await self.fetch(item), source
                return item, source
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise UnreadableSubmission("not UTF-8 text, nor a PNG or SVG badge image") from None
        text = data.strip().lstrip("\ufeff")
        if not text:
            raise UnreadableSubmission("the credential is empty")
        if text.startswith("{"):
            parsed = _parse_json(text, "the credential")
            if not isinstance(parsed, dict):
                raise UnreadableSubmission("the credential must be a JSON object")
            return _credential_object(parsed), "json"
        if text.startswith('"'):
            parsed = _parse_json(text, "the credential")
            if isinstance(parsed, str):
                return await self.decode_item(parsed, follow_urls=follow_urls)
        if _URL.match(text):  # the guard refuses all but https
            if not follow_urls:
                raise UnreadableSubmission("a fetched document is another URL: not followed")
            return await self.fetch(text), "url"
        if text.startswith("data:"):
            envelope = {"type": "EnvelopedVerifiableCredential", "id": text}
            return {"@context": ["https://www.w3.org/ns/credentials/v2"], **envelope}, "jwt"
        if _COMPACT_JWS.fullmatch(text):
            return text, "jwt"
        raise UnreadableSubmission(
            "not a credential: expected JSON with @context, a compact JWT, an https URL "
            "or a baked PNG/SVG image"
        )

    async def fetch(self, url: str) -> Item:
        """The credential at `url` (JSON, JWT or baked image), through the guard."""
        try:
            body, content_type = await self._fetcher.fetch(url.strip(), accept=_FETCH_ACCEPT)
        except FetchError as error:
            raise UrlNotFetched(f"{url.strip()} was not fetched: {error}") from None
        except (ValueError, UnicodeError, OSError):  # not a URL one can even resolve
            raise UrlNotFetched(f"{url.strip()!r} is not a URL that can be fetched") from None
        return (await self.decode_item(body, content_type, follow_urls=False))[0]

    async def decode_entry(self, value: object) -> Entry:
        """One batch line, parsed: a credential object, a JWT or URL string,
        or `{"id"?, "options"?, one of credential|verifiableCredential|jwt|url|image}`
        (`image`: base64 of a PNG or SVG, or a `data:` URL)."""
        if isinstance(value, str):
            item, source = await self.decode_item(value)
            return Entry(item, source)
        if not isinstance(value, dict):
            raise UnreadableSubmission("a line must be a JSON object or a string")
        if "@context" in value:
            return Entry(dict(value), "json")
        keys = _ENTRY_KEYS & value.keys()
        if len(keys) != 1:
            raise UnreadableSubmission(
                "a line object is a credential (with @context) or has exactly one of "
                "credential, verifiableCredential, jwt, url, image"
            )
        (key,) = keys
        options = _options(value.get("options"))
        content = value[key]
        if key == "image":
            item, source = await self.decode_item(_base64(content), None)
        elif isinstance(content, dict):
            item, source = _credential_object(content), "json"
        elif isinstance(content, str):
            item, source = await self.decode_item(content)
        else:
            raise UnreadableSubmission(f"`{key}` must be a JSON object or a string")
        return Entry(item, source, options, value.get("id"))

    async def _json_body(self, parsed: object) -> Submission:
        if isinstance(parsed, str):
            _not_json_text(parsed, "the body")
            item, source = await self.decode_item(parsed)
            return Submission(item, source)
        if not isinstance(parsed, dict):
            raise UnreadableSubmission("the body must be a JSON object or a JSON string")
        options = _options(parsed.get("options"))
        if "verifiableCredential" in parsed:
            item = parsed["verifiableCredential"]
            if not isinstance(item, dict | str):
                raise UnreadableSubmission(
                    "`verifiableCredential` must be a JSON object or a string"
                )
            if isinstance(item, str):
                _not_json_text(item, "`verifiableCredential`")
            return Submission(item, "vc-api", options)
        if "url" in parsed and "@context" not in parsed:
            url = parsed["url"]
            if not isinstance(url, str):
                raise UnreadableSubmission("`url` must be a string")
            return Submission(await self.fetch(url), "url", options)
        return Submission(_credential_object(parsed), "json")

    async def _form(self, request: web.Request) -> Submission:
        """An HTML form (multipart or urlencoded): `file` (a badge image, a
        JSON or JWT file), `credential` (text) or `url` (the verification
        page's link field), and optionally `recipient`.
        aiohttp's `post()` caps the whole form at `client_max_size` (413)."""
        try:
            form = await request.post()
        except (ValueError, LookupError, *UNREADABLE_BODY_ERRORS):  # cut short, bad
            # boundary, bytes or part headers, unknown charset, broken Content-Encoding
            raise UnreadableSubmission("the form cannot be read") from None
        options: dict[str, Any] = {}
        recipient = form.get("recipient")
        if isinstance(recipient, str) and recipient.strip():
            options["recipient"] = recipient
        for name in ("file", "credential", "url"):
            value = form.get(name)
            if isinstance(value, web.FileField):
                data = value.file.read()
                if data.strip():
                    item, source = await self.decode_item(data, value.content_type)
                    return Submission(item, source, options)
            elif isinstance(value, str) and value.strip():
                item, source = await self.decode_item(value)
                return Submission(item, source, options)
        raise NothingSent("the form has no `file`, `credential` or `url` field filled in")


def _base64(value: object) -> bytes:
    """An image sent in a batch line: base64 (standard or URL-safe) or a data: URL."""
    if not isinstance(value, str):
        raise UnreadableSubmission("`image` must be a base64 string")
    text = value.strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    text = "".join(text.split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=False)
    except (binascii.Error, ValueError):
        raise UnreadableSubmission("`image` is not valid base64") from None
