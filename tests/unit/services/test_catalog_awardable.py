"""Property (issue 9): any definition the catalog accepts can be awarded, and
the credential verifies as valid. In-process: the catalog's check, the
issuer's credential builder, both proofs, the shared verifier."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.catalog.domain import AchievementIn, valid_document
from services.issuer.domain.awarding import AwardIn, award_credential, subject_of
from services.issuer.signing import sign_both
from shared.credentials.builders import build_profile
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.status_list import BitstringStatusList, status_list_credential
from shared.credentials.verify import verify_credential
from shared.errors import InvalidField, InvalidFields
from shared.events import StatusEntryRef
from tests.unit.credentials.vc_samples import NOW, iso

LISTS = "https://status.example/lists"
ID = "https://catalog.example/achievements/0b6f"

KEY = generate_ed25519()
ISSUER_DID = did_key_for(KEY.public_key)


class Lists:
    """The issuer's two status lists, nothing set."""

    def __init__(self) -> None:
        self.docs: dict[str, str] = {}
        for purpose in ("revocation", "suspension"):
            url = f"{LISTS}/{purpose}"
            doc = status_list_credential(
                url, ISSUER_DID, purpose, BitstringStatusList().encode(), iso(NOW)
            )
            self.docs[url] = sign_vc_jwt(doc, KEY)

    async def get(self, url: str) -> dict[str, Any] | str:
        return self.docs[url]


LIST_SOURCE = Lists()
ENTRIES = [
    StatusEntryRef(purpose=p, list_id=p, list_url=f"{LISTS}/{p}", index=42)
    for p in ("revocation", "suspension")
]

# Values that are right, values the signed format refuses, and anything.
text = st.text(min_size=1, max_size=40)
urls = st.sampled_from(
    ["https://esco.example/skill/1", "http://data.europa.eu/esco/skill/x", "urn:isbn:123"]
)
iris = st.one_of(urls, st.sampled_from(["logo", "crit", "_:b0", "not a url", "a:b"]), text)
languages = st.one_of(st.sampled_from(["en", "en-GB", "de-CH-1996", "english!!", "e"]), text)
modes = st.one_of(st.sampled_from(["online", "blended", "by carrier pigeon"]), text)
types = st.one_of(st.sampled_from(["MicroCredential", "Badge", "ext:Nano", "Nope"]), text)

alignments = st.fixed_dictionaries(
    {"targetName": text, "targetUrl": st.one_of(urls, iris)},
    optional={
        "targetType": st.one_of(st.sampled_from(["ext:ESCOSkill", "CFItem", "Skill"]), text),
        "targetCode": text,
        "targetFramework": text,
    },
)
micro = st.fixed_dictionaries(
    {},
    optional={
        "eqfLevel": st.integers(1, 8),
        "workloadHours": st.floats(0.5, 1e4),
        "ectsCredits": st.floats(0.5, 60),
        "assessmentType": text,
        "participationMode": modes,
        "validityPeriod": st.sampled_from(["P3Y", "P18M", "P90D", "P100Y"]),
        "durationWeeks": st.floats(0.5, 52),
        "assessmentPurpose": st.one_of(st.sampled_from(["summative", "formative"]), text),
        "nqfLevel": text,
    },
)
definitions = st.fixed_dictionaries(
    {
        "issuerDid": st.just(ISSUER_DID),
        "name": text,
        "description": text,
        "criteria": st.fixed_dictionaries({"narrative": text}, optional={"id": iris}),
        "masteryThreshold": st.floats(0.01, 1),
    },
    optional={
        "alignment": st.lists(alignments, max_size=2),
        "image": iris,
        "inLanguage": languages,
        "tag": st.lists(text, max_size=3),
        "achievementType": types,
        "fieldOfStudy": text,
        "microCredential": micro,
        "assessment": st.fixed_dictionaries(
            {}, optional={"evaluationMethod": text, "hasGroupEvaluation": st.booleans()}
        ),
    },
)


def _award(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = msgspec.convert(
        {"achievementId": ID, "recipient": {"email": "a@b.example"}, "score": 100}, AwardIn
    )
    credential = award_credential(
        body=body,
        subject=subject_of(body.recipient),
        issuer_profile=build_profile(ISSUER_DID, "Poly"),
        achievement=document,
        entries=ENTRIES,
        now=NOW,
    )
    return sign_both(credential, KEY)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(definitions)
def test_an_accepted_definition_awards_a_credential_that_verifies(raw: dict[str, Any]) -> None:
    body = msgspec.convert(raw, AchievementIn)
    try:
        document = valid_document(body, ID, 3)
    except (InvalidField, InvalidFields):
        event("refused")
        return
    event("accepted")
    jwt, signed = _award(document)
    for form in (jwt, signed):
        report = asyncio.run(
            verify_credential(
                form,
                resolver=DidResolver(),
                status_lists=LIST_SOURCE,
                now=NOW + timedelta(seconds=1),
            )
        )
        assert report.verified, [(c.name, c.outcome, c.reason) for c in report.checks]
        assert all(c.outcome == "ok" for c in report.checks)
    # The credential carries the revision it was issued under.
    assert signed["credentialSubject"]["achievement"]["revision"] == 3
