"""Ingestion: durable wide rows, duplicates dropped, per-sample problems, whole-batch errors
that store nothing, who may send, and location kept only with consent."""

import asyncio
import json
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from tests.telematics.conftest import START, new_dealer, new_owner, rows, scalar


async def stored(app, vehicle_id) -> int:
    return await scalar(app, "SELECT count(*) FROM signals WHERE vehicle_id = :v", v=vehicle_id)


async def latest_speed(app, vehicle_id) -> float:
    return await scalar(app, "SELECT speed FROM vehicle_state WHERE vehicle_id = :v", v=vehicle_id)


async def test_a_batch_is_stored_as_wide_rows_and_latest_state(gateway, register, telematics_app):
    (vehicle,) = await register()
    samples = [
        {
            "vin": vehicle.vin,
            "ts": (START + timedelta(seconds=i)).isoformat(),
            "signals": {
                "Vehicle.Speed": 50.0 + i,
                "Vehicle.TraveledDistance": 1000.0 + i * 14,
                "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": 80 - i,
                "Vehicle.Body.Lights.Beam.Low.IsOn": True,  # not catalogued: kept in `extra`
            },
        }
        for i in range(5)
    ]
    result = await gateway.send(samples)
    assert result == {"accepted": 5, "duplicates": 0, "rejected": 0, "problems": []}
    (row,) = await rows(
        telematics_app,
        "SELECT speed, odometer_m, soc, extra FROM signals WHERE vehicle_id = :v "
        "ORDER BY ts DESC LIMIT 1",
        v=vehicle.vehicle_id,
    )
    assert (row.speed, row.odometer_m, row.soc) == (54.0, 1056.0, 76)
    assert row.extra == {"Vehicle.Body.Lights.Beam.Low.IsOn": True}
    state = await rows(
        telematics_app, "SELECT speed, soc FROM vehicle_state WHERE vehicle_id = :v",
        v=vehicle.vehicle_id,
    )  # fmt: skip
    assert [tuple(s) for s in state] == [(54.0, 76)]


async def test_resent_samples_are_counted_as_duplicates(gateway, register, telematics_app):
    (vehicle,) = await register()
    first = [
        {"vin": vehicle.vin, "ts": (START + timedelta(seconds=i)).isoformat(),
         "signals": {"Vehicle.Speed": 10.0}}
        for i in range(3)
    ]  # fmt: skip
    assert (await gateway.send(first))["accepted"] == 3
    again = [*first, {**first[0], "ts": (START + timedelta(seconds=3)).isoformat()}]
    result = await gateway.send([*again, first[1]])  # also twice within one batch
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (1, 4, 0)
    assert await stored(telematics_app, vehicle.vehicle_id) == 4


async def test_a_resent_batch_in_time_order_keeps_only_its_new_rows(
    gateway, register, telematics_app
):
    """In time order, a batch is COPYed straight into `signals`; when part of it was stored
    before, that fails and the whole batch is merged instead: only the new rows count, and
    the latest state and the derivation mark come from them as before."""
    (vehicle, other) = await register(2)

    def sample(car, second: int) -> dict:
        moment = (START + timedelta(seconds=second)).isoformat()
        return {"vin": car.vin, "ts": moment, "signals": {"Vehicle.Speed": float(second)}}

    first = await gateway.send([sample(vehicle, s) for s in range(3)])
    assert (first["accepted"], first["duplicates"]) == (3, 0)
    mine = [vehicle.vehicle_id, other.vehicle_id]
    await scalar(
        telematics_app,
        "UPDATE derivation_cursors SET dirty = false, arrived_from = NULL "
        "WHERE vehicle_id = ANY(:mine) RETURNING 1",
        mine=mine,
    )
    again = [sample(other, 0), *(sample(vehicle, s) for s in range(1, 5))]
    result = await gateway.send(again)
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (3, 2, 0)
    assert await stored(telematics_app, vehicle.vehicle_id) == 5
    assert await stored(telematics_app, other.vehicle_id) == 1
    assert await latest_speed(telematics_app, vehicle.vehicle_id) == 4.0
    marks = await rows(
        telematics_app,
        "SELECT vehicle_id, arrived_from FROM derivation_cursors "
        "WHERE dirty AND vehicle_id = ANY(:mine) ORDER BY arrived_from",
        mine=mine,
    )
    assert [(m.vehicle_id, m.arrived_from) for m in marks] == [
        (other.vehicle_id, START), (vehicle.vehicle_id, START + timedelta(seconds=3))
    ]  # fmt: skip


