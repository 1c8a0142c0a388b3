"""Is an Achievement (or an issuer's Profile) fit to be awarded? The signed
format's own rules, once.

A definition the catalog accepts must produce credentials that sign and
verify: so the catalog checks the Achievement it builds with exactly the
rules the verifier applies (``model.check_achievement``: OB 3.0 appendix B
shapes, URLs, IRIs, BCP 47 tags, enumerations, dates, durations and our
microcred-v1 terms) and with the JSON-LD safe mode that signing runs
(``jsonld``: an undefined term or a relative IRI would make every award fail
with ``relative_iri``). Nothing here is a second copy of those rules.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.credentials.builders import contexts_for
from shared.credentials.errors import CredentialError, ShapeError
from shared.credentials.jsonld import default_registry
from shared.credentials.model import check_achievement, check_profile

ROOT = "$"


def definition_errors(achievement: Mapping[str, object]) -> list[ShapeError]:
    """Every problem of `achievement` (paths `$.member...`); empty when it is
    fit to be awarded. The JSON-LD check runs only on a document whose shape
    is right (it stops at the first problem)."""
    return check_achievement(achievement, ROOT) or _safe_mode_errors(achievement)


def profile_errors(profile: Mapping[str, object]) -> list[ShapeError]:
    """Every problem of an issuer's `profile` (paths `$.member...`), by the
    rules the verifier applies to a credential's `issuer`, then the JSON-LD
    safe mode's: empty when credentials naming it can sign and verify."""
    return check_profile(profile, ROOT) or _safe_mode_errors(profile)


def _safe_mode_errors(document: Mapping[str, object]) -> list[ShapeError]:
    """What signing's JSON-LD safe mode refuses in `document` (the first problem)."""
    wrapped = {"@context": contexts_for(document), **document}
    try:
        default_registry().expand(wrapped)
    except CredentialError as error:
        return [ShapeError(error.code, error.detail, _rooted(error.path))]
    return []


def _rooted(path: str | None) -> str:
    """Safe mode's `alignment[0].targetType` as `$.alignment[0].targetType`."""
    if not path:
        return ROOT
    return f"{ROOT}{path}" if path.startswith("[") else f"{ROOT}.{path}"
