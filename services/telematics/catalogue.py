"""The signals telematics understands: names after COVESA VSS 6 (two marked extensions), the
column each is stored in, and how its values are checked at ingestion. Any other signal is
kept as it came, in the row's `extra`."""

import math
from dataclasses import dataclass

# Signal kinds: how a value is checked at ingestion.
NUMBER, BOOLEAN, TEXT, INTEGER, TEXT_LIST = "number", "boolean", "text", "integer", "text_list"


@dataclass(frozen=True)
class Signal:
    name: str  # after COVESA VSS 6 (extensions marked in SIGNALS)
    column: str  # in the wide row
    kind: str


# The signals stored in columns of their own; any other signal is kept in the row's `extra`.
SIGNALS: tuple[Signal, ...] = (
    Signal("Vehicle.Speed", "speed", NUMBER),  # km/h
    Signal("Vehicle.TraveledDistance", "odometer_m", NUMBER),  # m
    Signal("Vehicle.Powertrain.TractionBattery.StateOfCharge.Current", "soc", NUMBER),  # %
    Signal("Vehicle.Acceleration.Longitudinal", "acceleration", NUMBER),  # m/s²
    Signal("Vehicle.CurrentLocation.Latitude", "latitude", NUMBER),
    Signal("Vehicle.CurrentLocation.Longitude", "longitude", NUMBER),
    Signal("Vehicle.Diagnostics.DTCList", "dtcs", TEXT_LIST),
    Signal("Vehicle.Powertrain.TractionBattery.Charging.IsCharging", "is_charging", BOOLEAN),
    Signal("Vehicle.Powertrain.TractionBattery.CurrentPower", "battery_power_w", NUMBER),  # W, + in
    Signal("Vehicle.Powertrain.TractionBattery.AccumulatedChargedEnergy", "charged_kwh", NUMBER),
    Signal("Vehicle.Powertrain.TractionBattery.AccumulatedConsumedEnergy", "consumed_kwh", NUMBER),
    Signal("Vehicle.Powertrain.Transmission.SelectedGear", "gear", INTEGER),
    Signal("Vehicle.ADAS.CruiseControl.IsActive", "assisted", BOOLEAN),
    # Extensions (not in VSS 6): the foreground in-car app and the navigation destination's kind.
    Signal("Vehicle.Cabin.Infotainment.ActiveApp", "active_app", TEXT),
    Signal("Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Category", "destination", TEXT),
)
SIGNAL_BY_NAME = {signal.name: signal for signal in SIGNALS}
LOCATION_COLUMNS = ("latitude", "longitude")
# The wide row's columns, in COPY order.
ROW_COLUMNS = ("vehicle_id", "ts", *(signal.column for signal in SIGNALS), "extra")


def value_problem(kind: str, value: object) -> str | None:
    """Why `value` cannot be a signal of this kind, or None. `null` is never a problem."""
    if value is None:
        return None
    match kind:
        case "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(value)
            return None if ok else "must be a number"
        case "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return None if ok and -(2**31) <= value < 2**31 else "must be a 32-bit integer"
        case "boolean":
            return None if isinstance(value, bool) else "must be true or false"
        case "text":
            return None if isinstance(value, str) and len(value) <= 200 else "must be a string"
        case "text_list":
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
            return None if ok else "must be a list of strings"
    return None
