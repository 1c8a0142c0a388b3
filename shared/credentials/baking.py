"""Baking: carry a credential inside a PNG or SVG badge image (OB 3.0 §5.3).

PNG: one ``iTXt`` chunk, keyword ``openbadgecredential``, compression flag 0,
text = the credential JSON or the compact JWT; a PNG must not hold more than
one (baking replaces an existing one).  The reader is hand-written rather than
pypng's: it enforces our size limits, CRCs, chunk order and the
one-credential rule, and it adds no dependency.

SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the root and
an ``<openbadges:credential>`` element as its first child, with
``verify="<JWT>"`` for a JWT or the JSON in CDATA.  SVG is parsed with
defusedxml: no DTD, no entities, no external references, and no element
nested more than ``MAX_SVG_DEPTH`` deep (minidom walks its tree recursively).
Baked JSON is parsed with orjson, like every other JSON we read: it refuses
lone surrogates (RFC 8259 §8.2: not interoperable, and no UTF-8 form) and
nesting past its own depth limit.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass
from xml.dom import minidom
from xml.parsers.expat import ExpatError

import orjson
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.expatbuilder import DefusedExpatBuilderNS  # type: ignore[import-untyped]

from shared.credentials.errors import ShapeError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ITXT_KEYWORD = b"openbadgecredential"
OB2_ITXT_KEYWORD = b"openbadges"  # Open Badges 2.0 "Baking"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_PREFIX = "openbadges"
OB2_SVG_NAMESPACE = "http://openbadges.org"  # Open Badges 2.0 "Baking": <openbadges:assertion>
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_CHUNK_BYTES = 8 * 1024 * 1024
MAX_CREDENTIAL_BYTES = 1024 * 1024  # also the bound for inflating a compressed iTXt
# Elements inside one another in an SVG: real badges nest a few dozen at most;
# minidom's tree walks (getElementsByTagNameNS, unlink, toxml) take up to two
# stack frames per level, so this keeps them far from the recursion limit.
MAX_SVG_DEPTH = 100

Credential = dict[str, object] | str

_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_CHUNK_TYPE = re.compile(rb"^[A-Za-z]{4}$")


@dataclass(frozen=True)
class Chunk:
    """One PNG chunk: 4-byte type and its data (length and CRC are derived)."""

    type: bytes
    data: bytes

    def encode(self) -> bytes:
        crc = zlib.crc32(self.type + self.data) & 0xFFFFFFFF
        return struct.pack(">I", len(self.data)) + self.type + self.data + struct.pack(">I", crc)


# --- credential text ----------------------------------------------------------


def credential_text(credential: Credential) -> str:
    """The text baked into an image: compact JWT as is, JSON as ASCII JSON."""
    if isinstance(credential, str):
        if not _JWS.match(credential):
            raise ValueError("a string credential must be a compact JWT")
        return credential
    if not isinstance(credential, dict):
        raise TypeError("credential must be a dict or a compact JWT string")
    # ASCII keeps the text legal in XML and valid UTF-8 whatever the data holds.
    return json.dumps(credential, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def parse_credential_text(text: str) -> Credential:
    """JSON object → dict, compact JWT → str; anything else is refused."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise ShapeError("bad_credential", f"baked JSON does not parse: {exc}") from exc
        if not isinstance(value, dict):
            raise ShapeError("bad_credential", "baked JSON is not an object")
        return value
    if _JWS.match(stripped):
        return stripped
    raise ShapeError("bad_credential", "baked text is neither a JSON object nor a compact JWT")


# --- PNG ------------------------------------------------------------------------


def read_png_chunks(png: bytes) -> list[Chunk]:
    """Strictly split a PNG into chunks: signature, CRCs, IHDR first, IEND last."""
    _check_size(png, "bad_png")
    if not png.startswith(PNG_SIGNATURE):
        raise ShapeError("bad_png", "not a PNG (bad signature)")
    chunks: list[Chunk] = []
    offset = len(PNG_SIGNATURE)
    while offset < len(png):
        chunk, offset = _read_chunk(png, offset)
        chunks.append(chunk)
        if chunk.type == b"IEND":
            break
    if not chunks or chunks[0].type != b"IHDR" or len(chunks[0].data) != 13:
        raise ShapeError("bad_png", "the first chunk must be a 13-byte IHDR")
    if chunks[-1].type != b"IEND" or chunks[-1].data:
        raise ShapeError("bad_png", "the PNG is truncated (no IEND chunk)")
    if offset != len(png):
        raise ShapeError("bad_png", "data after the IEND chunk")
    return chunks


