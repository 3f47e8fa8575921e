"""Driver changes: adding or ending a primary or secondary driver publishes who drives the
vehicle from that day, and shows in the timelines of its owner and of the driver."""

from tests.profile.conftest import create_owner, dms_batch, events_after, last_seq, owner_caller

CHANGED = "cem.profile.vehicle.drivers_changed.v1"


async def imported_vehicle(dealer) -> dict:
    assert (await dealer.post("/imports", json=dms_batch(owner_ref="DRV"))).status_code == 200
    return (await dealer.get("/vehicles")).json()["items"][-1]


async def add_driver(dealer, vehicle: dict, owner_id: str, role: str, day: str):
    body = {"owner_id": owner_id, "role": role, "effective_from": day}
    return await dealer.post(f"/vehicles/{vehicle['id']}/drivers", json=body)


async def test_each_driver_change_publishes_who_drives_from_that_day(
    client_as, dealer_a, profile_app
):
    dealer = client_as(dealer_a)
    vehicle = await imported_vehicle(dealer)
    spouse, child = await create_owner(dealer), await create_owner(dealer)
    before = await last_seq(profile_app)

    roles = (await add_driver(dealer, vehicle, spouse, "primary_driver", "2026-02-01")).json()
    await add_driver(dealer, vehicle, child, "secondary_driver", "2026-03-01")
    refused = await add_driver(dealer, vehicle, child, "primary_driver", "2026-03-02")
    assert refused.status_code == 409  # a refused change publishes nothing
    primary = next(role for role in roles if role["role"] == "primary_driver")
    ended = await dealer.post(
        f"/vehicles/{vehicle['id']}/roles/{primary['id']}/end", json={"effective_to": "2026-04-01"}
    )
    assert ended.status_code == 200

    events = await events_after(profile_app, before, CHANGED)
    assert [(e["driver_id"], e["role"], e["change"], e["effective_on"]) for e in events] == [
        (spouse, "primary_driver", "added", "2026-02-01"),
        (child, "secondary_driver", "added", "2026-03-01"),
        (spouse, "primary_driver", "ended", "2026-04-01"),
    ]
    drivers = [(e["primary_driver_id"], e["secondary_driver_ids"]) for e in events]
    assert drivers == [(spouse, []), (spouse, [child]), (None, [child])]
    assert {(e["vehicle_id"], e["vin"], e["owner_id"]) for e in events} == {
        (vehicle["id"], vehicle["vin"], vehicle["owner_id"])
    }


async def test_driver_changes_are_in_the_owners_and_the_drivers_timelines(
    client_as, dealer_a, dealer_b
):
    dealer = client_as(dealer_a)
    vehicle = await imported_vehicle(dealer)
    driver = await create_owner(dealer)
    roles = (await add_driver(dealer, vehicle, driver, "primary_driver", "2026-02-01")).json()
    primary = next(role for role in roles if role["role"] == "primary_driver")
    await dealer.post(
        f"/vehicles/{vehicle['id']}/roles/{primary['id']}/end", json={"effective_to": "2026-04-01"}
    )

    def driver_items(view: dict) -> list[tuple[str, str]]:
        return sorted(
            (item["at"][:10], item["kind"])
            for item in view["timeline"]
            if item["kind"].startswith("driver.")
        )

    expected = [("2026-02-01", "driver.added"), ("2026-04-01", "driver.ended")]
    owner_id = vehicle["owner_id"]
    owners_view = (await client_as(owner_caller(owner_id)).get(f"/owners/{owner_id}/360")).json()
    assert driver_items(owners_view) == expected
    item = next(i for i in owners_view["timeline"] if i["kind"] == "driver.added")
    assert vehicle["vin"] in item["summary"] and "primary driver" in item["summary"]
    drivers_view = (await dealer.get(f"/owners/{driver}/360")).json()
    assert driver_items(drivers_view) == expected
    assert (await client_as(dealer_b).get(f"/owners/{driver}/360")).status_code == 404
