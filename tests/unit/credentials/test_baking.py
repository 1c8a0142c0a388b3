"""Baking credentials into PNG and SVG badge images (OB 3.0 §5.3)."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable

import png as pypng
import pytest
from defusedxml.minidom import parseString
from hypothesis import given, settings
from hypothesis import strategies as st
from openbadgeslib import baking as obl

from shared.credentials import baking
from shared.credentials.baking import (
    ITXT_KEYWORD,
    MAX_IMAGE_BYTES,
    PNG_SIGNATURE,
    SVG_NAMESPACE,
    Chunk,
    bake_png,
    bake_svg,
    read_png_chunks,
    unbake,
    unbake_ob2_svg,
    unbake_png,
    unbake_svg,
)
from shared.credentials.errors import ShapeError

JWT = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZSJ9.c2lnbmF0dXJl"
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:0b7f5d7e-1f0a-4c53-9d4e-3c2f7a6e1a01",
    "name": 'Données <b>]]> & "quoted" — ünïcödé 🎓',
    "credentialSubject": {"achievement": {"name": "x"}},
}
SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    '<circle cx="5" cy="5" r="4"/></svg>'
)


def make_png(width: int = 2, height: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(width) for _ in range(height))
    chunks = [Chunk(b"IHDR", ihdr), Chunk(b"IDAT", zlib.compress(raw)), Chunk(b"IEND", b"")]
    return PNG_SIGNATURE + b"".join(c.encode() for c in chunks)


def itxt(text: bytes, *, flag: int = 0, keyword: bytes = ITXT_KEYWORD) -> Chunk:
    return Chunk(b"iTXt", keyword + b"\x00" + bytes([flag, 0]) + b"\x00\x00" + text)


def with_chunks(extra: list[Chunk]) -> bytes:
    chunks = read_png_chunks(make_png())
    return PNG_SIGNATURE + b"".join(c.encode() for c in chunks[:-1] + extra + chunks[-1:])


# --- PNG -----------------------------------------------------------------------


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT])
def test_png_round_trip(credential: dict[str, object] | str) -> None:
    baked = bake_png(make_png(), credential)
    assert unbake_png(baked) == credential
    assert unbake(baked) == credential
    # still a decodable image, with the same pixels
    width, height, rows, _ = pypng.Reader(bytes=baked).read()
    assert (width, height) == (2, 2) and len(list(rows)) == 2


def test_png_chunk_layout() -> None:
    chunks = read_png_chunks(bake_png(make_png(), JWT))
    types = [c.type for c in chunks]
    assert types == [b"IHDR", b"IDAT", b"iTXt", b"IEND"]
    # keyword, NUL, compression flag 0, method 0, empty language and translation
    assert chunks[2].data == ITXT_KEYWORD + b"\x00\x00\x00\x00\x00" + JWT.encode()


def test_png_rebake_replaces_the_credential() -> None:
    baked = bake_png(bake_png(make_png(), CREDENTIAL), JWT)
    chunks = read_png_chunks(baked)
    assert sum(c.type == b"iTXt" for c in chunks) == 1
    assert unbake_png(baked) == JWT


def test_png_other_itxt_chunks_are_kept() -> None:
    other = itxt(b"hello", keyword=b"Comment")
    baked = bake_png(with_chunks([other]), JWT)
    assert other in read_png_chunks(baked)
    assert unbake_png(baked) == JWT


def test_png_compressed_itxt_is_read() -> None:
    image = with_chunks([itxt(zlib.compress(JWT.encode()), flag=1)])
    assert unbake_png(image) == JWT


def test_png_zip_bomb_refused() -> None:
    bomb = zlib.compress(b"{" + b" " * (baking.MAX_CREDENTIAL_BYTES + 10) + b"}")
    with pytest.raises(ShapeError) as err:
        unbake_png(with_chunks([itxt(bomb, flag=1)]))
    assert err.value.code == "too_large"


@pytest.mark.parametrize(
    ("image", "code"),
    [
        (make_png(), "no_credential"),
        (with_chunks([itxt(JWT.encode()), itxt(JWT.encode())]), "multiple_credentials"),
        (make_png()[:-5], "bad_png"),  # truncated inside IEND
        (make_png()[:40], "bad_png"),  # truncated inside IDAT
        (make_png() + b"trailing", "bad_png"),
        (b"GIF89a" + make_png()[6:], "bad_png"),
        (PNG_SIGNATURE + Chunk(b"IDAT", b"").encode() + Chunk(b"IEND", b"").encode(), "bad_png"),
        (with_chunks([itxt(b"\xff\xfe not utf-8")]), "bad_png"),
        (with_chunks([itxt(b"not a credential")]), "bad_credential"),
        (with_chunks([itxt(b"[1, 2]")]), "bad_credential"),
        (with_chunks([Chunk(b"iTXt", ITXT_KEYWORD + b"\x00\x00")]), "bad_png"),
        (with_chunks([itxt(b"x", flag=1)]), "bad_png"),  # flag 1 but not zlib data
    ],
)
def test_png_malformed_refused(image: bytes, code: str) -> None:
    with pytest.raises(ShapeError) as err:
        unbake_png(image)
    assert err.value.code == code


# Baked JSON is read with orjson, as every JSON the verifier reads: nesting past
# its depth limit (stdlib json overflowed the stack) and a lone surrogate (RFC
# 8259 §8.2; stdlib json let it through to fail later) are refused up front.
DEEP_JSON = '{"a":' * 5000
LONE_SURROGATE = '{"name":"\\ud800"}'


@pytest.mark.parametrize("text", [DEEP_JSON, LONE_SURROGATE])
def test_baked_json_refused_by_the_parser(text: str) -> None:
    with pytest.raises(ShapeError) as err:
        unbake_png(with_chunks([itxt(text.encode())]))
    assert err.value.code == "bad_credential"
    svg = f'<svg xmlns:ob="{SVG_NAMESPACE}"><ob:credential><![CDATA[{text}]]></ob:credential></svg>'
    with pytest.raises(ShapeError) as err:
        unbake_svg(svg)
    assert err.value.code == "bad_credential"


def test_png_bad_crc_refused() -> None:
    baked = bytearray(bake_png(make_png(), JWT))
    baked[-20] ^= 0x01  # inside the iTXt text
    with pytest.raises(ShapeError) as err:
        unbake_png(bytes(baked))
    assert err.value.code == "bad_png"
    assert "CRC" in err.value.detail


def test_png_oversize_refused() -> None:
    with pytest.raises(ShapeError) as err:
        unbake_png(make_png() + b"\x00" * MAX_IMAGE_BYTES)
    assert err.value.code == "too_large"


def test_png_huge_declared_chunk_refused() -> None:
    header = struct.pack(">I", 0x7FFFFFFF) + b"IDAT"
    image = make_png()[:33] + header + b"\x00" * 16
    with pytest.raises(ShapeError) as err:
        unbake_png(image)
    assert err.value.code == "too_large"


def test_bake_refuses_malformed_input() -> None:
    with pytest.raises(ShapeError):
        bake_png(b"not a png", JWT)
    with pytest.raises(ValueError):
        bake_png(make_png(), "not-a-jwt")


# --- SVG -----------------------------------------------------------------------


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT])
def test_svg_round_trip(credential: dict[str, object] | str) -> None:
    baked = bake_svg(SVG, credential)
    assert unbake_svg(baked) == credential
    assert unbake(baked) == credential


def test_svg_layout() -> None:
    doc = parseString(bake_svg(SVG.encode(), JWT))
    root = doc.documentElement
    assert root.getAttribute("xmlns:openbadges") == SVG_NAMESPACE
    first = root.firstChild
    assert first.tagName == "openbadges:credential"
    assert first.namespaceURI == SVG_NAMESPACE
    assert first.getAttribute("verify") == JWT
    json_doc = parseString(bake_svg(SVG, CREDENTIAL))
    element = json_doc.documentElement.firstChild
    assert not element.hasAttribute("verify")
    assert element.firstChild.nodeType == element.CDATA_SECTION_NODE
    assert json.loads(element.firstChild.data) == CREDENTIAL


def test_svg_rebake_replaces_the_credential() -> None:
    baked = bake_svg(bake_svg(SVG, CREDENTIAL), JWT)
    doc = parseString(baked)
    assert len(doc.getElementsByTagNameNS(SVG_NAMESPACE, "credential")) == 1
    assert unbake_svg(baked) == JWT


def test_svg_keeps_the_drawing() -> None:
    doc = parseString(bake_svg(SVG, JWT))
    assert len(doc.getElementsByTagName("circle")) == 1


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    '<svg xmlns="http://www.w3.org/2000/svg">&lol2;</svg>'
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<svg xmlns="http://www.w3.org/2000/svg">&xxe;</svg>'
)
DOCTYPE_ONLY = (
    '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>'
)
TWO = (
    f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{SVG_NAMESPACE}">'
    f'<openbadges:credential verify="{JWT}"/><openbadges:credential verify="{JWT}"/></svg>'
)


@pytest.mark.parametrize(
    ("svg", "code"),
    [
        (SVG, "no_credential"),
        (BOMB, "bad_svg"),
        (EXTERNAL, "bad_svg"),
        (DOCTYPE_ONLY, "bad_svg"),
        (TWO, "multiple_credentials"),
        ("<svg", "bad_svg"),
        ('<html xmlns="http://www.w3.org/1999/xhtml"/>', "bad_svg"),
        (
            f'<svg xmlns:ob="{SVG_NAMESPACE}"><ob:credential>[]</ob:credential></svg>',
            "bad_credential",
        ),
        (f'<svg xmlns:ob="{SVG_NAMESPACE}"><ob:credential verify="a b"/></svg>', "bad_credential"),
    ],
)
def test_svg_malformed_refused(svg: str, code: str) -> None:
    with pytest.raises(ShapeError) as err:
        unbake_svg(svg)
    assert err.value.code == code


def nested_svg(depth: int) -> str:
    """An <svg> holding `depth` - 1 <g> elements, each inside the last."""
    inner = depth - 1
    return '<svg xmlns="http://www.w3.org/2000/svg">' + "<g>" * inner + "</g>" * inner + "</svg>"


@pytest.mark.parametrize("unbake_image", [unbake_svg, unbake_ob2_svg])
def test_svg_nested_too_deep_refused(unbake_image: Callable[[str], object]) -> None:
    # minidom walks its tree recursively: refused while parsing, no RecursionError
    for depth in (baking.MAX_SVG_DEPTH + 1, 500, 5000):
        with pytest.raises(ShapeError) as err:
            unbake_image(nested_svg(depth))
        assert err.value.code == "bad_svg"
    with pytest.raises(ShapeError) as err:
        bake_svg(nested_svg(500), JWT)
    assert err.value.code == "bad_svg"


def test_svg_nested_to_the_limit_is_read() -> None:
    baked = bake_svg(nested_svg(baking.MAX_SVG_DEPTH), JWT)
    assert unbake_svg(baked) == JWT


def test_svg_other_prefix_same_namespace_is_read() -> None:
    svg = f'<svg xmlns:x="{SVG_NAMESPACE}"><x:credential verify="{JWT}"/></svg>'
    assert unbake_svg(svg) == JWT


def test_svg_oversize_refused() -> None:
    big = SVG.replace("</svg>", "<!--" + "x" * MAX_IMAGE_BYTES + "--></svg>")
    with pytest.raises(ShapeError) as err:
        unbake_svg(big)
    assert err.value.code == "too_large"


def test_unbake_unknown_format() -> None:
    with pytest.raises(ShapeError) as err:
        unbake(b"GIF89a....")
    assert err.value.code == "unsupported_image"


# --- cross-check with openbadgeslib (an independent implementation) -------------


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT])
def test_openbadgeslib_reads_our_png(credential: dict[str, object] | str) -> None:
    baked = bake_png(make_png(), credential)
    text = obl.extract_png(baked, keyword=obl.ITXT_KEYWORD_OB3)
    assert text is not None
    assert (json.loads(text) if isinstance(credential, dict) else text) == credential


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT])
def test_we_read_openbadgeslib_png(credential: dict[str, object] | str) -> None:
    token = credential if isinstance(credential, str) else json.dumps(credential)
    baked = obl.bake_png(make_png(), token, keyword=obl.ITXT_KEYWORD_OB3)
    assert unbake_png(baked) == credential


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT])
def test_openbadgeslib_reads_our_svg(credential: dict[str, object] | str) -> None:
    baked = bake_svg(SVG, credential)
    text = obl.extract_svg(baked, element=obl.SVG_ELEMENT_OB3, text_fallback=True)
    assert text is not None
    assert (json.loads(text) if isinstance(credential, dict) else text) == credential


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT])
def test_we_read_openbadgeslib_svg(credential: dict[str, object] | str) -> None:
    is_json = isinstance(credential, dict)
    token = json.dumps(credential) if is_json else credential
    baked = obl.bake_svg(
        SVG.encode(), token, element=obl.SVG_ELEMENT_OB3, namespace=obl.SVG_NS_OB3, as_text=is_json
    )
    assert unbake_svg(baked) == credential


# --- property: any JSON-able credential survives a bake/unbake round trip -------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # orjson's integers
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
CREDENTIALS = st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6)


@settings(max_examples=60, deadline=None)
@given(credential=CREDENTIALS)
def test_round_trip_property(credential: dict[str, object]) -> None:
    assert unbake(bake_png(make_png(), credential)) == credential
    assert unbake(bake_svg(SVG, credential)) == credential


def test_svg_with_an_ob2_assertion_keeps_its_prefix() -> None:
    ob2 = obl.bake_svg(
        SVG.encode(), JWT
    )  # OB 2.0 carrier: xmlns:openbadges="http://openbadges.org"
    baked = bake_svg(ob2, CREDENTIAL)
    assert unbake_svg(baked) == CREDENTIAL
    doc = parseString(baked)
    assert len(doc.getElementsByTagNameNS("http://openbadges.org", "assertion")) == 1
