"""jsonld.py: bundled-context loader, safe mode, RDFC-1.0 canonicalisation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from shared.credentials.errors import ContextError
from shared.credentials.jsonld import (
    CONTEXTS_DIR,
    EXAMPLE_CONTEXTS,
    ContextRegistry,
    canonize,
    default_registry,
    expand,
)
from shared.credentials.jsonld_safe_mode import UndefinedTermError
from tests.unit.credentials.di_samples import VC2, badge, mutate

UNDEFINED_TERMS = "https://www.w3.org/ns/credentials/undefined-terms/v2"
ISSUER = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def _reference_nquads(doc: dict[str, Any]) -> str:
    """Plain pyld (no safe mode, no memo) over the raw bundled files."""
    manifest = json.loads((CONTEXTS_DIR / "manifest.json").read_text())
    files = {e["url"]: CONTEXTS_DIR / e["file"] for e in manifest}

    def loader(url: str, options: object = None) -> dict[str, Any]:
        document = json.loads(files[url].read_text())
        return {"contextUrl": None, "documentUrl": url, "document": document}

    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    return str(pyld_jsonld.normalize(doc, {**options, "documentLoader": loader}))


def _error(doc: dict[str, Any], **kwargs: Any) -> ContextError:
    with pytest.raises(ContextError) as info:
        canonize(doc, **kwargs)
    return info.value


# --- loader --------------------------------------------------------------------


def test_registry_serves_every_manifest_url_except_examples_by_default() -> None:
    manifest = json.loads((CONTEXTS_DIR / "manifest.json").read_text())
    urls = {entry["url"] for entry in manifest}
    assert default_registry().urls == urls - EXAMPLE_CONTEXTS
    assert default_registry(allow_examples=True).urls == urls


def test_loader_refuses_unbundled_url_without_fetching() -> None:
    with pytest.raises(ContextError) as info:
        default_registry().load_document("https://example.com/contexts/evil.jsonld")
    assert info.value.code == "context_not_bundled"
    assert info.value.detail == "context not bundled: https://example.com/contexts/evil.jsonld"


def test_loader_returns_copies_so_callers_cannot_poison_the_bundle() -> None:
    registry = ContextRegistry()
    first = registry.load_document(VC2)["document"]
    first["@context"]["VerifiableCredential"] = "urn:evil"
    assert registry.load_document(VC2)["document"]["@context"]["VerifiableCredential"] != (
        "urn:evil"
    )


def test_tampered_context_file_fails_integrity_check(tmp_path: Path) -> None:
    copy_dir = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, copy_dir)
    target = copy_dir / "credentials-v2.jsonld"
    target.write_text(target.read_text().replace("VerifiableCredential", "VerifiableCredentiaI", 1))
    with pytest.raises(ContextError) as info:
        ContextRegistry(copy_dir)
    assert info.value.code == "context_integrity"


def test_examples_contexts_need_the_flag() -> None:
    doc = badge(ISSUER)
    doc["@context"] = [VC2, "https://www.w3.org/ns/credentials/examples/v2"]
    assert _error(doc).code == "context_not_bundled"
    assert canonize(doc, allow_examples=True)  # accepted for W3C test vectors


def test_unknown_context_url_in_document() -> None:
    doc = badge(ISSUER)
    doc["@context"].append("https://example.org/my-context.json")
    error = _error(doc)
    assert (error.code, error.path) == ("context_not_bundled", "@context")
    assert "https://example.org/my-context.json" in error.detail


@pytest.mark.parametrize(
    "context",
    [
        {"@vocab": "https://example.org/vocab#"},  # a catch-all would defeat safe mode
        {"@import": "https://example.org/ctx"},
        {"extra": "not-an-iri"},
        {"extra": {"@id": "https://example.org/extra", "@context": {}}},
        {"extra": {"@id": "https://example.org/extra", "@type": "@vocab"}},
        42,
    ],
)
def test_inline_contexts_other_than_term_definitions_are_refused(context: object) -> None:
    doc = badge(ISSUER)
    doc["credentialSubject"]["@context"] = context
    error = _error(doc)
    assert (error.code, error.path) == ("inline_context", "credentialSubject.@context")


def test_inline_term_definitions_are_accepted_and_protected_terms_stay() -> None:
    """VC 2.0 §4.3: context objects; a defined term is signed like any other."""
    doc = badge(ISSUER)
    doc["@context"] = [*doc["@context"], {"extra": "https://example.org/extra"}]
    doc["credentialSubject"]["extra"] = "value"
    assert "https://example.org/extra" in canonize(doc)
    wrapped = badge(ISSUER)  # definitions wrapped in "@context" (JSON-LD 1.1 §4.1)
    wrapped["@context"] = [*wrapped["@context"], {"@context": {"extra": "https://x.example/e"}}]
    wrapped["credentialSubject"]["extra"] = "value"
    assert "https://x.example/e" in canonize(wrapped)
    for term in ("VerifiableCredential", "OpenBadgeCredential"):
        clash = badge(ISSUER)
        clash["@context"] = [*clash["@context"], {term: "https://example.org/evil"}]
        with pytest.raises(ContextError):  # JSON-LD 1.1 protected term redefinition
            canonize(clash)
    # the credential's own members are type-scoped: an inline context cannot touch them
    shadow = badge(ISSUER)
    shadow["@context"] = [*shadow["@context"], {"issuer": "https://example.org/evil"}]
    assert "https://example.org/evil" not in canonize(shadow)


# --- canonicalisation ----------------------------------------------------------


def test_canonize_matches_plain_pyld_on_a_valid_credential() -> None:
    doc = badge(ISSUER)
    expected = _reference_nquads(doc)
    assert canonize(doc) == expected
    assert canonize(doc) == expected  # second run goes through the context memo
    assert "_:c14n0" in expected and "<https://schema.org/name>" in expected


def test_memo_does_not_mix_documents() -> None:
    registry = ContextRegistry()
    a = badge(ISSUER, subject_name="Alice")
    b = badge(ISSUER, subject_name="Bob")
    assert registry.canonize(a) != registry.canonize(b)
    assert registry.canonize(a) == _reference_nquads(a)
    assert registry.canonize(b) == _reference_nquads(b)


def test_vc_1_1_document_canonicalises() -> None:
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1"},
    }
    assert canonize(doc) == _reference_nquads(doc)


def test_expand_returns_expanded_form() -> None:
    expanded = expand(badge(ISSUER))
    assert expanded[0]["@id"] == "urn:uuid:0b0c6f1e-4a59-4b8e-9d38-2d3f6a1c7e42"
    assert "https://www.w3.org/2018/credentials#VerifiableCredential" in expanded[0]["@type"]


def test_poison_graph_is_refused_within_budget() -> None:
    # Nine indistinguishable blank nodes that all reference each other (``sub``
    # is an IRI-valued term of the VC 2.0 context): RDFC-1.0 would try 9!
    # orderings for each of them, recursively.
    ids = [f"_:n{i}" for i in range(9)]
    nodes = [
        {"id": node, "type": ["Evidence"], "sub": [o for o in ids if o != node]} for node in ids
    ]
    doc = badge(ISSUER)
    doc["evidence"] = nodes
    error = _error(doc)
    assert error.code == "canonicalization_too_complex"


# --- safe mode -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "code", "where"),
    [
        ("credentialSubject.extraField", "x", "undefined_term", "credentialSubject.extraField"),
        ("extraTop", 1, "undefined_term", "extraTop"),
        (
            "credentialSubject.achievement.alignment.0.secret",
            "x",
            "undefined_term",
            "credentialSubject.achievement.alignment[0].secret",
        ),
        ("credentialSubject.result.0.type", ["Result", "Bogus"], "undefined_term",
         "credentialSubject.result[0].type"),
        ("type", ["VerifiableCredential", "foo:Bar"], "undefined_term", "type"),
        ("foo:bar", "x", "undefined_term", "foo:bar"),
        ("@foo", "x", "undefined_term", "@foo"),
        ("id", "relative/id", "relative_iri", "id"),
        ("credentialSubject.achievement.image", {"id": "badge.png", "type": "Image"},
         "relative_iri", "credentialSubject.achievement.image.id"),
        (("https://schema.org/name",), "Renamed", "iri_key_for_defined_term",
         "https://schema.org/name"),
    ],
)  # fmt: skip
def test_safe_mode_rejects(path: str | tuple[str, ...], value: Any, code: str, where: str) -> None:
    error = _error(mutate(badge(ISSUER), path, value))
    assert (error.code, error.path) == (code, where)
    if code == "undefined_term":
        assert isinstance(error, UndefinedTermError)


def test_plain_pyld_silently_drops_what_safe_mode_rejects() -> None:
    # Why safe mode exists: the canonical form does not change.
    doc = badge(ISSUER)
    tampered = mutate(doc, "credentialSubject.extraField", "added after signing")
    assert _reference_nquads(tampered) == _reference_nquads(doc)


def test_absolute_iri_key_without_a_term_is_accepted() -> None:
    doc = mutate(badge(ISSUER), ("https://example.org/vocab#note",), "kept")
    assert '<https://example.org/vocab#note> "kept"' in canonize(doc)


def test_undefined_terms_context_defines_terms_only_when_listed() -> None:
    doc = mutate(badge(ISSUER), "credentialSubject.extraField", "x")
    assert _error(doc).code == "undefined_term"
    doc["@context"].append(UNDEFINED_TERMS)
    nquads = canonize(doc)
    assert '<https://www.w3.org/ns/credentials/undefined-term#extraField> "x"' in nquads


def test_error_path_carries_the_caller_prefix() -> None:
    config = {"@context": [VC2], "type": "DataIntegrityProof", "sneaky": 1}
    with pytest.raises(UndefinedTermError) as info:
        default_registry().canonize(config, path="proof")
    assert info.value.path == "proof.sneaky"


def test_missing_context_is_an_error() -> None:
    doc = badge(ISSUER)
    del doc["@context"]
    assert _error(doc).code == "missing_context"


def test_protected_term_redefinition_is_a_jsonld_error() -> None:
    doc = badge(ISSUER)
    # The unversioned OB context redefines terms that VC 2.0 protects.
    doc["@context"] = [VC2, "https://purl.imsglobal.org/spec/ob/v3p0/context.json"]
    assert _error(doc).code == "jsonld_error"


def test_identical_sibling_blank_nodes_stay_within_budget() -> None:
    doc = badge(ISSUER)
    doc["credentialSubject"]["result"] = [{"type": ["Result"], "value": "84"}] * 4
    assert canonize(doc) == _reference_nquads(doc)


def test_memo_is_transparent_across_document_shapes() -> None:
    # A presentation nests credentials with their own @context (a @graph
    # container): interleave it with plain credentials on one registry.
    registry = ContextRegistry()
    credential = badge(ISSUER)
    presentation = {
        "@context": [VC2],
        "type": ["VerifiablePresentation"],
        "holder": "did:example:holder",
        "verifiableCredential": [credential],
    }
    for _ in range(2):
        for doc in (presentation, credential, presentation):
            assert registry.canonize(doc) == _reference_nquads(doc)


def test_absurdly_deep_documents_fail_cleanly() -> None:
    doc = badge(ISSUER)
    node: dict[str, Any] = doc["credentialSubject"]
    for _ in range(5000):
        node["achievement"] = {}
        node = node["achievement"]
    assert _error(doc).code == "too_deep"
