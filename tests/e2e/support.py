"""What every scenario needs, done as a user would through the gateway: dealers with keys in a
city of the test's own, owners with cars, the callers' credentials, and waiting for what the
platform does on its own (events between services) to show in the API."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from shared.auth import CallerKind, StaffRole
from tests.e2e.conftest import ADMIN, Dealer, bearer
from tests.helpers import eventually
from tests.profile.conftest import make_vin

CX_AGENT = bearer(CallerKind.STAFF, "agent@cem.test", StaffRole.CX_AGENT)
QUALITY = bearer(CallerKind.STAFF, "quality@cem.test", StaffRole.QUALITY_ENGINEER)
MARKETING = bearer(CallerKind.STAFF, "marketing@cem.test", StaffRole.MARKETING)
COMMUNITY_CONNECTOR = bearer(CallerKind.SERVICE, "community-connector")
VEHICLE_GATEWAY = bearer(CallerKind.SERVICE, "vehicle-gateway")
# Events cross two or three services before they show; the machine may be busy.
WAIT_SECONDS = 60.0


def bearer_of_owner(owner_id: str) -> dict[str, str]:
    return bearer(CallerKind.OWNER, owner_id)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@dataclass
class Owner:
    id: str
    headers: dict[str, str]
    vin: str
    vehicle_id: str


def ok(response: httpx.Response, *statuses: int) -> Any:
    """The body of a response whose status is one of `statuses` (200 or 201 by default)."""
    assert response.status_code in (statuses or (200, 201)), (
        f"{response.request.method} {response.request.url.path} -> "
        f"{response.status_code}: {response.text[:800]}"
    )
    return response.json() if response.content else None


async def dealer_in(gateway: httpx.AsyncClient, city: str, *, region: str = "East") -> Dealer:
    """A dealer in `city`, with a DMS key once the gateway has learnt of it."""
    code = f"E{uuid.uuid4().hex[:8]}"
    body = {"code": code, "name": f"Dealer {code}", "city": city, "region": region}
    dealer_id = ok(await gateway.post("/v1/profile/dealers", json=body, headers=ADMIN))["id"]
    issued: dict = {}

    async def key_issued() -> bool:
        response = await gateway.post(f"/v1/gateway/dealers/{dealer_id}/keys", headers=ADMIN)
        if response.status_code == 201:
            issued.update(response.json())
        return bool(issued)

    await eventually(key_issued, within_seconds=WAIT_SECONDS)
    return Dealer(id=dealer_id, code=code, headers={"X-API-Key": issued["key"]})


async def owner_with_car(
    gateway: httpx.AsyncClient,
    dealer: Dealer,
    *,
    city: str | None = None,
    name: str = "Wang Fang",
    model: str = "ET5",
    language: str = "en",
    components: list[dict] | None = None,
    delivery_date: str | None = None,
    email: str | None = None,
) -> Owner:
    """An owner the dealer registers, with a car it sold them."""
    body = {"full_name": name, "city": city, "preferred_language": language}
    if email:
        body["email"] = email
    owner = ok(await gateway.post("/v1/profile/owners", json=body, headers=dealer.headers))
    vin = make_vin()
    car = {"vin": vin, "model": model, "owner_id": owner["id"], "components": components or []}
    if delivery_date:
        car["delivery_date"] = delivery_date
    vehicle = ok(await gateway.post("/v1/profile/vehicles", json=car, headers=dealer.headers))
    return Owner(owner["id"], bearer_of_owner(owner["id"]), vin, vehicle["id"])


async def wait_for(
    read: Callable[[], Awaitable[Any]],
    holds: Callable[[Any], bool],
    *,
    within_seconds: float = WAIT_SECONDS,
) -> Any:
    """Reads until what is read `holds`, and returns it (the last read names the failure)."""
    seen: list = [None]

    async def check() -> bool:
        seen[0] = await read()
        return bool(holds(seen[0]))

    try:
        await eventually(check, within_seconds=within_seconds)
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen: {str(seen[0])[:1500]}") from None
    return seen[0]


def getter(
    gateway: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> Callable[[], Awaitable[Any]]:
    """A read of `path` that yields its body when it answers 200, else None."""

    async def read() -> Any:
        response = await gateway.get(path, headers=headers, params=params)
        return response.json() if response.status_code == 200 else None

    return read


async def items_where(
    gateway: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    holds: Callable[[dict], bool],
    **params: Any,
) -> list[dict]:
    """Waits until the list at `path` has an item that `holds`; returns all such items."""
    read = getter(gateway, path, headers, limit=100, **params)
    page = await wait_for(read, lambda page: page and any(holds(i) for i in page["items"]))
    return [item for item in page["items"] if holds(item)]


async def known_to_tickets(gateway: httpx.AsyncClient, owner: Owner, city: str | None) -> None:
    """Tickets learns the owner's city from profile's events (it routes by it)."""
    export = getter(gateway, f"/v1/tickets/privacy/owners/{owner.id}/export", owner.headers)
    await wait_for(
        export,
        lambda body: body and body["profile"] and body["profile"]["city"] == city
        and any(v["vin"] == owner.vin for v in body["vehicles"]),
    )  # fmt: skip


async def known_to_telematics(gateway: httpx.AsyncClient, vin: str) -> None:
    await wait_for(
        getter(gateway, f"/v1/telematics/vehicles/{vin}", ADMIN), lambda body: body is not None
    )


async def survey_with_trigger(
    gateway: httpx.AsyncClient, *, key: str, kind: str, touchpoint: str, throttle_days: int = 0
) -> None:
    """A survey sent at `touchpoint`, set up unless the platform already has one there; one
    already there (the demo's, say) is made to throttle no longer than the test expects, or an
    owner surveyed at delivery would not be asked again after a service visit."""
    question = {"id": "score", "type": kind, "text": {"en": "How did we do?", "zh": "您的评价"}}
    survey = {
        "key": key,
        "kind": kind,
        "title": {"en": "Your experience", "zh": "您的体验"},
        "questions": [question, {"id": "reason", "type": "text", "required": False,
                                 "text": {"en": "Why?", "zh": "原因"}}],
    }  # fmt: skip
    response = await gateway.post("/v1/feedback/surveys", json=survey, headers=ADMIN)
    ok(response, 201, 409)
    triggers = ok(await gateway.get("/v1/feedback/triggers", headers=ADMIN))
    existing = [t for t in triggers if t["touchpoint"] == touchpoint and t["enabled"]]
    if not existing:
        trigger = {"touchpoint": touchpoint, "survey_key": key, "throttle_days": throttle_days}
        ok(await gateway.post("/v1/feedback/triggers", json=trigger, headers=ADMIN), 201)
    for trigger in existing:
        if trigger["throttle_days"] > throttle_days:
            fields = ("touchpoint", "survey_key", "delay_minutes", "enabled")
            body = {name: trigger[name] for name in fields} | {"throttle_days": throttle_days}
            path = f"/v1/feedback/triggers/{trigger['id']}"
            ok(await gateway.put(path, json=body, headers=ADMIN))


async def answer(
    gateway: httpx.AsyncClient, invitation: dict, owner: Owner, score: int, comment: str
) -> dict:
    """The owner answers an invitation from the app: `score` to its scored question (whatever
    the survey calls it) and `comment` as the reason."""
    surveys = ok(await gateway.get("/v1/feedback/surveys", params={"limit": 100}, headers=ADMIN))
    survey = next(s for s in surveys["items"] if s["id"] == invitation["template_id"])
    scored = next(q["id"] for q in survey["questions"] if q["type"] in ("nps", "csat"))
    response = await gateway.post(
        f"/v1/feedback/invitations/{invitation['id']}/response",
        json={"answers": {scored: score}, "comment": comment},
        headers=owner.headers,
    )
    return ok(response, 201)


async def sla_policy(
    gateway: httpx.AsyncClient, *, kind: str, priority: str | None, first: int, resolution: int
) -> dict:
    """The SLA policy for (kind, priority), created or changed to these targets (minutes)."""
    body = {
        "name": f"{kind} {priority or 'any'}",
        "kind": kind,
        "priority": priority,
        "first_response_minutes": first,
        "resolution_minutes": resolution,
    }
    policies = ok(await gateway.get("/v1/tickets/sla-policies", headers=ADMIN))
    same = [p for p in policies if (p["kind"], p["priority"]) == (kind, priority)]
    if same:
        path = f"/v1/tickets/sla-policies/{same[0]['id']}"
        return ok(await gateway.put(path, json=body, headers=ADMIN))
    return ok(await gateway.post("/v1/tickets/sla-policies", json=body, headers=ADMIN), 201)


async def dealer_manager(gateway: httpx.AsyncClient, dealer: Dealer, manager: str) -> None:
    """The dealer's manager, reminded when one of its cases breaches its SLA."""
    week = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    body = {"time_zone": "Asia/Shanghai", "weekly_hours": week, "manager": manager}
    ok(await gateway.put(f"/v1/tickets/dealers/{dealer.id}/settings", json=body, headers=ADMIN))


async def consent(
    gateway: httpx.AsyncClient, owner: Owner, purpose: str, channel: str, granted: bool = True
) -> dict:
    """The owner's answer in the app to one consent question."""
    body = {"purpose": purpose, "channel": channel, "granted": granted,
            "notice_version": "2026-01", "source": "app"}  # fmt: skip
    path = f"/v1/profile/owners/{owner.id}/consents"
    return ok(await gateway.put(path, json=body, headers=owner.headers))


DRIVE_GEAR, PARK_GEAR = 127, 126


def trip(
    vin: str,
    start: datetime,
    odometer_km: float,
    distance_km: float,
    *,
    assisted: bool = False,
    app: str | None = None,
    destination: str | None = None,
    dtcs: list[str] | None = None,
    minutes: int = 20,
) -> list[dict]:
    """What a vehicle gateway forwards of one drive, a sample a minute, then the car parked
    long enough for telematics to close the trip."""
    samples = []
    for minute in range(minutes + 1):
        moving = 0 < minute < minutes
        signals = {
            "Vehicle.Speed": 45.0 if moving else 0.0,
            "Vehicle.TraveledDistance": (odometer_km + distance_km * minute / minutes) * 1000,
            "Vehicle.Powertrain.Transmission.SelectedGear": DRIVE_GEAR if moving else PARK_GEAR,
            "Vehicle.ADAS.CruiseControl.IsActive": assisted and moving,
            "Vehicle.Cabin.Infotainment.ActiveApp": app,
            "Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Category": destination,
        }
        if dtcs is not None and minute == 0:
            signals["Vehicle.Diagnostics.DTCList"] = dtcs
        at = start + timedelta(minutes=minute)
        samples.append({"vin": vin, "ts": at.isoformat(), "signals": signals})
    parked = dict(samples[-1]["signals"])
    at = start + timedelta(minutes=minutes, seconds=360)
    samples.append({"vin": vin, "ts": at.isoformat(), "signals": parked})
    return samples


async def send_signals(gateway: httpx.AsyncClient, samples: list[dict]) -> None:
    """Sends the samples as the vehicle gateway, once telematics knows every vehicle."""

    async def sent() -> dict:
        response = await gateway.post("/v1/telematics/signals", json=samples,
                                      headers=VEHICLE_GATEWAY)  # fmt: skip
        return ok(response)

    await wait_for(sent, lambda result: result["rejected"] == 0)


async def segments_of(gateway: httpx.AsyncClient, owner: Owner) -> set[str]:
    path = f"/v1/profile/owners/{owner.id}/segments"
    return {m["segment_key"] for m in ok(await gateway.get(path, headers=ADMIN))}


async def inbox(gateway: httpx.AsyncClient, owner: Owner) -> list[dict]:
    page = ok(await gateway.get("/v1/journeys/messages", params={"limit": 100},
                                headers=owner.headers))  # fmt: skip
    return page["items"]


async def decisions(gateway: httpx.AsyncClient, owner: Owner, journey: str) -> list[dict]:
    path = f"/v1/journeys/owners/{owner.id}/decisions"
    page = ok(await gateway.get(path, params={"journey_key": journey, "limit": 100},
                                headers=ADMIN))  # fmt: skip
    return page["items"]


async def install_journey(gateway: httpx.AsyncClient, template: str, *, activate=True) -> str:
    """Installs a shipped journey template under a key of its own; returns the key."""
    key = unique(template[:24])
    body = {"template": template, "key": key}
    ok(await gateway.post("/v1/journeys/definitions/from-template", json=body, headers=ADMIN), 201)
    if activate:
        await activate_journey(gateway, key)
    return key


async def activate_journey(gateway: httpx.AsyncClient, key: str) -> None:
    path = f"/v1/journeys/definitions/{key}/versions/1/transitions"
    ok(await gateway.post(path, json={"to": "active"}, headers=ADMIN))
