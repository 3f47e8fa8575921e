"""Reading and changing configuration: analysis settings (admins change them, staff read them)
and quality settings (quality engineers)."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.domain import AnalysisSettings, QualitySettings
from services.telematics.service import settings
from shared.auth import Caller, StaffRole


async def analysis(session: AsyncSession, caller: Caller) -> AnalysisSettings:
    caller.require_staff(StaffRole.CX_AGENT, StaffRole.QUALITY_ENGINEER)
    return await settings.analysis_settings(session)


async def replace_analysis(
    session: AsyncSession, caller: Caller, value: AnalysisSettings
) -> AnalysisSettings:
    caller.require_staff()
    await settings.replace(session, settings.ANALYSIS, value, caller=caller)
    return value


async def quality(session: AsyncSession, caller: Caller) -> QualitySettings:
    caller.require_staff(StaffRole.QUALITY_ENGINEER)
    return await settings.quality_settings(session)


async def replace_quality(
    session: AsyncSession, caller: Caller, value: QualitySettings
) -> QualitySettings:
    caller.require_staff(StaffRole.QUALITY_ENGINEER)
    await settings.replace(session, settings.QUALITY, value, caller=caller)
    return value
