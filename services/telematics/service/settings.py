"""Configuration as data: analysis settings (thresholds, tariff, fault-code map) and quality
settings (the alert rule and campaign selection), defaults until someone changes them."""

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.domain import AnalysisSettings, QualitySettings
from services.telematics.models import SettingsRow, utc_now
from services.telematics.repository import TelematicsRepository
from shared.auth import Caller

ANALYSIS, QUALITY = "analysis", "quality"


async def _load(session: AsyncSession, key: str, kind: type[BaseModel]):
    row = await TelematicsRepository(session).settings(key)
    return kind.model_validate(row.value) if row else kind()


async def analysis_settings(session: AsyncSession) -> AnalysisSettings:
    return await _load(session, ANALYSIS, AnalysisSettings)


async def quality_settings(session: AsyncSession) -> QualitySettings:
    return await _load(session, QUALITY, QualitySettings)


async def replace(session: AsyncSession, key: str, value: BaseModel, *, caller: Caller) -> None:
    await TelematicsRepository(session).upsert(
        SettingsRow,
        {
            "key": key,
            "value": value.model_dump(mode="json"),
            "updated_by": caller.subject,
            "updated_at": utc_now(),
        },
    )
