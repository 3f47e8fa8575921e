"""Every profile query. Reads take the caller and apply its scope; writes flush only."""

from services.profile.repository.core import (
    ProfileRepository,
    dealer_scope,
    owner_scope,
    vehicle_scope,
)

__all__ = ["ProfileRepository", "dealer_scope", "owner_scope", "vehicle_scope"]
