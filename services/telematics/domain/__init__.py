"""Pure rules of telematics: configuration, trips, driving behaviour, charging sessions,
fault codes, service due dates and campaign targets. No framework, no database."""

from services.telematics.domain.charging import ChargingFacts, ChargingTally, charging_cost
from services.telematics.domain.faults import FaultChange, fault_changes
from services.telematics.domain.mileage import (
    NEVER_DAYS,
    Candidate,
    DueReason,
    ServiceDue,
    campaign_targets,
    days_to_threshold,
    service_due,
)
from services.telematics.domain.points import (
    GAP,
    GAP_SECONDS,
    MIN_TRIP_METRES,
    MOVING_KMH,
    PARKED_SECONDS,
    Point,
    Run,
)
from services.telematics.domain.rewind import Span, rewind_start
from services.telematics.domain.settings import AnalysisSettings, QualitySettings, Tariff
from services.telematics.domain.stream import (
    Closed,
    StreamState,
    advance,
    close_silent,
    dump_state,
    load_state,
    segment_charging,
    segment_trips,
)
from services.telematics.domain.trips import (
    Behaviour,
    TripFacts,
    TripRules,
    TripSummary,
    TripTally,
    is_night,
    rolling_behaviour,
)

__all__ = [
    "GAP",
    "GAP_SECONDS",
    "MIN_TRIP_METRES",
    "MOVING_KMH",
    "NEVER_DAYS",
    "PARKED_SECONDS",
    "AnalysisSettings",
    "Behaviour",
    "Candidate",
    "ChargingFacts",
    "ChargingTally",
    "Closed",
    "DueReason",
    "FaultChange",
    "Point",
    "QualitySettings",
    "Run",
    "ServiceDue",
    "Span",
    "StreamState",
    "Tariff",
    "TripFacts",
    "TripRules",
    "TripSummary",
    "TripTally",
    "advance",
    "campaign_targets",
    "charging_cost",
    "close_silent",
    "days_to_threshold",
    "dump_state",
    "fault_changes",
    "is_night",
    "load_state",
    "rewind_start",
    "rolling_behaviour",
    "segment_charging",
    "segment_trips",
    "service_due",
]
