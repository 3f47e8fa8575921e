"""Journeys in the running platform, through the gateway only: a dealer registers an owner
and their car in profile, journeys learns of them from profile's events, a quality engineer
imports a recall, and the owner reads the notice in their inbox (nobody else can)."""

import uuid

import httpx

from shared.auth import CallerKind, StaffRole
from tests.e2e.conftest import ADMIN, bearer, onboard_dealer
from tests.helpers import eventually
from tests.profile.conftest import make_vin

QUALITY = bearer(CallerKind.STAFF, "quality@cem.test", StaffRole.QUALITY_ENGINEER)


async def test_a_recall_reaches_the_owner_through_the_gateway(platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gateway:
        dealer = await onboard_dealer(gateway)
        owner = await gateway.post(
            "/v1/profile/owners",
            headers=dealer.headers,
            json={"full_name": "Li Wei", "preferred_language": "zh"},
        )
        assert owner.status_code == 201, owner.text
        owner_id = owner.json()["id"]
        vin = make_vin()
        vehicle = await gateway.post(
            "/v1/profile/vehicles",
            headers=dealer.headers,
            json={"vin": vin, "model": "ES8", "owner_id": owner_id},
        )
        assert vehicle.status_code == 201, vehicle.text
        me = bearer(CallerKind.OWNER, owner_id)
        export = f"/v1/journeys/privacy/owners/{owner_id}/export"

        async def journeys_knows_the_car() -> bool:
            response = await gateway.get(export, headers=me)
            return response.status_code == 200 and [
                v["vin"] for v in response.json()["vehicles"]
            ] == [vin]

        await eventually(journeys_knows_the_car, within_seconds=60)
        code = f"RC{uuid.uuid4().hex[:6].upper()}"
        recall = await gateway.post(
            "/v1/journeys/recalls",
            headers=QUALITY,
            json={"code": code, "title_en": "Brake hose", "title_zh": "制动软管", "vins": [vin]},
        )
        assert recall.status_code == 201, recall.text
        assert recall.json()["resolved"] == 1
        inbox: list = []

        async def notice_arrived() -> bool:
            response = await gateway.get("/v1/journeys/messages", headers=me)
            inbox[:] = response.json()["items"] if response.status_code == 200 else []
            return bool(inbox)

        await eventually(notice_arrived, within_seconds=60)
        assert inbox[0]["title"] == f"召回通知 {code}：制动软管"  # noqa: RUF001
        stranger = bearer(CallerKind.OWNER, str(uuid.uuid4()))
        assert (await gateway.get("/v1/journeys/messages", headers=stranger)).json()["items"] == []
        stolen = await gateway.post(
            f"/v1/journeys/messages/{inbox[0]['id']}/read", headers=stranger
        )
        assert stolen.status_code == 404
        assert (await gateway.get(export, headers=stranger)).status_code == 404
        read = await gateway.post(f"/v1/journeys/messages/{inbox[0]['id']}/read", headers=me)
        assert read.status_code == 200 and read.json()["read_at"] is not None
        assert (
            await gateway.get("/v1/journeys/definitions", headers=dealer.headers)
        ).status_code == 403
        assert (await gateway.get("/v1/journeys/definitions", headers=ADMIN)).status_code == 200
