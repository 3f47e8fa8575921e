"""Schemathesis over the merged OpenAPI, through the gateway, as a staff admin: no request it
generates gets a 5xx or a response that breaks the operation's declared schema.

It runs against the sandbox platform: an admin's fuzzed writes change platform-wide
configuration (SLA policies, routing, contact policy) that other end-to-end tests rely on.
Bounded: a few examples per operation and an overall time budget, both printed.
"""

import time

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import Failure, FailureGroup

from cli.launcher import components
from tests.e2e.conftest import ADMIN
from tests.security.conftest import PUBLIC_PREFIXES
from tests.security.examples import without_time_format

EXAMPLES_PER_OPERATION = 6
TIME_BUDGET_SECONDS = 90.0
CHECKS = [not_a_server_error, response_schema_conformance]


def merged_document(gateway_url: str) -> dict:
    """The merged OpenAPI once every service is in it (services start in parallel)."""
    deadline = time.monotonic() + 60
    while True:
        document = httpx.get(f"{gateway_url}/openapi.json", timeout=30).json()
        services = {path.split("/")[2] for path in document["paths"]}
        if len(services) >= len(components()) or time.monotonic() > deadline:
            return document
        time.sleep(1)


def failures_of(operation, base_url: str, session: requests.Session) -> list[str]:
    """The first failure of the operation (its later examples are skipped), if any."""
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def exercise(case) -> None:
        if found:
            return
        response = case.call(base_url=base_url, session=session, headers=ADMIN)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as failure:
            found.append(f"{case.method} {case.formatted_path}: {str(failure)[:1500]}")

    exercise()
    return found


def test_no_5xx_and_no_response_breaks_its_schema(sandbox):
    document = merged_document(sandbox.gateway_url)
    schema = schemathesis.openapi.from_dict(without_time_format(document))
    started = time.monotonic()
    failures, exercised, skipped = [], 0, []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path.startswith(PUBLIC_PREFIXES):
                continue
            if time.monotonic() - started > TIME_BUDGET_SECONDS:
                skipped.append(f"{operation.method.upper()} {operation.path}")
                continue
            failures += failures_of(operation, sandbox.gateway_url, session)
            exercised += 1
    print(f"fuzzed {exercised} operations in {time.monotonic() - started:.1f} s; "
          f"over the budget: {len(skipped)}")  # fmt: skip
    assert not failures, "\n\n".join(failures)
    assert exercised > len(skipped), f"the budget reached too few operations: {skipped}"
