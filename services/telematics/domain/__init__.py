"""Pure rules of telematics: configuration, trips, driving behaviour, charging sessions,
fault codes, service due dates and campaign targets. No framework, no database."""

from services.telematics.domain.charging import (
    ChargingFacts,
    charging_cost,
    charging_facts,
    segment_charging,
)
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
    GAP_SECONDS,
    MIN_TRIP_METRES,
    MOVING_KMH,
    PARKED_SECONDS,
    Point,
    Segment,
)
from services.telematics.domain.settings import AnalysisSettings, QualitySettings, Tariff
from services.telematics.domain.trips import (
    Behaviour,
    TripFacts,
    TripSummary,
    is_night,
    rolling_behaviour,
    segment_trips,
    trip_facts,
)

__all__ = [
    "GAP_SECONDS",
    "MIN_TRIP_METRES",
    "MOVING_KMH",
    "NEVER_DAYS",
    "PARKED_SECONDS",
    "AnalysisSettings",
    "Behaviour",
    "Candidate",
    "ChargingFacts",
    "DueReason",
    "FaultChange",
    "Point",
    "QualitySettings",
    "Segment",
    "ServiceDue",
    "Tariff",
    "TripFacts",
    "TripSummary",
    "campaign_targets",
    "charging_cost",
    "charging_facts",
    "days_to_threshold",
    "fault_changes",
    "is_night",
    "rolling_behaviour",
    "segment_charging",
    "segment_trips",
    "service_due",
    "trip_facts",
]
