"""The shipped journeys, installed and activated as marketing would, and one OTA release, so
the scenario messages reach owners' inboxes. Installed once: a re-run changes nothing."""

import asyncio

from simulator.context import Run

# The DESIGN.md scenarios' journeys, each installed under its template's name.
SCENARIO_JOURNEYS = (
    "post_delivery_onboarding",
    "survey_invitations",
    "quality_alert_proactive_service",
    "purchase_anniversary_family",
    "ota_release_tech_enthusiasts",
)
OTA_JOURNEY = "ota_release_tech_enthusiasts"
OTA_SEGMENT = "tech_enthusiast"
RETRY_SECONDS = 3.0
OTA_RELEASE = {
    "release_version": "5.2",
    "release_summary": "a new parking assistant and smarter navigation",
    "article_link": "https://owners.example.com/ota/5.2",
    "beta_link": "https://owners.example.com/beta",
}


async def install(run: Run) -> None:
    """Before the fleet arrives, so deliveries, invitations and alerts enter their journeys."""
    admin = run.credentials.admin()
    task = run.stage("Scenario journeys", total=len(SCENARIO_JOURNEYS))
    for template in SCENARIO_JOURNEYS:
        created = await run.gateway.post(
            "/v1/journeys/definitions/from-template",
            {"template": template, "key": template},
            headers=admin,
            accept=(201, 409),
        )
        activated = await run.gateway.post(
            f"/v1/journeys/definitions/{template}/versions/1/transitions",
            {"to": "active"},
            headers=admin,
            accept=(200, 409),
        )
        changed = created.status_code == 201 or activated.status_code == 200
        run.tally.add("journeys", **({"activated": 1} if changed else {"unchanged": 1}))
        run.progress.advance(task)


async def release_ota(run: Run) -> None:
    """Publishes the OTA release once: tech enthusiasts get the article, then the beta invite."""
    admin = run.credentials.admin()
    path = f"/v1/journeys/definitions/{OTA_JOURNEY}"
    metrics = await run.gateway.get(f"{path}/metrics", headers=admin)
    if metrics.json()["entered"]:
        run.tally.add("OTA release", unchanged=1)
        return
    # Profile places owners in the segment from their driving; journeys learns its members
    # by events, later still: a release before then reaches nobody, so it is tried again.
    deadline = asyncio.get_running_loop().time() + run.settle_seconds
    while True:
        if entered := await _release_reached(run, path, admin):
            run.tally.add("OTA release", entered=entered)
            return
        if asyncio.get_running_loop().time() > deadline:
            run.tally.notes.append(f"the OTA release reached nobody: no {OTA_SEGMENT} yet")
            return
        await asyncio.sleep(RETRY_SECONDS)


async def _release_reached(run: Run, path: str, admin: dict[str, str]) -> int:
    """How many owners a release entered; none tried while profile's segment is empty."""
    segment = await run.gateway.get(f"/v1/profile/segments/{OTA_SEGMENT}", headers=admin)
    if not segment.json()["members"]:
        return 0
    started = await run.gateway.post(f"{path}/runs", {"context": OTA_RELEASE}, headers=admin)
    return started.json()["entered"]
