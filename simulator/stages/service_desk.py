"""The service desk as a car maker's CX administrator sets it up before the first case arrives
(DESIGN.md scenario 1): queues, SLA policies by case kind and priority, routing rules, and each
dealer's opening hours and manager. Complaints go to first-line customer service around the
clock (30 minutes to a first response for a high-priority one), at the dealer in the owner's
city, with the product software team watching smart-key complaints; leads and test drives go to
the dealer's sales team and service work to its service station, on the dealer's clock.

Each item is found again by what identifies it (a queue by key, a policy by kind and priority,
a rule by name, a dealer's settings by dealer) and changed only when it differs, so a re-run
changes nothing. `simulator.stages.casework` then has agents and dealers work the cases."""

from collections.abc import Callable

from simulator.context import Run

FIRST_LINE = "first_line"
SERVICE_STATION = "service_station"
SALES = "dealer_sales"
FIRST_LINE_AGENTS = ("agent.li@cem.local", "agent.wang@cem.local", "agent.chen@cem.local")
SOFTWARE_TEAM = "product-software@cem.local"
ENERGY_TEAM = "charging-and-battery@cem.local"
QUEUES = (
    {"key": FIRST_LINE, "name": "First-line customer service",
     "manager": "cx-lead@cem.local", "members": list(FIRST_LINE_AGENTS)},
    # The dealers' own people work these; a breach reminds the dealer's manager.
    {"key": SERVICE_STATION, "name": "Dealer service station", "manager": None, "members": []},
    {"key": SALES, "name": "Dealer sales follow-up", "manager": None, "members": []},
)  # fmt: skip

# A dealer's day: showrooms and workshops in China open every day, closed over Spring Festival.
OPENING_HOURS = [["08:30:00", "18:00:00"]]
DEALER_DAY_MINUTES = 570
SPRING_FESTIVAL = ("2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
                   "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08")  # fmt: skip


def _policy(name, kind, priority, first, resolution, *, business_hours=False) -> dict:
    return {"name": name, "kind": kind, "priority": priority, "first_response_minutes": first,
            "resolution_minutes": resolution, "business_hours": business_hours}  # fmt: skip


HOUR, DAY = 60, 24 * 60
SLA_POLICIES = (
    # First-line customer service answers around the clock.
    _policy("Urgent complaint", "complaint", "urgent", 10, DAY),
    _policy("High-priority complaint", "complaint", "high", 30, 2 * DAY),
    _policy("Complaint", "complaint", "normal", 4 * HOUR, 5 * DAY),
    _policy("Low-priority complaint", "complaint", "low", 8 * HOUR, 10 * DAY),
    _policy("Owner inquiry", "inquiry", None, 8 * HOUR, 3 * DAY),
    # Dealers' work runs on the dealer's clock (targets in opening minutes). Leads and test
    # drives are kind-wide: an administrator may tighten them without a rule per priority.
    _policy("Lead follow-up", "lead_follow_up", None, HOUR, 3 * DEALER_DAY_MINUTES,
            business_hours=True),
    _policy("Test drive request", "test_drive", None, 30, 5 * DEALER_DAY_MINUTES,
            business_hours=True),
    _policy("Service booking", "service_booking", None, 2 * HOUR, 5 * DEALER_DAY_MINUTES,
            business_hours=True),
    _policy("Proactive service campaign", "proactive_service", None, DEALER_DAY_MINUTES,
            10 * DEALER_DAY_MINUTES, business_hours=True),
)  # fmt: skip


def _rule(name, position, kinds, *, queue=None, dealers="none", watchers=(), **more) -> dict:
    conditions = {"kinds": kinds} | more
    return {"name": name, "position": position, "enabled": True, "conditions": conditions,
            "queue": queue, "dealer_strategy": dealers, "dealer_id": None,
            "watchers": list(watchers)}  # fmt: skip