def _seconds(car, first: int, count: int) -> list[dict]:
    """One sample a second from `first`, the speed telling the second."""
    return [
        {"vin": car.vin, "ts": (START + timedelta(seconds=second)).isoformat(),
         "signals": {"Vehicle.Speed": float(second)}}
        for second in range(first, first + count)
    ]  # fmt: skip


def _commits() -> tuple[float, float]:
    """Transactions of grouped gateway batches so far, and the batches they held."""
    name = "cem_telematics_batches_per_commit"
    return REGISTRY.get_sample_value(f"{name}_count"), REGISTRY.get_sample_value(f"{name}_sum")


async def test_batches_sent_at_once_are_stored_together_each_with_its_counts(
    gateway, register, telematics_app
):
    """A vehicle gateway's batches that arrive while others are being stored share a
    transaction; each answer still counts its own batch, and every row is there."""
    cars = await register(3)
    commits, held = _commits()
    batches = [_seconds(car, 60 * i, 20) for car in cars for i in range(3)]
    results = await asyncio.gather(*(gateway.send(batch) for batch in batches))
    assert [(r["accepted"], r["duplicates"]) for r in results] == [(20, 0)] * 9
    for car in cars:
        assert await stored(telematics_app, car.vehicle_id) == 60
        assert await latest_speed(telematics_app, car.vehicle_id) == 139.0
    after_commits, after_held = _commits()
    assert after_held - held == 9
    assert after_commits - commits < 9  # some went in together


async def test_a_group_with_repeats_is_stored_batch_by_batch_dropping_them(
    gateway, register, telematics_app
):
    """Rows stored before, or the same rows in two batches of a group, make the group go one
    batch at a time, the way that drops repeats: each answer counts its own."""
    (resending, doubled, fresh) = await register(3)
    await gateway.send(_seconds(resending, 0, 10))
    results = await asyncio.gather(
        gateway.send(_seconds(resending, 5, 10)),  # 5-9 stored before
        gateway.send(_seconds(doubled, 0, 10)),
        gateway.send(_seconds(doubled, 5, 10)),  # 5-9 in the batch before too
        gateway.send(_seconds(fresh, 0, 10)),
    )
    counts = [(r["accepted"], r["duplicates"]) for r in results]
    assert counts[0] == (5, 5) and counts[3] == (10, 0)
    assert sum(a for a, _ in counts[1:3]) == 15 and sum(d for _, d in counts[1:3]) == 5
    cars = (resending, doubled, fresh)
    assert [await stored(telematics_app, car.vehicle_id) for car in cars] == [15, 15, 10]


async def test_a_batch_out_of_time_order_is_stored_whole(gateway, register, telematics_app):
    (vehicle,) = await register()
    seconds = [4, 0, 2, 1, 3]
    samples = [
        {"vin": vehicle.vin, "ts": (START + timedelta(seconds=s)).isoformat(),
         "signals": {"Vehicle.Speed": float(s)}}
        for s in seconds
    ]  # fmt: skip
    result = await gateway.send(samples)
    assert (result["accepted"], result["duplicates"]) == (5, 0)
    assert await stored(telematics_app, vehicle.vehicle_id) == 5
    assert await latest_speed(telematics_app, vehicle.vehicle_id) == 4.0


