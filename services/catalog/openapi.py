"""The catalog's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

from services.catalog.domain import AchievementIn
from shared.web.openapi import document, operation

OPENAPI = document(
    "microcred catalog",
    {
        "/achievements": {
            "post": operation(
                "Define a micro-credential (an OB 3.0 Achievement)",
                {
                    "201": "Created: {id, revision, achievement}",
                    "401": "No or unknown bearer token",
                    "404": "No such issuer for this tenant",
                    "422": "Invalid definition",
                },
                body=AchievementIn,
                secured=True,
            )
        },
        "/achievements/{key}": {
            "get": operation(
                "The public OB 3.0 Achievement",
                {"200": "The achievement (application/ld+json)", "404": "No such achievement"},
            )
        },
    },
    bodies=(AchievementIn,),
)