# Tried in order after any rule an administrator placed before them (positions below 100).
ROUTING_RULES = (
    _rule("Complaints to first-line customer service", 100, ["complaint"],
          queue=FIRST_LINE, dealers="owner_city"),
    _rule("Owner inquiries to first-line customer service", 110, ["inquiry"],
          queue=FIRST_LINE, dealers="servicing_dealer"),
    _rule("Leads and test drives to the dealer's sales team", 120,
          ["lead_follow_up", "test_drive"], queue=SALES, dealers="owner_city"),
    _rule("Service work to the servicing dealer's station", 130,
          ["service_booking", "proactive_service"], queue=SERVICE_STATION,
          dealers="servicing_dealer"),
    _rule("The product software team watches key and software complaints", 140,
          ["complaint"], watchers=[SOFTWARE_TEAM], categories=["smart_key", "ota", "infotainment"]),
    _rule("The charging and battery team watches energy complaints", 150,
          ["complaint"], watchers=[ENERGY_TEAM], categories=["charging", "battery_range"]),
)  # fmt: skip


async def configure(run: Run) -> None:
    stage = "Service desk: queues, SLA policies, routing"
    if not await run.offers(
        stage,
        "POST /v1/tickets/queues",
        "PUT /v1/tickets/queues/{key}",
        "POST /v1/tickets/sla-policies",
        "PUT /v1/tickets/sla-policies/{policy_id}",
        "POST /v1/tickets/routing-rules",
        "PUT /v1/tickets/routing-rules/{rule_id}",
        "PUT /v1/tickets/dealers/{dealer_id}/settings",
    ):
        return
    task = run.stage(stage, total=4)
    admin = run.credentials.admin()
    queues = [queue async for queue in run.gateway.items("/v1/tickets/queues", headers=admin)]
    await _upsert(run, "queues", QUEUES, queues, lambda q: q["key"], lambda q: q["key"])
    run.progress.advance(task)
    policies = (await run.gateway.get("/v1/tickets/sla-policies", headers=admin)).json()
    await _upsert(run, "sla-policies", SLA_POLICIES, policies, _kind_and_priority, _id)
    run.progress.advance(task)
    rules = (await run.gateway.get("/v1/tickets/routing-rules", headers=admin)).json()
    await _upsert(run, "routing-rules", ROUTING_RULES, rules, lambda r: r["name"], _id)
    run.progress.advance(task)
    for dealer in run.world.dealers:
        await _dealer_settings(run, run.dealer_ids[dealer.index], dealer.code)
    run.progress.advance(task)


def _kind_and_priority(policy: dict) -> tuple:
    return policy["kind"], policy["priority"]


def _id(item: dict) -> str:
    return item["id"]


async def _upsert(
    run: Run,
    path: str,
    wanted: tuple[dict, ...],
    existing: list[dict],
    identity: Callable[[dict], object],
    address: Callable[[dict], str],
) -> None:
    """Creates what is missing and puts back what differs from `wanted`."""
    admin = run.credentials.admin()
    found = {identity(item): item for item in existing}
    for item in wanted:
        current = found.get(identity(item))
        if current is None:
            await run.gateway.post(f"/v1/tickets/{path}", item, headers=admin)
            outcome = "created"
        elif _differs(current, item):
            body = {field: value for field, value in item.items() if field != "key"}
            await run.gateway.request(
                "PUT", f"/v1/tickets/{path}/{address(current)}", headers=admin, body=body
            )
            outcome = "updated"
        else:
            outcome = "unchanged"
        run.tally.add("service desk setup", **{outcome: 1})


def _differs(current: dict, wanted: dict) -> bool:
    """Whether an item as read differs from the wanted one (conditions are read with every
    list, the unused ones empty)."""
    return any(_used(current.get(field)) != _used(value) for field, value in wanted.items())


def _used(value: object) -> object:
    return {key: item for key, item in value.items() if item} if isinstance(value, dict) else value


def dealer_settings(code: str) -> dict:
    return {
        "time_zone": "Asia/Shanghai",
        "weekly_hours": {day: OPENING_HOURS for day in
                         ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        "holidays": list(SPRING_FESTIVAL),
        "manager": f"manager.{code.lower()}@dealers.cem.local",
    }  # fmt: skip


async def _dealer_settings(run: Run, dealer_id: str, code: str) -> None:
    admin = run.credentials.admin()
    path = f"/v1/tickets/dealers/{dealer_id}/settings"
    wanted = dealer_settings(code)
    current = await run.gateway.get(path, headers=admin, accept=(200, 404))
    if current.status_code == 200 and not _differs(current.json(), wanted):
        run.tally.add("service desk setup", unchanged=1)
        return
    await run.gateway.request("PUT", path, headers=admin, body=wanted)
    run.tally.add(
        "service desk setup", **{"created" if current.status_code == 404 else "updated": 1}
    )