async def test_ndjson_is_accepted(gateway, register):
    (vehicle,) = await register()
    lines = "\n".join(
        json.dumps({"vin": vehicle.vin, "ts": (START + timedelta(seconds=i)).isoformat(),
                    "signals": {"Vehicle.Speed": 1.0}})
        for i in range(4)
    )  # fmt: skip
    response = await gateway.post(
        "/signals", content=lines + "\n", headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 4


async def test_wrong_types_and_unknown_vins_are_rejected_per_sample(
    gateway, register, telematics_app
):
    (vehicle,) = await register()
    samples = [
        {"vin": vehicle.vin, "ts": START.isoformat(), "signals": {"Vehicle.Speed": "fast"}},
        {"vin": "LUNKNOWN000000000", "ts": START.isoformat(), "signals": {"Vehicle.Speed": 1}},
        {"vin": vehicle.vin, "ts": (START + timedelta(seconds=1)).isoformat(),
         "signals": {"Vehicle.Diagnostics.DTCList": "P0480"}},
        {"vin": vehicle.vin, "ts": (START + timedelta(seconds=2)).isoformat(),
         "signals": {"Vehicle.Speed": 12.5}},
    ]  # fmt: skip
    result = await gateway.send(samples)
    assert (result["accepted"], result["rejected"]) == (1, 3)
    assert [(p["index"], p["field"]) for p in result["problems"]] == [
        (0, "body.0.signals.Vehicle.Speed"),
        (1, "body.1.vin"),
        (2, "body.2.signals.Vehicle.Diagnostics.DTCList"),
    ]
    assert result["problems"][1]["message"] == "unknown vehicle"
    assert await stored(telematics_app, vehicle.vehicle_id) == 1


GOOD = '{"vin": "%s", "ts": "2026-03-02T01:00:00Z", "signals": {"Vehicle.Speed": 1}}'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ('{"vin": "X"}', "body"),
        ("[]", "body"),
        # After one good sample: the batch is refused whole, the good one is not stored.
        ('[GOOD, {"ts": "2026-03-02T01:00:00Z"}]', "body.1"),
        ('[GOOD, {"vin": "V", "ts": "yesterday"}]', "body.1.ts"),
        ('[GOOD, {"vin": "V", "ts": "2026-03-02T01:00:00"}]', "body.1.ts"),  # no time zone
        ('[GOOD, {"vin": "V", "ts": "2026-03-02T01:00:00Z", "signal": {}}]', "body.1.signal"),
        # Beyond a 64-bit float: not a number JSON can carry.
        (
            '[GOOD, {"vin": "V", "ts": "2026-03-02T01:00:00Z", "signals": {"S": 1e400}}]',
            "body.1.signals",
        ),
    ],
)
async def test_a_malformed_batch_is_refused_whole_and_stores_nothing(
    gateway, register, telematics_app, body, field
):
    (vehicle,) = await register()
    payload = body.replace("GOOD", GOOD % vehicle.vin)
    response = await gateway.post(
        "/signals", content=payload, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert problem["detail"].startswith(field)
    assert await stored(telematics_app, vehicle.vehicle_id) == 0


async def test_an_oversized_batch_is_refused_whole(gateway, register, telematics_app):
    (vehicle,) = await register()
    samples = [
        {"vin": vehicle.vin, "ts": (START + timedelta(seconds=i)).isoformat()} for i in range(2001)
    ]
    response = await gateway.post("/signals", json=samples)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert await stored(telematics_app, vehicle.vehicle_id) == 0


async def test_a_dealer_sends_only_for_its_own_vehicles(client_as, register, telematics_app):
    dealer, other = new_dealer(), new_dealer()
    (own,) = await register(dealer=dealer)
    (theirs,) = await register(dealer=other)
    samples = [
        {"vin": vin, "ts": START.isoformat(), "signals": {"Vehicle.Speed": 3.0}}
        for vin in (own.vin, theirs.vin)
    ]
    result = await client_as(dealer).send(samples)
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert result["problems"][0] == {
        "index": 1, "vin": theirs.vin, "field": "body.1.vin", "message": "unknown vehicle"
    }  # fmt: skip
    assert await stored(telematics_app, theirs.vehicle_id) == 0


@pytest.mark.parametrize("caller", [new_owner(), None])
async def test_owners_and_anonymous_callers_cannot_send(client_as, caller):
    response = await client_as(caller).post("/signals", json=[])
    assert response.status_code == (403 if caller else 401)


async def test_location_is_kept_only_with_consent(gateway, register, telematics_app):
    consenting, refusing = new_owner(), new_owner()
    (kept,) = await register(owner=consenting, location_consent=True)
    (dropped,) = await register(owner=refusing)
    location = {
        "Vehicle.CurrentLocation.Latitude": 31.23,
        "Vehicle.CurrentLocation.Longitude": 121.47,
        "Vehicle.Speed": 20.0,
    }
    await gateway.send(
        [{"vin": v.vin, "ts": START.isoformat(), "signals": location} for v in (kept, dropped)]
    )
    located = await rows(
        telematics_app,
        "SELECT vehicle_id, latitude, speed FROM signals WHERE vehicle_id = ANY(:ids)",
        ids=[kept.vehicle_id, dropped.vehicle_id],
    )
    by_vehicle = {row.vehicle_id: (row.latitude, row.speed) for row in located}
    assert by_vehicle == {kept.vehicle_id: (31.23, 20.0), dropped.vehicle_id: (None, 20.0)}


async def test_location_tracks_expire_after_the_retention(
    gateway, register, telematics_app, retention, clock
):
    owner = new_owner()
    (vehicle,) = await register(owner=owner, location_consent=True)
    old = clock.now - timedelta(days=40)
    await gateway.send(
        [
            {"vin": vehicle.vin, "ts": moment.isoformat(),
             "signals": {"Vehicle.CurrentLocation.Latitude": 31.0, "Vehicle.Speed": 5.0}}
            for moment in (old, clock.now - timedelta(days=1))
        ]
    )  # fmt: skip
    await retention.run_once()
    located = await rows(
        telematics_app,
        "SELECT latitude, speed FROM signals WHERE vehicle_id = :v ORDER BY ts",
        v=vehicle.vehicle_id,
    )
    assert [tuple(row) for row in located] == [(None, 5.0), (31.0, 5.0)]


@pytest.mark.parametrize(
    ("signal", "raw", "message"),
    [
        ("Vehicle.Speed", "true", "must be a number"),
        ("Vehicle.Powertrain.Transmission.SelectedGear", "1.5", "must be a 32-bit integer"),
        ("Vehicle.Powertrain.Transmission.SelectedGear", "99999999999", "must be a 32-bit integer"),
        ("Vehicle.ADAS.CruiseControl.IsActive", "1", "must be true or false"),
        ("Vehicle.Diagnostics.DTCList", '["P0480", 7]', "must be a list of strings"),
    ],
)
async def test_each_kind_of_signal_checks_its_values(gateway, register, signal, raw, message):
    (vehicle,) = await register()
    sample = (
        f'{{"vin": "{vehicle.vin}", "ts": "{START.isoformat()}", "signals": {{"{signal}": RAW}}}}'
    )
    body = "[" + sample.replace("RAW", raw) + "]"
    response = await gateway.post(
        "/signals", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    (problem,) = response.json()["problems"]
    assert problem == {
        "index": 0, "vin": vehicle.vin, "field": f"body.0.signals.{signal}", "message": message
    }  # fmt: skip


async def test_samples_are_stored_to_the_second(gateway, register, telematics_app):
    """Two samples within one second are one row: the later one is a duplicate."""
    (vehicle,) = await register()
    samples = [
        {"vin": vehicle.vin, "ts": (START + timedelta(milliseconds=ms)).isoformat(),
         "signals": {"Vehicle.Speed": float(ms)}}
        for ms in (250, 750, 1100)
    ]  # fmt: skip
    result = await gateway.send(samples)
    assert (result["accepted"], result["duplicates"]) == (2, 1)
    stored_rows = await rows(
        telematics_app,
        "SELECT ts, speed FROM signals WHERE vehicle_id = :v ORDER BY ts",
        v=vehicle.vehicle_id,
    )
    assert [(row.ts, row.speed) for row in stored_rows] == [
        (START, 250.0), (START + timedelta(seconds=1), 1100.0)
    ]  # fmt: skip


async def test_ndjson_lines_with_unknown_signals_or_bad_values_go_the_long_way(
    gateway, register, telematics_app
):
    """A line the typed decoder refuses is decoded as it came and checked signal by signal."""
    (vehicle,) = await register()
    lines = [
        {"vin": vehicle.vin, "ts": START.isoformat(), "signals": {"Vehicle.Speed": 3}},
        {"vin": vehicle.vin, "ts": (START + timedelta(seconds=1)).isoformat(),
         "signals": {"Vehicle.Speed": 4.0, "Vehicle.Cabin.Door.Row1.IsOpen": False}},
        {"vin": vehicle.vin, "ts": (START + timedelta(seconds=2)).isoformat(),
         "signals": {"Vehicle.Speed": "fast"}},
    ]  # fmt: skip
    response = await gateway.post(
        "/signals",
        content="\n".join(json.dumps(line) for line in lines),
        headers={"content-type": "application/x-ndjson"},
    )
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (2, 1)
    assert result["problems"][0]["field"] == "body.2.signals.Vehicle.Speed"
    stored_rows = await rows(
        telematics_app,
        "SELECT speed, extra FROM signals WHERE vehicle_id = :v ORDER BY ts",
        v=vehicle.vehicle_id,
    )
    assert [(row.speed, row.extra) for row in stored_rows] == [
        (3.0, None), (4.0, {"Vehicle.Cabin.Door.Row1.IsOpen": False})
    ]  # fmt: skip
