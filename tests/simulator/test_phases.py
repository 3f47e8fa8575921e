"""The simulation's phases, without a platform: what the platform must know first comes first
and the fleet's activities run side by side; the owners' consents come with the DMS import,
before any vehicle signal (location is kept only with consent)."""

import asyncio
from types import SimpleNamespace

import httpx

from simulator import run as simulation
from simulator.context import Tally
from simulator.gateway import UPSTREAM_BUSY_SECONDS, _pause
from simulator.stages import casework, dms, journeys, roadside, service_desk, setup, signals, voice

STAGES = [
    (setup, "dealers"), (setup, "surveys"), (journeys, "install"), (service_desk, "configure"),
    (dms, "import_fleet"), (dms, "learn_owner_ids"), (voice, "posts"),
    (dms, "record_interactions"), (voice, "leads"), (roadside, "requests"),
    (signals, "send_signals"), (casework, "answer_cases"), (voice, "survey_answers"),
    (signals, "quality_analysis"), (journeys, "release_ota"),
    (casework, "answer_survey_complaints"),
]  # fmt: skip


async def test_phases_keep_their_order_and_activities_overlap(monkeypatch):
    log: list[tuple[str, str]] = []

    def recorder(name: str):
        async def stage(run, **_: object) -> None:
            log.append(("start", name))
            await asyncio.sleep(0.02)
            log.append(("end", name))

        return stage

    for module, name in STAGES:
        monkeypatch.setattr(module, name, recorder(name))
    run = SimpleNamespace(tally=Tally(), skip=lambda *_: None)
    options = SimpleNamespace(telemetry=True, lanes=2)
    await simulation._stages(run, options)

    def at(event: str, name: str) -> int:
        return log.index((event, name))

    assert {name for _, name in log} == {name for _, name in STAGES}
    assert at("end", "import_fleet") < at("start", "learn_owner_ids")
    assert at("end", "learn_owner_ids") < at("start", "send_signals")
    # The fleet's activities overlap: the posts start before the signals are sent.
    assert at("start", "posts") < at("end", "send_signals")
    for activity in ("posts", "record_interactions", "leads", "send_signals"):
        assert at("end", activity) < at("start", "answer_cases")
        # Roadside calls once the vehicles' events have reached the services.
        assert at("end", activity) < at("start", "requests")
    assert at("end", "requests") < at("start", "survey_answers")
    assert at("end", "answer_cases") < at("start", "survey_answers")
    assert at("end", "quality_analysis") < at("start", "release_ota")
    assert at("end", "release_ota") < at("start", "answer_survey_complaints")


def test_a_504_is_resent_only_once_the_first_attempt_had_time_to_finish():
    timed_out = httpx.Response(504)
    assert _pause(timed_out, 0) == UPSTREAM_BUSY_SECONDS
    assert _pause(httpx.Response(503, headers={"retry-after": "2"}), 0) == 2.0
    assert _pause(httpx.Response(502), 0) < 1.0
