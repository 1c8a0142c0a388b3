"""How our status lists are named: one convention for issuer and revocation.

A list id is `<issuer slug>-<purpose>-<number>`; its URL is the status base
URL (served by the revocation service) plus the id. The issuer hands out
indexes in lists it names this way; the revocation service, knowing an
issuer's DID, can tell which lists may exist and publish them before any
credential uses them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Bitstring Status List v1.0 §6.1: at least 131,072 entries for herd privacy.
LIST_SIZE = 131_072
PURPOSES = ("revocation", "suspension")
_LIST_ID = re.compile(r"^([0-9a-f]{16})-(revocation|suspension)-(\d{1,9})$")


@dataclass(frozen=True)
class ListName:
    slug: str
    purpose: str
    number: int

    @property
    def list_id(self) -> str:
        return f"{self.slug}-{self.purpose}-{self.number}"

    def next(self) -> ListName:
        return ListName(self.slug, self.purpose, self.number + 1)


def issuer_slug(issuer_did: str) -> str:
    """A short, opaque, stable name for an issuer in list ids."""
    return hashlib.sha256(issuer_did.encode()).hexdigest()[:16]


def list_id_for(issuer_did: str, purpose: str, number: int) -> str:
    return ListName(issuer_slug(issuer_did), purpose, number).list_id


def parse_list_id(list_id: str) -> ListName | None:
    match = _LIST_ID.match(list_id)
    if match is None:
        return None
    slug, purpose, number = match.groups()
    return ListName(slug, purpose, int(number))


def list_url(status_base_url: str, list_id: str) -> str:
    return f"{status_base_url.rstrip('/')}/{list_id}"
