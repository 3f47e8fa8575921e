"""Dealers, their DMS keys, and the touchpoint surveys: what an administrator sets up first."""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import asyncio

from simulator.context import Run
from simulator.gateway import ADMIN_SUBJECT, GatewayError
from simulator.world import Dealer

KEY_WAIT_SECONDS = 60.0
TOO_MANY_KEYS = "too_many_active_keys"


async def dealers(run: Run) -> None:
    """Registers the dealers that are missing (matched by code), then issues each a DMS key."""
    admin = run.credentials.admin()
    task = run.stage("Dealers and their DMS keys", total=len(run.world.dealers))
    known = {
        dealer["code"]: dealer["id"]
        async for dealer in run.gateway.items("/v1/profile/dealers", headers=admin)
    }
    for dealer in run.world.dealers:
        if dealer.code in known:
            run.tally.add("dealers", unchanged=1)
        else:
            known[dealer.code] = await _register(run, dealer, admin)
            run.tally.add("dealers", created=1)
        run.dealer_ids[dealer.index] = known[dealer.code]
    for dealer in run.world.dealers:
        await _issue_key(run, run.dealer_ids[dealer.index], admin)
        run.progress.advance(task)


async def _register(run: Run, dealer: Dealer, admin: dict[str, str]) -> str:
    body = {
        "code": dealer.code,
        "name": dealer.name,
        "city": dealer.city.name,
        "region": dealer.city.region,
    }
    response = await run.gateway.post("/v1/profile/dealers", body, headers=admin)
    return response.json()["id"]


async def _issue_key(run: Run, dealer_id: str, admin: dict[str, str]) -> None:
    """The gateway learns of a new dealer from profile's event: until then a key is refused.
    A dealer holds two active keys at most: keys an interrupted run left behind are revoked."""
    deadline = asyncio.get_running_loop().time() + KEY_WAIT_SECONDS
    while True:
        response = await run.gateway.post(
            f"/v1/gateway/dealers/{dealer_id}/keys", headers=admin, accept=(201, 404, 409, 422)
        )
        if response.status_code == 201:
            issued = response.json()
            run.credentials.dealer_keys[dealer_id] = {"X-API-Key": issued["key"]}
            run.issued_keys.append(issued["id"])
            return
        if response.json().get("code") == TOO_MANY_KEYS and not await _revoke_stale(
            run, dealer_id, admin
        ):
            raise GatewayError(response)
        if asyncio.get_running_loop().time() > deadline:
            raise GatewayError(response)
        await asyncio.sleep(0.2)


async def _revoke_stale(run: Run, dealer_id: str, admin: dict[str, str]) -> bool:
    """Revokes the active keys an earlier simulation issued; whether there were any."""
    listing = await run.gateway.get(f"/v1/gateway/dealers/{dealer_id}/keys", headers=admin)
    stale = [
        key["id"]
        for key in listing.json()["items"]
        if key["created_by"] == ADMIN_SUBJECT and key.get("revoked_at") is None
    ]
    for key_id in stale:
        await run.gateway.post(f"/v1/gateway/keys/{key_id}/revoke", headers=admin)
    return bool(stale)


async def revoke_keys(run: Run) -> None:
    """The run's keys are not needed afterwards; a re-run issues fresh ones."""
    admin = run.credentials.admin()
    for key_id in run.issued_keys:
        await run.gateway.post(f"/v1/gateway/keys/{key_id}/revoke", headers=admin)


def _localized(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


REASON = {
    "id": "reason",
    "type": "text",
    "required": False,
    "text": _localized("What is the main reason for your score?", "您打分的主要原因是什么？"),
}
NPS = {
    "id": "recommend",
    "type": "nps",
    "text": _localized(
        "How likely are you to recommend us to a friend?", "您向朋友推荐我们的可能性有多大？"
    ),
}
CSAT = {
    "id": "satisfaction",
    "type": "csat",
    "text": _localized("How satisfied are you with the visit?", "您对本次服务满意吗？"),
}
SURVEYS = (
    {"key": "delivery_nps", "kind": "nps", "title": _localized("Your delivery", "您的交付体验"),
     "questions": [NPS, REASON]},
    {"key": "service_csat", "kind": "csat",
     "title": _localized("Your service visit", "您的保养维修体验"), "questions": [CSAT, REASON]},
    {"key": "resolution_nps", "kind": "nps", "title": _localized("Your case", "您的问题处理"),
     "questions": [NPS, REASON]},
)  # fmt: skip
TRIGGERS = (
    {"touchpoint": "order_delivered", "survey_key": "delivery_nps", "throttle_days": 30},
    {"touchpoint": "service_visit_completed", "survey_key": "service_csat", "throttle_days": 30},
    {"touchpoint": "ticket_resolved", "survey_key": "resolution_nps", "throttle_days": 0},
)


async def surveys(run: Run) -> None:
    """The touchpoint surveys and their triggers, where none are configured yet (a platform
    that has its own keeps them)."""
    stage = "Touchpoint surveys"
    if not await run.offers(stage, "POST /v1/feedback/surveys", "POST /v1/feedback/triggers"):
        return
    admin = run.credentials.admin()
    for survey in SURVEYS:
        found = await run.gateway.get(
            f"/v1/feedback/surveys/{survey['key']}", headers=admin, accept=(200, 404)
        )
        if found.status_code == 404:
            await run.gateway.post("/v1/feedback/surveys", survey, headers=admin, accept=(201, 409))
        run.tally.add("surveys", created=found.status_code == 404, unchanged=found.is_success)
    configured = {
        trigger["touchpoint"]
        for trigger in (await run.gateway.get("/v1/feedback/triggers", headers=admin)).json()
    }
    for trigger in TRIGGERS:
        if trigger["touchpoint"] not in configured:
            await run.gateway.post(
                "/v1/feedback/triggers", trigger, headers=admin, accept=(201, 409)
            )
        new = trigger["touchpoint"] not in configured
        run.tally.add("survey triggers", created=new, unchanged=not new)
