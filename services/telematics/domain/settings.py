"""How raw signals become facts, and the early-warning rule: configuration as data, changed
through the API and validated here."""

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Tariff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_per_kwh: float = Field(1.2, ge=0, le=100)
    fast_price_per_kwh: float = Field(1.8, ge=0, le=100)
    session_fee: float = Field(0.0, ge=0, le=1000)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")


class AnalysisSettings(BaseModel):
    """How raw signals become facts; readable by anyone on staff, changed by admins."""

    model_config = ConfigDict(extra="forbid")

    harsh_acceleration_ms2: float = Field(4.4, gt=0, le=20)
    harsh_braking_ms2: float = Field(4.4, gt=0, le=20)
    overspeed_kmh: float = Field(120.0, gt=0, le=400)
    night_start_hour: int = Field(22, ge=0, le=23)
    night_end_hour: int = Field(6, ge=0, le=23)
    time_zone: str = "Asia/Shanghai"
    fast_charging_kw: float = Field(50.0, gt=0, le=1000)
    tariff: Tariff = Tariff()
    service_interval_km: float = Field(20_000.0, gt=0, le=200_000)
    service_interval_days: int = Field(365, gt=0, le=3650)
    # Fault code (or its prefix) -> the component it points at.
    dtc_components: dict[str, str] = {
        "P0480": "cooling_fan_controller",
        "P0481": "cooling_fan_controller",
        "P0A80": "traction_battery",
        "B1000": "smart_key_module",
        "C0035": "wheel_speed_sensor",
    }

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as error:
            raise ValueError("unknown time zone") from error
        return value

    def component_of(self, code: str) -> str | None:
        """The longest matching code prefix wins (P0480 before P04)."""
        for length in range(len(code), 0, -1):
            if component := self.dtc_components.get(code[:length]):
                return component
        return None


class QualitySettings(BaseModel):
    """The early-warning rule and the campaign selection; changed by quality engineers."""

    model_config = ConfigDict(extra="forbid")

    band_km: float = Field(2_500.0, gt=0, le=100_000)
    min_failures: int = Field(3, ge=1, le=10_000)
    min_rate_ratio_lower_bound: float = Field(2.0, gt=0, le=1000)
    max_corrected_p_value: float = Field(0.01, gt=0, lt=1)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    # Vehicles within this many km below the threshold, or reaching it within the lead time.
    target_margin_km: float = Field(2_500.0, ge=0, le=100_000)
    target_lead_days: int = Field(60, ge=0, le=3650)
