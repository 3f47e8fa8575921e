"""One envelope for every event (CloudEvents 1.0 attributes) and the base of every contract."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class EventType:
    """`cem.<service>.<entity>.<verb>.v<major>`: the CloudEvents type and the NATS subject."""

    service: str
    entity: str
    verb: str
    version: int = 1

    @property
    def subject(self) -> str:
        return f"cem.{self.service}.{self.entity}.{self.verb}.v{self.version}"


def stream_name(service: str) -> str:
    return f"CEM_{service.upper()}"


def stream_subjects(service: str) -> list[str]:
    return [f"cem.{service}.>"]


class Event(BaseModel):
    """A contract: the typed payload of one event type, read tolerantly by consumers."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[EventType]


E = TypeVar("E", bound=Event)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    type: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dealerid: uuid.UUID | None = None
    ownerid: uuid.UUID | None = None
    correlationid: str | None = None
    causationid: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        subject: str | None = None,
        dealer_id: uuid.UUID | None = None,
        owner_id: uuid.UUID | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Self:
        event_type = event.event_type
        return cls(
            source=f"/cem/{event_type.service}",
            type=event_type.subject,
            subject=subject,
            dealerid=dealer_id,
            ownerid=owner_id,
            correlationid=correlation_id,
            causationid=causation_id,
            data=event.model_dump(mode="json"),
        )

    def payload(self, contract: type[E]) -> E:
        return contract.model_validate(self.data)
