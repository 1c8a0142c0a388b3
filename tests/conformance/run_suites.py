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
        --issuer http://127.0.0.1:8082 --verifier http://127.0.0.1:8080 --token dev-token
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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

    @property
    def not_run(self) -> int:
        return max(self.declared - self.passed - len(self.failed), 0)


def _post(url: str, body: dict[str, object], token: str) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        result: dict[str, object] = json.loads(answer.read())
        return result


def make_issuer(issuer_url: str, token: str) -> str:
    """A did:key issuer of the tenant, the `id` the suites put in `credential.issuer`."""
    created = _post(
        f"{issuer_url}/issuers",
        {"name": "Conformance Test Issuer", "url": "https://example.org/conformance"},
        token,
    )
    return str(created["id"])


def local_config(issuer_url: str, verifier_url: str, issuer_did: str, token: str) -> str:
    endpoint = {"supports": {"vc": ["1.1", "2.0"]}, "tags": TAGS}
    implementation = {
        "name": "microcred",
        "implementation": "microcred",
        "issuers": [
            {
                **endpoint,
                "id": issuer_did,
                "endpoint": f"{issuer_url}/credentials/issue",
                "headers": {"Authorization": f"Bearer {token}"},
                "options": {},
            }
        ],
        "verifiers": [
            {**endpoint, "id": "microcred", "endpoint": f"{verifier_url}/credentials/verify"}
        ],
        "vpVerifiers": [
            {**endpoint, "id": "microcred", "endpoint": f"{verifier_url}/presentations/verify"}
        ],
    }
    config = {
        "settings": {"enableInteropTests": False, "testAllImplementations": False},
        "implementations": [implementation],
    }
    return "module.exports = " + json.dumps(config, indent=2) + ";\n"


def _mocha(suite_dir: Path, *extra: str) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        report = Path(out.name)
    command = ["npx", "mocha", "tests/", "--timeout", "15000", "--preserve-symlinks",
               "--reporter", "json", "--reporter-option", f"output={report}", *extra]  # fmt: skip
    subprocess.run(command, cwd=suite_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, timeout=1800)  # fmt: skip
    try:
        data: dict[str, object] = json.loads(report.read_text() or "{}")
    finally:
        report.unlink(missing_ok=True)
    return data


def run_suite(suite_dir: Path, config: str) -> Counts:
    (suite_dir / "localConfig.cjs").write_text(config)
    declared = _mocha(suite_dir, "--dry-run")
    ran = _mocha(suite_dir)
    names = {t["fullTitle"] for t in declared.get("tests", []) if isinstance(t, dict)}  # type: ignore[union-attr]
    passes = [t for t in ran.get("passes", []) if isinstance(t, dict)]  # type: ignore[union-attr]
    failures = [t for t in ran.get("failures", []) if isinstance(t, dict)]  # type: ignore[union-attr]
    failed = [f"{t['fullTitle']}: {str((t.get('err') or {}).get('message', ''))[:300]}"
              for t in failures]  # fmt: skip
    return Counts(suite_dir.name, len(names), len(passes), failed)


def _start_stack(workdir: Path) -> tuple[object, str, str]:
    from tests.conftest import DEFAULT_KAFKA_BOOTSTRAP, DEFAULT_REDIS_URL
    from tests.e2e.harness import Stack

    stack = Stack(
        workdir=workdir,
        kafka_bootstrap=os.environ.get("MICROCRED_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP),
        redis_url=os.environ.get("MICROCRED_REDIS_URL", DEFAULT_REDIS_URL),
    )
    stack.start()
    return stack, stack.url("issuer"), stack.url("verifier")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", type=Path, required=True, help="folder holding the suites")
    parser.add_argument("--only", action="append", help="suite folder name (repeatable)")
    parser.add_argument("--issuer", help="issuer base URL (default: start our own services)")
    parser.add_argument("--verifier", help="verifier base URL")
    parser.add_argument("--token", default="dev-token", help="tenant API token")
    parser.add_argument("--json", type=Path, help="write the counts and failures here")
    args = parser.parse_args()
    stack = None
    token = args.token
    if args.issuer and args.verifier:
        issuer_url, verifier_url = args.issuer, args.verifier
    else:
        workdir = Path(tempfile.mkdtemp(prefix="conformance-"))
        stack, issuer_url, verifier_url = _start_stack(workdir)
        token = stack.token  # type: ignore[attr-defined]
        print(f"services started, logs in {workdir}", file=sys.stderr)
    try:
        issuer_did = make_issuer(issuer_url, token)
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
        payload = [{"suite": r.suite, "tests": r.declared, "passed": r.passed,
                    "notRun": r.not_run, "failed": r.failed} for r in results]  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
