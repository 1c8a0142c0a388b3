"""Bearer tokens that map to tenants (institutions) or to operators.

`MICROCRED_API_TOKENS=token1=tenantA,token2=tenantB`; without it the local
default `dev-token=demo` is used and a warning is logged at start-up.

`MICROCRED_OPERATOR_TOKENS=token=operator-name,...` (same format, no default):
the operator runs the platform and alone accredits providers (architecture
invariant 9). The two tables are separate: a token may not be in both, a
tenant token is refused where the operator is required and an operator
token where a tenant is (403).

`MICROCRED_ENDORSER_TOKENS=token=endorser-name,...` (same format, no
default): employers and industry bodies, who only endorse achievements; a
third table, separate from both (a provider never endorses as an endorser,
an endorser never acts as a tenant).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from shared.logging import get_logger
from shared.settings import SettingsError, env_str, env_var
from shared.web.problems import Problem

DEFAULT_TOKENS = "dev-token=demo"
_VAR = "API_TOKENS"
_OPERATOR_VAR = "OPERATOR_TOKENS"
_ENDORSER_VAR = "ENDORSER_TOKENS"
_log = get_logger("shared.web.auth")


@dataclass(frozen=True)
class ApiTokens:
    """Token → tenant table; the tokens never appear in the repr."""

    tokens: Mapping[str, str] = field(repr=False)
    using_default: bool = False

    @classmethod
    def parse(cls, value: str, *, using_default: bool = False, variable: str = _VAR) -> ApiTokens:
        """Parse `token=name,...`; raises SettingsError naming the variable."""
        table: dict[str, str] = {}
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            token, sep, tenant = (s.strip() for s in item.partition("="))
            if not sep or not token or not tenant:
                raise SettingsError(f"{env_var(variable)}: expected token=name pairs")
            if tenant.startswith("@"):  # reserved: the operator's and endorsers' identities
                raise SettingsError(f"{env_var(variable)}: a name cannot start with '@'")
            if token in table:
                raise SettingsError(f"{env_var(variable)}: a token is listed twice")
            table[token] = tenant
        if not table:
            raise SettingsError(f"{env_var(variable)}: no token=name pair given")
        return cls(tokens=table, using_default=using_default)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiTokens:
        """Read `MICROCRED_API_TOKENS` (default `dev-token=demo`)."""
        value = env_str(_VAR, "", environ)
        if not value:
            return cls.parse(DEFAULT_TOKENS, using_default=True)
        return cls.parse(value)

    @classmethod
    def operators_from_env(cls, environ: Mapping[str, str] | None = None) -> ApiTokens | None:
        """Read `MICROCRED_OPERATOR_TOKENS` (token=operator-name pairs); None
        when unset: then nobody acts as operator (no default, never)."""
        value = env_str(_OPERATOR_VAR, "", environ)
        return cls.parse(value, variable=_OPERATOR_VAR) if value else None

    @classmethod
    def endorsers_from_env(cls, environ: Mapping[str, str] | None = None) -> ApiTokens | None:
        """Read `MICROCRED_ENDORSER_TOKENS` (token=endorser-name pairs); None when unset."""
        value = env_str(_ENDORSER_VAR, "", environ)
        return cls.parse(value, variable=_ENDORSER_VAR) if value else None

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
OPERATOR_TOKENS: web.AppKey[ApiTokens] = web.AppKey("shared.operator_tokens", ApiTokens)
ENDORSER_TOKENS: web.AppKey[ApiTokens] = web.AppKey("shared.endorser_tokens", ApiTokens)


def install_api_tokens(app: web.Application, tokens: ApiTokens) -> None:
    """Store the token table on `app`; warns when the local default is in use."""
    if tokens.using_default:
        _log.warning(
            "auth.default_tokens",
            detail=f"{env_var(_VAR)} is not set; using the local development token",
        )
    app[API_TOKENS] = tokens


def install_operator_tokens(app: web.Application, operators: ApiTokens | None) -> None:
    """Store the operator table (after `install_api_tokens`); a token listed
    both as tenant and operator is a configuration error."""
    if operators is None:
        _log.info("auth.no_operator", detail=f"{env_var(_OPERATOR_VAR)} is not set")
        return
    if set(operators.tokens) & set(app[API_TOKENS].tokens):
        raise SettingsError(
            f"{env_var(_OPERATOR_VAR)}: a token is also in {env_var(_VAR)}; use separate tokens"
        )
    app[OPERATOR_TOKENS] = operators


def install_endorser_tokens(app: web.Application, endorsers: ApiTokens | None) -> None:
    """Store the endorser table (after `install_api_tokens`); a token also
    listed as a tenant's is a configuration error."""
    if endorsers is None:
        return
    if set(endorsers.tokens) & set(app[API_TOKENS].tokens):
        raise SettingsError(
            f"{env_var(_ENDORSER_VAR)}: a token is also in {env_var(_VAR)}; use separate tokens"
        )
    app[ENDORSER_TOKENS] = endorsers


