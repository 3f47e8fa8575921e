"""Journeys' published contracts, snapshotted: a consumer reads them tolerantly, so fields may
be added (with defaults) but never renamed, retyped or removed within a major version.
After an intended, additive change: `CEM_UPDATE_SNAPSHOTS=1 pytest tests/journeys`."""

import inspect
import json
import os
from pathlib import Path

from shared.contracts import journeys
from shared.messaging.envelope import Event

SNAPSHOT = Path(__file__).with_name("contracts.snapshot.json")


def current() -> dict:
    contracts = [
        value for value in vars(journeys).values()
        if inspect.isclass(value) and issubclass(value, Event) and "event_type" in vars(value)
    ]  # fmt: skip
    return {
        contract.event_type.subject: contract.model_json_schema()
        for contract in sorted(contracts, key=lambda c: c.event_type.subject)
    }


def test_contracts_only_grow():
    now = current()
    if os.environ.get("CEM_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(now, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    recorded = json.loads(SNAPSHOT.read_text())
    for subject, schema in recorded.items():
        assert subject in now, f"{subject} was removed"
        for name, field in schema["properties"].items():
            assert now[subject]["properties"].get(name) == field, f"{subject}.{name} changed"
        added = set(now[subject].get("required", [])) - set(schema.get("required", []))
        assert not added, f"{subject}: new fields need defaults: {sorted(added)}"
    assert now == recorded, "contracts grew: refresh the snapshot with CEM_UPDATE_SNAPSHOTS=1"
