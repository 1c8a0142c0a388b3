"""Errors raised by the credential core.

Every error carries a machine-readable ``code`` (stable, snake_case), a
human-readable ``detail`` and, where it applies, a JSON-pointer-like ``path``
to the offending member of the document.
"""

from __future__ import annotations


class CredentialError(Exception):
    """Base class: something about a credential, key or proof is wrong."""

    def __init__(self, code: str, detail: str, path: str | None = None) -> None:
        # args keep the constructor arguments so the error pickles and copies.
        super().__init__(code, detail, path)
        self.code = code
        self.detail = detail
        self.path = path

    def __str__(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        return f"{self.code}: {self.detail}{where}"

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code!r}, detail={self.detail!r}, path={self.path!r})"


class ShapeError(CredentialError):
    """The document does not have the shape the data model requires."""


class ProofError(CredentialError):
    """A proof (JWT signature, Data Integrity proof) is missing or invalid."""


class DidError(CredentialError):
    """A DID could not be resolved or a key is not authorised by its controller."""


class StatusError(CredentialError):
    """A status list could not be fetched, decoded or trusted."""


class ContextError(CredentialError):
    """A JSON-LD context is unknown, or a term is undefined."""