def _read_chunk(png: bytes, offset: int) -> tuple[Chunk, int]:
    if offset + 12 > len(png):
        raise ShapeError("bad_png", f"truncated chunk header at byte {offset}")
    (length,) = struct.unpack_from(">I", png, offset)
    ctype = png[offset + 4 : offset + 8]
    if not _CHUNK_TYPE.match(ctype):
        raise ShapeError("bad_png", f"invalid chunk type at byte {offset}")
    if length > MAX_CHUNK_BYTES:
        raise ShapeError("too_large", f"chunk {ctype.decode()} is {length} bytes")
    end = offset + 8 + length
    if end + 4 > len(png):
        raise ShapeError("bad_png", f"chunk {ctype.decode()} is truncated")
    data = png[offset + 8 : end]
    (crc,) = struct.unpack_from(">I", png, end)
    if crc != zlib.crc32(ctype + data) & 0xFFFFFFFF:
        raise ShapeError("bad_png", f"CRC mismatch in chunk {ctype.decode()}")
    return Chunk(ctype, data), end + 4


def _itxt_text(data: bytes, wanted: bytes = ITXT_KEYWORD) -> str | None:
    """The text of an iTXt chunk with keyword ``wanted`` (OB 3.0
    ``openbadgecredential``, OB 2.0 ``openbadges``), None for other keywords."""
    keyword, sep, rest = data.partition(b"\x00")
    if keyword != wanted:
        return None
    # PNG 1.2 §11.3.4.5: flag, method, language tag \0, translated keyword \0, text.
    if not sep or len(rest) < 2 or rest[0] not in (0, 1) or rest[1] != 0:
        raise ShapeError("bad_png", "malformed openbadgecredential iTXt header")
    _lang, sep_lang, rest2 = rest[2:].partition(b"\x00")
    _translated, sep_tr, text = rest2.partition(b"\x00")
    if not sep_lang or not sep_tr:
        raise ShapeError("bad_png", "malformed openbadgecredential iTXt chunk")
    if rest[0] == 1:  # bakers must not compress; readers accept it, bounded
        text = _bounded_inflate(text)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ShapeError("bad_png", "iTXt text is not UTF-8") from exc


def _bounded_inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_CREDENTIAL_BYTES)
    except zlib.error as exc:
        raise ShapeError("bad_png", "compressed iTXt text does not inflate") from exc
    if inflater.unconsumed_tail:
        raise ShapeError("too_large", "compressed credential inflates past the limit")
    if not inflater.eof:
        raise ShapeError("bad_png", "compressed iTXt text is truncated")
    return out


def _credential_chunks(chunks: list[Chunk]) -> list[str]:
    return [t for c in chunks if c.type == b"iTXt" and (t := _itxt_text(c.data)) is not None]


def unbake_ob2_png(png: bytes) -> str:
    """The OB 2.0 assertion baked into a PNG (iTXt keyword ``openbadges``: a
    JWS for a signed badge, the JSON or URL of a hosted one)."""
    texts = [
        t
        for c in read_png_chunks(png)
        if c.type == b"iTXt" and (t := _itxt_text(c.data, OB2_ITXT_KEYWORD)) is not None
    ]
    if len(texts) != 1:
        raise ShapeError("no_credential", "not exactly one openbadges iTXt chunk")
    return texts[0].strip()


def unbake_png(png: bytes) -> Credential:
    """The credential baked into a PNG (dict for JSON, str for a JWT)."""
    texts = _credential_chunks(read_png_chunks(png))
    if not texts:
        raise ShapeError("no_credential", "no openbadgecredential iTXt chunk")
    if len(texts) > 1:
        raise ShapeError("multiple_credentials", "more than one openbadgecredential chunk")
    return parse_credential_text(texts[0])


def bake_png(png: bytes, credential: Credential) -> bytes:
    """A copy of ``png`` carrying ``credential``; an existing one is replaced."""
    text = credential_text(credential).encode("utf-8")
    chunks = [
        c
        for c in read_png_chunks(png)
        if not (c.type == b"iTXt" and _itxt_text(c.data) is not None)
    ]
    itxt = Chunk(b"iTXt", ITXT_KEYWORD + b"\x00\x00\x00\x00\x00" + text)
    chunks.insert(len(chunks) - 1, itxt)  # before IEND
    baked = PNG_SIGNATURE + b"".join(c.encode() for c in chunks)
    _check_size(baked, "bad_png")
    return baked


# --- SVG ------------------------------------------------------------------------


class _DepthBoundedBuilder(DefusedExpatBuilderNS):  # type: ignore[misc]
    """defusedxml's namespace-aware DOM builder that refuses, while parsing,
    an element nested more than ``MAX_SVG_DEPTH`` deep."""

    def reset(self) -> None:
        super().reset()
        self.depth = 0

    def start_element_handler(self, name: str, attributes: list[str]) -> None:
        self.depth += 1
        if self.depth > MAX_SVG_DEPTH:
            raise ShapeError("bad_svg", f"elements are nested more than {MAX_SVG_DEPTH} deep")
        super().start_element_handler(name, attributes)

    def end_element_handler(self, name: str) -> None:
        self.depth -= 1
        super().end_element_handler(name)


