"""Every ORM query of telematics (the raw signals are in `signal_store`), grouped by who asks.
Reads of vehicles and their facts take the caller and apply its scope; writes flush only."""

from services.telematics.repository.base import owned_by, vehicle_scope
from services.telematics.repository.derivation import DerivationQueries
from services.telematics.repository.privacy import PrivacyQueries
from services.telematics.repository.projections import ProjectionQueries
from services.telematics.repository.quality import QualityQueries
from services.telematics.repository.views import ViewQueries

__all__ = ["TelematicsRepository", "owned_by", "vehicle_scope"]


class TelematicsRepository(
    ProjectionQueries, DerivationQueries, ViewQueries, QualityQueries, PrivacyQueries
):
    """Every query of the service, one session."""
