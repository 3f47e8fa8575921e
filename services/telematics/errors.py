"""Telematics' typed errors."""

from shared.errors import CEMError, NotFound


class BatchTooLarge(CEMError):
    status = 413
    code = "batch_too_large"
    title = "Batch too large"


class VehicleNotFound(NotFound):
    code = "vehicle_not_found"


class AlertNotFound(NotFound):
    code = "quality_alert_not_found"


class OwnerDataNotFound(NotFound):
    code = "owner_data_not_found"
