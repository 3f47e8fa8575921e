"""Typed errors that carry their HTTP status and a stable snake_case code.

Raised anywhere below the routes; rendered once, as RFC 9457 problem details, by
`shared.http`. A service adds its own subclasses in its `errors.py`.
"""

from typing import ClassVar, Self

from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    message: str


class CEMError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    @classmethod
    def for_field(cls, field: str, message: str) -> Self:
        """The error, naming the request field (a path parameter too) that it is about."""
        return cls(f"{field}: {message}", errors=[FieldError(field=field, message=message)])


class InvalidInput(CEMError):
    status = 422
    code = "invalid_input"
    title = "Invalid input"


class Unauthorized(CEMError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(CEMError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(CEMError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(CEMError):
    status = 409
    code = "conflict"
    title = "Conflict"


class ServiceUnavailable(CEMError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"
