"""Seed the local stack so it shows every trust state at once (`make seed`,
run by `make up` once the services are ready).

Loads, through the public APIs and each write with a fixed Idempotency-Key
(so running it again changes nothing and answers with the same records):

- two accredited providers (the operator accredits them), each with a
  did:web issuer hosted by the issuer service and a web domain;
- one registered-only provider;
- one endorser (an employers' body), which endorses an achievement;
- a few achievements, and one credential per achievement (the endorsed
  achievement's carries the endorsement), whose verification shows `valid`
  (accredited, in scope), `untrusted` with trust `registered` (registered
  only, or outside the accreditation's scope).

Tokens: the first of `MICROCRED_API_TOKENS` (default `dev-token`), of
`MICROCRED_OPERATOR_TOKENS` and of `MICROCRED_ENDORSER_TOKENS` (services.sh
sets local defaults for both for `make up`).
Ports: `MICROCRED_CATALOG_PORT`, `MICROCRED_ISSUER_PORT`, `MICROCRED_VERIFIER_PORT`.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

LOCAL_OPERATOR_TOKENS = "dev-operator-token=local-operator"
LOCAL_ENDORSER_TOKENS = "dev-endorser-token=Local Employers Council"
PREFIX = "seed-v1"
# Which achievement (provider slug, number) the endorser endorses, and why.
ENDORSED = ("dias", 0)
CLAIM = (
    "Small firms across the region need staff who can apply data-protection "
    "rules to customer records; we look for this credential when hiring."
)

PROVIDERS: list[dict[str, Any]] = [
    {
        "slug": "dias",
        "legalName": "Dublin Institute of Applied Skills",
        "country": "IE",
        "type": "college",
        "webDomain": "applied-skills.example",
        "accreditation": {
            "id": "QQI-2026-017",
            "qualityAssuranceBody": {"name": "Quality and Qualifications Ireland"},
            "scope": {"eqfLevels": [5, 6]},
        },
        "achievements": [("Applied Data Protection", 6), ("Cloud Operations Fundamentals", 5)],
    },
    {
        "slug": "tda",
        "legalName": "Tallinn Digital Academy",
        "country": "EE",
        "type": "university",
        "webDomain": "digital-academy.example",
        "accreditation": {
            "id": "EKKA-2026-004",
            "qualityAssuranceBody": {"name": "Estonian Quality Agency for Education"},
            "scope": {"eqfLevels": [6, 7]},
        },
        # EQF 8 is outside the accreditation's scope: trust `registered`.
        "achievements": [("Secure Software Engineering", 7), ("Doctoral Research Methods", 8)],
    },
    {
        "slug": "rot",
        "legalName": "Registered Only Training Ltd",
        "country": "DE",
        "type": "training-provider",
        "webDomain": None,
        "accreditation": None,
        "achievements": [("Workplace First Aid", 4)],
    },
]


def first_token(variable: str, default: str) -> str:
    return (os.environ.get(variable) or default).split(",")[0].split("=")[0].strip()


def url(service: str, path: str) -> str:
    ports = {"verifier": 8080, "catalog": 8081, "issuer": 8082}
    port = os.environ.get(f"MICROCRED_{service.upper()}_PORT", str(ports[service]))
    return f"http://127.0.0.1:{port}{path}"


def call(method: str, target: str, token: str | None, body: object, key: str | None) -> Any:
    """One request; retried while the services answer 503 (still catching up)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(40):
        # Only the local services' http://127.0.0.1 URLs built above.
        request = urllib.request.Request(target, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            if error.code in (503, 404) and attempt < 39:  # replicas still catching up
                time.sleep(0.5)
                continue
            raise SystemExit(f"seed: {method} {target} answered {error.code}: {detail}") from None
    raise SystemExit(f"seed: {method} {target} never answered")


def endorse(achievement_id: str, endorser: str) -> None:
    """The endorser's signed EndorsementCredential about the achievement."""
    endorsement = call(
        "POST",
        url("issuer", "/endorsements"),
        endorser,
        {"achievementId": achievement_id, "claim": CLAIM},
        f"{PREFIX}-endorse",
    )
    name = endorsement["endorser"]["name"]
    print(f"seed: endorsement {endorsement['id']} by {name} of {achievement_id}")


def seed_provider(
    spec: dict[str, Any], tenant: str, operator: str, endorser: str
) -> list[tuple[str, str, str]]:
    """The provider's credentials: (label, VC-JWT, the trust level it should get)."""
    slug = spec["slug"]
    issuer = call(
        "POST",
        url("issuer", "/issuers"),
        tenant,
        {
            "name": spec["legalName"],
            "url": f"https://{spec['webDomain'] or slug + '.example'}",
            "country": spec["country"],
            "didMethod": "web",
        },
        f"{PREFIX}-issuer-{slug}",
    )
    did = issuer["id"]
    provider = {
        "legalName": spec["legalName"],
        "country": spec["country"],
        "type": spec["type"],
        "issuerDids": [did],
    }
    if spec["webDomain"]:
        provider["webDomain"] = spec["webDomain"]
    record = call(
        "POST", url("catalog", "/providers"), tenant, provider, f"{PREFIX}-provider-{slug}"
    )
    if spec["accreditation"]:
        accreditation = {
            **spec["accreditation"],
            "validFrom": "2026-01-01T00:00:00Z",
            "validUntil": "2031-01-01T00:00:00Z",
        }
        call(
            "POST",
            f"{record['id']}/accreditations",
            operator,
            accreditation,
            f"{PREFIX}-accredit-{slug}",
        )
    scope = spec["accreditation"]["scope"]["eqfLevels"] if spec["accreditation"] else []
    jwts: list[tuple[str, str, str]] = []
    for number, (name, level) in enumerate(spec["achievements"]):
        achievement = call(
            "POST",
            url("catalog", "/achievements"),
            tenant,
            {
                "issuerDid": did,
                "name": name,
                "description": f"{name}, a micro-credential of {spec['legalName']}",
                "criteria": {"narrative": "Pass the final assessment with at least 60%."},
                "masteryThreshold": 0.6,
                "microCredential": {"eqfLevel": level, "ectsCredits": 5},
            },
            f"{PREFIX}-achievement-{slug}-{number}",
        )
        if (slug, number) == ENDORSED:
            endorse(achievement["id"], endorser)  # before the award, which then carries it
        award = call(
            "POST",
            url("issuer", "/awards"),
            tenant,
            {
                "achievementId": achievement["id"],
                "recipient": {"id": f"did:example:{slug}-learner"},
                "score": 80,
            },
            f"{PREFIX}-award-{slug}-{number}",
        )
        trust = "accredited" if level in scope else "registered"
        jwts.append((f"{spec['legalName']} / {name}", award["jwt"], trust))
    print(f"seed: {spec['legalName']}: {did} ({record['id']})")
    return jwts


def endorsers_of(report: dict[str, Any]) -> str:
    """Who endorsed, as the verifier's `endorsements` check shows it."""
    check = next((r for r in report["results"] if r["check"] == "endorsements"), None)
    if check is None:
        return "none"
    shown = check.get("details", {}).get("endorsements", [])
    roles = ", ".join(f"{e['endorser']['role']} {e['endorser']['name']}" for e in shown)
    return f"{check['outcome']} ({roles})"


def settled_report(jwt: str, trust: str, within: float = 15.0) -> dict[str, Any]:
    """The verifier's report once its replica took in what was just seeded
    (providers, accreditations, achievements, endorsements reach it over
    Kafka): the trust level expected and no other check failing; the last
    report when that takes longer than `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        report = call(
            "POST",
            url("verifier", "/credentials/verify"),
            None,
            {"verifiableCredential": jwt},
            None,
        )
        checks = {r["check"]: r for r in report["results"]}
        others_pass = all(r["outcome"] != "failed" for n, r in checks.items() if n != "trust")
        if (checks["trust"]["code"] == trust and others_pass) or time.monotonic() > deadline:
            return dict(report)
        time.sleep(0.2)


def main() -> None:
    tenant = first_token("MICROCRED_API_TOKENS", "dev-token")
    operator = first_token("MICROCRED_OPERATOR_TOKENS", LOCAL_OPERATOR_TOKENS)
    endorser = first_token("MICROCRED_ENDORSER_TOKENS", LOCAL_ENDORSER_TOKENS)
    issued = [
        credential
        for spec in PROVIDERS
        for credential in seed_provider(spec, tenant, operator, endorser)
    ]
    for label, jwt, expected in issued:
        report = settled_report(jwt, expected)
        trust = next(r for r in report["results"] if r["check"] == "trust")
        print(
            f"seed: a credential of {label}: verdict {report['verdict']}, "
            f"trust {trust['code']}, endorsements {endorsers_of(report)}"
        )
    print(f"seed: done; the operator's trust list: {url('issuer', '/trust-list.json')}")


if __name__ == "__main__":
    sys.exit(main())
