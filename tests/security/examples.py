"""A valid request for every route of the merged OpenAPI, so that what answers is the role
check and not the body's validation (which comes first for most write routes).

Path values and bodies are drawn by schemathesis from the document (the same every run);
where a rule the schema cannot state refuses the drawn body (a VIN's check digit, one field
of two), BODIES holds a hand-written one. `{owner_id}`, `{vin}`, `{dealer_id}` and
`{new_vin}` in a body are the calling tenant's records, filled in per request.
"""

import json
from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core import NotSet
from schemathesis.generation.modes import GenerationMode

from tests.profile.conftest import make_vin

JOURNEY = {
    "name": "Matrix journey",
    "category": "service",
    "trigger": {"type": "event", "event": "cem.profile.owner.registered.v1"},
    "steps": [{"id": "pause", "type": "wait", "hours": 1}],
}
TOPIC = {"name_en": "Matrix", "name_zh": "矩阵", "severity": "low", "keywords_en": ["matrix"]}
ROUTING_RULE = {"name": "Matrix rule", "position": 99_000, "watchers": ["matrix@cem.test"]}

BODIES: dict[str, object] = {
    "POST /v1/feedback/dealers/{dealer_id}/networks": {"cidr": "203.0.113.0/24"},
    "POST /v1/feedback/topics": {"key": "matrix_topic", **TOPIC},
    "PUT /v1/feedback/topics/{key}": {"key": "matrix_topic", **TOPIC},
    "POST /v1/journeys/definitions": {"key": "matrix_journey", **JOURNEY},
    "POST /v1/journeys/definitions/{key}/versions": JOURNEY,
    "POST /v1/journeys/recalls": {
        "code": "MATRIX-1", "title_en": "Matrix", "title_zh": "矩阵", "vins": ["{vin}"]
    },
    "PUT /v1/journeys/message-templates/{key}": {
        "variants": {"en": {"title": "Hello", "body": "Hello"}}
    },
    "POST /v1/profile/events": {
        "events": [
            {"type": "app_opened", "owner_id": "{owner_id}", "occurred_at": "2026-01-01T08:00:00Z"}
        ]
    },
    "POST /v1/profile/households": {"name": "Matrix household", "owner_ids": ["{owner_id}"]},
    "POST /v1/profile/leads": {"owner_id": "{owner_id}", "dealer_id": "{dealer_id}"},
    "POST /v1/profile/service-visits": {
        "vin": "{vin}", "visit_date": "2026-01-01", "visit_type": "maintenance", "mileage_km": 9000
    },
    "POST /v1/profile/vehicles": {"vin": "{new_vin}", "model": "ET7"},
    "POST /v1/profile/vehicles/{vehicle_id}/drivers": {
        "owner_id": "{owner_id}", "role": "secondary_driver", "effective_from": "2026-01-01"
    },
    "POST /v1/tickets/routing-rules": ROUTING_RULE,
    "PUT /v1/tickets/routing-rules/{rule_id}": ROUTING_RULE,
    "POST /v1/tickets/tickets/{ticket_id}/assignment": {"assignee": "agent@cem.test"},
    "PUT /v1/tickets/dealers/{dealer_id}/settings": {
        "time_zone": "Asia/Shanghai", "weekly_hours": {"mon": [["09:00", "18:00"]]}
    },
}  # fmt: skip


def without_time_format(node):
    """Drops JSON Schema's `time` format, which demands a UTC offset: quiet hours and the like
    are wall-clock times in the owner's zone (pydantic's `time`), rightly without one."""
    if isinstance(node, dict):
        return {
            key: without_time_format(value)
            for key, value in node.items()
            if not (key == "format" and value == "time")
        }
    if isinstance(node, list):
        return [without_time_format(item) for item in node]
    return node


@dataclass
class Example:
    path_values: dict[str, str] = field(default_factory=dict)
    body: object = None  # None: the operation takes no body

    def body_for(self, records: dict[str, str]) -> object:
        if self.body is None:
            return None
        text = json.dumps(self.body, ensure_ascii=False)
        for name, value in {**records, "new_vin": make_vin()}.items():
            text = text.replace("{" + name + "}", value)
        return json.loads(text)


def examples(document: dict) -> dict[str, Example]:
    """One example per operation ("METHOD /path"), drawn once per document."""
    schema = schemathesis.openapi.from_dict(without_time_format(document))
    drawn = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        key = f"{operation.method.upper()} {operation.path}"
        example = _draw(operation)
        if key in BODIES:
            example.body = BODIES[key]
        drawn[key] = example
    return drawn


def _draw(operation) -> Example:
    cases = []

    @settings(
        max_examples=1,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def draw(case) -> None:
        cases.append(case)

    draw()
    (case,) = cases[:1]
    values = {name: str(value) for name, value in (case.path_parameters or {}).items()}
    return Example(path_values=values, body=None if isinstance(case.body, NotSet) else case.body)