def _parse_svg(svg: bytes | str) -> tuple[minidom.Document, minidom.Element]:
    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    _check_size(data, "bad_svg")
    builder = _DepthBoundedBuilder(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        doc: minidom.Document = builder.parseString(data)
    except DefusedXmlException as exc:
        raise ShapeError("bad_svg", f"forbidden XML construct: {type(exc).__name__}") from exc
    except (ExpatError, ValueError) as exc:
        raise ShapeError("bad_svg", f"SVG is not well-formed XML: {exc}") from exc
    root = doc.documentElement
    if root is None or root.localName != "svg":
        doc.unlink()
        raise ShapeError("bad_svg", "the root element is not <svg>")
    return doc, root


def _credential_elements(doc: minidom.Document) -> list[minidom.Element]:
    found: list[minidom.Element] = doc.getElementsByTagNameNS(SVG_NAMESPACE, "credential")
    return list(found)


def _element_text(element: minidom.Element) -> str:
    parts = [
        child.data
        for child in element.childNodes
        if child.nodeType in (child.TEXT_NODE, child.CDATA_SECTION_NODE)
    ]
    return "".join(parts)


def unbake_svg(svg: bytes | str) -> Credential:
    """The credential baked into an SVG (dict for JSON, str for a JWT)."""
    doc, _root = _parse_svg(svg)
    try:
        elements = _credential_elements(doc)
        if not elements:
            raise ShapeError("no_credential", "no <openbadges:credential> element")
        if len(elements) > 1:
            raise ShapeError("multiple_credentials", "more than one credential element")
        element = elements[0]
        if element.hasAttribute("verify"):
            return parse_credential_text(element.getAttribute("verify"))
        return parse_credential_text(_element_text(element))
    finally:
        doc.unlink()


def unbake_ob2_svg(svg: bytes | str) -> str:
    """The OB 2.0 assertion baked into an SVG (Open Badges 2.0 Baking: one
    ``<openbadges:assertion>`` in ``http://openbadges.org``): its JSON content
    when it has one (a hosted assertion, whose ``verify`` is its URL), else its
    ``verify`` attribute (a signed badge's JWS, or a hosted assertion's URL)."""
    doc, _root = _parse_svg(svg)
    try:
        found = list(doc.getElementsByTagNameNS(OB2_SVG_NAMESPACE, "assertion"))
        if len(found) != 1:
            raise ShapeError("no_credential", "not exactly one <openbadges:assertion> element")
        content = _element_text(found[0]).strip()
        if content.startswith("{"):
            return content
        verify = found[0].getAttribute("verify").strip()
        if not verify:
            raise ShapeError("no_credential", "<openbadges:assertion> holds no assertion")
        return verify
    finally:
        doc.unlink()


def bake_svg(svg: bytes | str, credential: Credential) -> bytes:
    """A copy of ``svg`` carrying ``credential``; an existing one is replaced."""
    text = credential_text(credential)
    doc, root = _parse_svg(svg)
    try:
        for old in _credential_elements(doc):
            parent = old.parentNode
            if parent is not None:
                parent.removeChild(old).unlink()
        prefix = SVG_PREFIX
        if root.getAttribute(f"xmlns:{prefix}") not in ("", SVG_NAMESPACE):
            prefix = f"{SVG_PREFIX}3"  # e.g. an OB 2.0 assertion already owns the prefix
        root.setAttribute(f"xmlns:{prefix}", SVG_NAMESPACE)
        element = doc.createElementNS(SVG_NAMESPACE, f"{prefix}:credential")
        if isinstance(credential, str):
            element.setAttribute("verify", text)
        else:
            # '>' only occurs inside JSON strings, so escaping it keeps ']]>' out.
            element.appendChild(doc.createCDATASection(text.replace(">", "\\u003e")))
        root.insertBefore(element, root.firstChild)
        baked: bytes = doc.toxml(encoding="utf-8")
    finally:
        doc.unlink()
    _check_size(baked, "bad_svg")
    return baked


# --- sniffing -------------------------------------------------------------------


def unbake(data: bytes) -> Credential:
    """Unbake a PNG or an SVG, told apart by their first bytes."""
    if data.startswith(PNG_SIGNATURE):
        return unbake_png(data)
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return unbake_svg(data)
    raise ShapeError("unsupported_image", "neither a PNG nor an SVG image")


def _check_size(data: bytes, code: str) -> None:
    if len(data) > MAX_IMAGE_BYTES:
        raise ShapeError("too_large", f"image is over {MAX_IMAGE_BYTES} bytes")
    if not data:
        raise ShapeError(code, "empty image")
