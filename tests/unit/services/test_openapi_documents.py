"""Every service publishes a valid OpenAPI 3.1 document covering all its routes."""

from __future__ import annotations

import importlib

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from shared.web.openapi import merge_openapi

SERVICES = ["catalog", "issuer", "revocation", "verifier"]


# Route tables kept in modules of their own (module, attribute).
MORE_ROUTES = {
    "issuer": [("services.issuer.learner_routes", "learner_routes")],
    "verifier": [
        ("services.verifier.shares", "share_routes"),
        ("services.verifier.pages", "page_routes"),
    ],
}


def routes_of(service: str) -> set[tuple[str, str]]:
    tables: list[web.RouteTableDef] = [importlib.import_module(f"services.{service}.routes").routes]
    for module, name in MORE_ROUTES.get(service, []):
        tables.append(getattr(importlib.import_module(module), name))
    return {
        (route.path, route.method.lower())
        for table in tables
        for route in table
        if isinstance(route, web.RouteDef)
    }


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_is_valid_openapi_31(service: str) -> None:
    document = merge_openapi(importlib.import_module(f"services.{service}.openapi").OPENAPI)
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_is_documented(service: str) -> None:
    document = importlib.import_module(f"services.{service}.openapi").OPENAPI
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes_of(service) <= documented


@pytest.mark.parametrize("service", SERVICES)
def test_request_bodies_have_schemas(service: str) -> None:
    document = importlib.import_module(f"services.{service}.openapi").OPENAPI
    schemas = document["components"]["schemas"]
    for item in document["paths"].values():
        for op in item.values():
            body = op.get("requestBody")
            json_body = (body or {}).get("content", {}).get("application/json")
            if json_body:
                schema = json_body["schema"]
                refs = [s["$ref"] for s in schema.get("oneOf", [schema]) if "$ref" in s]
                assert refs, schema
                assert all(ref.rsplit("/", 1)[1] in schemas for ref in refs)
