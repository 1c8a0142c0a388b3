"""Bearer tokens that map to tenants (institutions).

`MICROCRED_API_TOKENS=token1=tenantA,token2=tenantB`; without it the local
default `dev-token=demo` is used and a warning is logged at start-up.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from shared.logging import get_logger
from shared.settings import SettingsError, env_str, env_var
from shared.web.problems import Problem

DEFAULT_TOKENS = "dev-token=demo"
_VAR = "API_TOKENS"
_log = get_logger("shared.web.auth")


@dataclass(frozen=True)
class ApiTokens:
    """Token → tenant table; the tokens never appear in the repr."""

    tokens: Mapping[str, str] = field(repr=False)
    using_default: bool = False

    @classmethod
    def parse(cls, value: str, *, using_default: bool = False) -> ApiTokens:
        """Parse `token=tenant,...`; raises SettingsError naming the variable."""
        table: dict[str, str] = {}
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            token, sep, tenant = (s.strip() for s in item.partition("="))
            if not sep or not token or not tenant:
                raise SettingsError(f"{env_var(_VAR)}: expected token=tenant pairs")
            if token in table:
                raise SettingsError(f"{env_var(_VAR)}: a token is listed twice")
            table[token] = tenant
        if not table:
            raise SettingsError(f"{env_var(_VAR)}: no token=tenant pair given")
        return cls(tokens=table, using_default=using_default)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiTokens:
        """Read `MICROCRED_API_TOKENS` (default `dev-token=demo`)."""
        value = env_str(_VAR, "", environ)
        if not value:
            return cls.parse(DEFAULT_TOKENS, using_default=True)
        return cls.parse(value)

    def tenant_for(self, presented: str) -> str | None:
        """The tenant of `presented`, comparing in constant time against every token."""
        found: str | None = None
        presented_bytes = presented.encode()
        for token, tenant in self.tokens.items():
            if hmac.compare_digest(token.encode(), presented_bytes):
                found = tenant
        return found

    @property
    def tenants(self) -> frozenset[str]:
        return frozenset(self.tokens.values())


API_TOKENS: web.AppKey[ApiTokens] = web.AppKey("shared.api_tokens", ApiTokens)


def install_api_tokens(app: web.Application, tokens: ApiTokens) -> None:
    """Store the token table on `app`; warns when the local default is in use."""
    if tokens.using_default:
        _log.warning(
            "auth.default_tokens",
            detail=f"{env_var(_VAR)} is not set; using the local development token",
        )
    app[API_TOKENS] = tokens


def _unauthorized(detail: str, error: str | None) -> Problem:
    # RFC 6750 §3: the challenge; `error` only when a token was presented.
    challenge = 'Bearer realm="microcred"'
    if error:
        challenge += f', error="{error}"'
    return Problem(401, detail, headers={"WWW-Authenticate": challenge})


def require_tenant(request: web.Request) -> str:
    """The tenant of the request's bearer token, or a 401 problem."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise _unauthorized("An Authorization: Bearer token is required.", None)
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Use the Bearer authorization scheme.", "invalid_request")
    tenant = request.config_dict[API_TOKENS].tenant_for(token.strip())
    if tenant is None:
        raise _unauthorized("The bearer token is not valid.", "invalid_token")
    return tenant