def install_tokens_from_env(app: web.Application) -> None:
    """Every token table from the environment: tenants', operators' and
    endorsers' (also where only tenants act, so that another role's token
    is a 403 there, not an unknown token's 401)."""
    install_api_tokens(app, ApiTokens.from_env())
    install_operator_tokens(app, ApiTokens.operators_from_env())
    install_endorser_tokens(app, ApiTokens.endorsers_from_env())


def _unauthorized(detail: str, error: str | None) -> Problem:
    # RFC 6750 §3: the challenge; `error` only when a token was presented.
    challenge = 'Bearer realm="microcred"'
    if error:
        challenge += f', error="{error}"'
    return Problem(401, detail, headers={"WWW-Authenticate": challenge})


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise _unauthorized("An Authorization: Bearer token is required.", None)
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Use the Bearer authorization scheme.", "invalid_request")
    return token.strip()


def _forbidden(detail: str) -> Problem:
    # RFC 6750 §3.1: a valid token without the rights for this request.
    return Problem(
        403,
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="microcred", error="insufficient_scope"'},
    )


def _name_in(request: web.Request, key: web.AppKey[ApiTokens], token: str) -> str | None:
    table = request.config_dict.get(key)
    return None if table is None else table.tenant_for(token)


def require_tenant(request: web.Request) -> str:
    """The tenant of the request's bearer token; 401 for none or an unknown
    one, 403 for an operator's token (operators act only as operators)."""
    token = _bearer(request)
    tenant = _name_in(request, API_TOKENS, token)
    if tenant is not None:
        return tenant
    if _name_in(request, OPERATOR_TOKENS, token) is not None:
        raise _forbidden("An operator token cannot act as a tenant.")
    if _name_in(request, ENDORSER_TOKENS, token) is not None:
        raise _forbidden("An endorser token cannot act as a tenant.")
    raise _unauthorized("The bearer token is not valid.", "invalid_token")


def token_fingerprint(request: web.Request) -> str:
    """Who made the request, for audit trails: a short SHA-256 fingerprint of
    its bearer token (never the token), so two tokens of one tenant differ."""
    digest = hashlib.sha256(_bearer(request).encode()).hexdigest()
    return f"token:sha256:{digest[:16]}"


def require_operator(request: web.Request) -> str:
    """The operator of the request's bearer token; 401 for none or an
    unknown one, 403 for a tenant's token (a provider never accredits) or an
    endorser's."""
    token = _bearer(request)
    operator = _name_in(request, OPERATOR_TOKENS, token)
    if operator is not None:
        return operator
    if _name_in(request, API_TOKENS, token) is not None:
        raise _forbidden("Only the platform operator may do this; a tenant token cannot.")
    if _name_in(request, ENDORSER_TOKENS, token) is not None:
        raise _forbidden("Only the platform operator may do this; an endorser token cannot.")
    raise _unauthorized("The bearer token is not valid.", "invalid_token")


def require_endorser(request: web.Request) -> str:
    """The endorser of the request's bearer token; 401 for none or an
    unknown one, 403 for a tenant's (a provider never endorses as an
    endorser) or the operator's."""
    token = _bearer(request)
    endorser = _name_in(request, ENDORSER_TOKENS, token)
    if endorser is not None:
        return endorser
    if _name_in(request, API_TOKENS, token) or _name_in(request, OPERATOR_TOKENS, token):
        raise _forbidden("Only an endorser may endorse; this token cannot.")
    raise _unauthorized("The bearer token is not valid.", "invalid_token")
