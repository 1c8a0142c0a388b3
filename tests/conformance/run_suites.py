"""Run the public W3C/CCG test suites against microcred (docs/conformance.md).

The suites are not part of this repository: fetch each one (and its `github:`
dependencies, packed as tarballs) into a folder of your own and `npm install`
there; this runner only writes a `localConfig.cjs` into each suite (restricting
it to our implementation), runs mocha with its JSON reporter and prints the
counts per suite.

    # against services this runner starts (own topics and Redis namespace)
    python -m tests.conformance.run_suites --suites /tmp/suites
    # against `make up`
    python -m tests.conformance.run_suites --suites /tmp/suites \
        --issuer http://127.0.0.1:8082 --verifier http://127.0.0.1:8080 \
        --catalog http://127.0.0.1:8081 --token dev-token --operator-token dev-operator-token
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# suite folder -> the tag it selects implementations by (as issue 11 counts them)
SUITES = {
    "vc-data-model-2.0-test-suite": "vc2.0",
    "vc-di-eddsa-test-suite": "eddsa-rdfc-2022",
    "vc-bitstring-status-list-test-suite": "BitstringStatusList",
    "vc-api-verifier-test-suite": "vc-api",
    "vc-api-issuer-test-suite": "vc-api",
}
TAGS = sorted(set(SUITES.values()))


@dataclass
class Counts:
    suite: str
    declared: int
    passed: int
    failed: list[str]
    never_ran: list[str]

    @property
    def not_run(self) -> int:
        return max(self.declared - self.passed - len(self.failed), 0)


def _request(method: str, url: str, body: dict[str, object], token: str) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        result: dict[str, object] = json.loads(answer.read())
        return result


def make_issuer(issuer_url: str, catalog_url: str, token: str, operator_token: str) -> str:
    """A did:key issuer of the tenant (the `id` the suites put in
    `credential.issuer`), listed by a provider the operator enabled for
    generic issuance (the suites issue credentials of any type)."""
    created = _request(
        "POST",
        f"{issuer_url}/issuers",
        {"name": "Conformance Test Issuer", "url": "https://example.org/conformance"},
        token,
    )
    did = str(created["id"])
    provider = {
        "legalName": "Conformance Test Provider",
        "country": "NL",
        "type": "other",
        "issuerDids": [did],
    }
    for _ in range(50):  # the catalog learns the issuer from Kafka
        try:
            record = _request("POST", f"{catalog_url}/providers", provider, token)
            break
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            time.sleep(0.2)
    else:
        raise RuntimeError("the catalog never saw the issuer")
    enabled = {"enabled": True}
    _request("PUT", f"{record['id']}/generic-issuance", enabled, operator_token)
    return did


def local_config(issuer_url: str, verifier_url: str, issuer_did: str, token: str) -> str:
    """Our implementation only: one issuer entry per tag (the bitstring
    suite's asks for a status entry), the verifiers under every tag."""
    supports = {"vc": ["1.1", "2.0"]}

    def issuer(tags: list[str], options: dict[str, object]) -> dict[str, object]:
        return {
            "id": issuer_did,
            "endpoint": f"{issuer_url}/credentials/issue",
            "headers": {"Authorization": f"Bearer {token}"},
            "options": options,
            "supports": supports,
            "tags": tags,
        }

    status = {"credentialStatus": {"type": "BitstringStatusListEntry"}}
    plain = [t for t in TAGS if t != "BitstringStatusList"]
    implementation = {
        "name": "microcred",
        "implementation": "microcred",
        "issuers": [issuer(plain, {}), issuer(["BitstringStatusList"], status)],
        "verifiers": [
            {
                "id": "microcred",
                "endpoint": f"{verifier_url}/credentials/verify",
                "supports": supports,
                "tags": TAGS,
            }
        ],
        "vpVerifiers": [
            {
                "id": "microcred",
                "endpoint": f"{verifier_url}/presentations/verify",
                "supports": supports,
                "tags": TAGS,
            }
        ],
    }
    config = {
        "settings": {"enableInteropTests": False, "testAllImplementations": False},
        "implementations": [implementation],
    }
    return "module.exports = " + json.dumps(config, indent=2) + ";\n"


# Local patches for running over plain http (issue 11 "How to check"): the
# DM 2.0 suite posts http requests itself, without the endpoint's headers,
# and reads the issue answer as the bare credential; the bitstring suite's
# document loader fetches status lists over https only, with an https agent.
PATCHES = {
    "vc-bitstring-status-list-test-suite/tests/documentLoader.js": [
        (
            "result = await httpClient.get(url, {agent});",
            "result = await httpClient.get(url, url.startsWith('https') ? {agent} : {});",
        ),
        (
            "jdl.setProtocolHandler({protocol: 'https', handler});\n",
            "jdl.setProtocolHandler({protocol: 'https', handler});\n"
            "jdl.setProtocolHandler({protocol: 'http', handler});\n",
        ),
    ],
    "vc-bitstring-status-list-test-suite/tests/helpers.js": [
        (
            "    statusListCredential, {agent});",
            "    statusListCredential, statusListCredential.startsWith('https') ? {agent} : {});",
        ),
    ],
    "vc-data-model-2.0-test-suite/tests/TestEndpoints.js": [
        ("if(url.startsWith('https:')) {", "if(url.startsWith('http')) {"),
        (
            "    return post(issuer, issueBody);\n",
            "    const issued = await post(issuer, issueBody);\n"
            "    return issued?.verifiableCredential ?? issued;\n",
        ),
    ],
}


def patch_suites(root: Path) -> None:
    for name, edits in PATCHES.items():
        path = root / name
        if not path.exists():
            continue
        text = path.read_text()
        for old, new in edits:
            if new not in text:
                text = text.replace(old, new)
        path.write_text(text)


def _mocha(suite_dir: Path, *extra: str) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        report = Path(out.name)
    command = [
        "npx",
        "mocha",
        "tests/",
        "--timeout",
        "15000",
        "--preserve-symlinks",
        "--reporter",
        "json",
        "--reporter-option",
        f"output={report}",
        *extra,
    ]
    subprocess.run(
        command,
        cwd=suite_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=1800,
    )
    try:
        data: dict[str, object] = json.loads(report.read_text() or "{}")
    finally:
        report.unlink(missing_ok=True)
    return data


def run_suite(suite_dir: Path, config: str) -> Counts:
    (suite_dir / "localConfig.cjs").write_text(config)
    declared = _mocha(suite_dir, "--dry-run")
    ran = _mocha(suite_dir)
    names = {str(t["fullTitle"]) for t in _tests(declared, "tests")}
    passes = _tests(ran, "passes")
    failures = _tests(ran, "failures")
    pending = {str(t["fullTitle"]) for t in _tests(ran, "pending")}
    seen = {str(t["fullTitle"]) for t in passes + failures}
    failed = [
        f"{t['fullTitle']}: {str((t.get('err') or {}).get('message', ''))[:300]}" for t in failures
    ]
    never = sorted(names - seen)
    never = [f"{n} (pending)" if n in pending else n for n in never]
    return Counts(suite_dir.name, len(names), len(passes), failed, never)


def _tests(report: dict[str, object], key: str) -> list[dict[str, object]]:
    found = report.get(key)
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def _start_stack(workdir: Path) -> tuple[object, str, str, str]:
    from tests.conftest import DEFAULT_KAFKA_BOOTSTRAP, DEFAULT_REDIS_URL
    from tests.e2e.harness import Stack

    # The suites' fixtures use the W3C example contexts, which our services
    # serve to JSON-LD processing only when asked (docs/conformance.md).
    os.environ["MICROCRED_JSONLD_EXAMPLE_CONTEXTS"] = "true"
    stack = Stack(
        workdir=workdir,
        kafka_bootstrap=os.environ.get("MICROCRED_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP),
        redis_url=os.environ.get("MICROCRED_REDIS_URL", DEFAULT_REDIS_URL),
    )
    stack.start()
    return stack, stack.url("issuer"), stack.url("verifier"), stack.url("catalog")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", type=Path, required=True, help="folder holding the suites")
    parser.add_argument("--only", action="append", help="suite folder name (repeatable)")
    parser.add_argument("--issuer", help="issuer base URL (default: start our own services)")
    parser.add_argument("--verifier", help="verifier base URL")
    parser.add_argument("--catalog", help="catalog base URL")
    parser.add_argument("--token", default="dev-token", help="tenant API token")
    parser.add_argument("--operator-token", default="dev-operator-token", help="operator token")
    parser.add_argument("--json", type=Path, help="write the counts and failures here")
    args = parser.parse_args()
    stack = None
    token, operator_token = args.token, args.operator_token
    if args.issuer and args.verifier and args.catalog:
        issuer_url, verifier_url, catalog_url = args.issuer, args.verifier, args.catalog
    else:
        workdir = Path(tempfile.mkdtemp(prefix="conformance-"))
        stack, issuer_url, verifier_url, catalog_url = _start_stack(workdir)
        token = stack.token  # type: ignore[attr-defined]
        operator_token = stack.operator_token  # type: ignore[attr-defined]
        print(f"services started, logs in {workdir}", file=sys.stderr)
    try:
        patch_suites(args.suites)
        issuer_did = make_issuer(issuer_url, catalog_url, token, operator_token)
        time.sleep(2)  # the issuer's first status lists appear once revocation saw it
        config = local_config(issuer_url, verifier_url, issuer_did, token)
        results = [
            run_suite(args.suites / name, config)
            for name in SUITES
            if not args.only or name in args.only
        ]
    finally:
        if stack is not None:
            stack.stop()  # type: ignore[attr-defined]
            stack.remove_traces()  # type: ignore[attr-defined]
    print(f"{'suite':40} {'tests':>5} {'passed':>6} {'failed':>6} {'not run':>7}")
    for r in results:
        print(f"{r.suite:40} {r.declared:5} {r.passed:6} {len(r.failed):6} {r.not_run:7}")
    total = sum(r.declared for r in results), sum(r.passed for r in results)
    print(f"{'total':40} {total[0]:5} {total[1]:6}")
    if args.json:
        payload = [
            {
                "suite": r.suite,
                "tests": r.declared,
                "passed": r.passed,
                "notRun": r.not_run,
                "failed": r.failed,
                "neverRan": r.never_ran,
            }
            for r in results
        ]
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
