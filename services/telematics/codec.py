"""Decoding a batch of samples straight from the request body with msgspec (JSON array or
NDJSON), and turning each sample into a wide row or a per-sample problem.

This is the hot path: no pydantic, one pass over the samples, plain tuples out for COPY.
A batch is first decoded into typed structs whose fields are the catalogued signals, so
msgspec checks every value in C and the row is the struct's fields in order; a batch that
does not fit (an unknown signal, a value of the wrong type) is decoded again into plain
dicts and checked sample by sample, so nothing is lost and each problem is named.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import isfinite
from typing import Annotated, Any

import msgspec
from msgspec.structs import astuple

from services.telematics.catalogue import (
    BOOLEAN,
    INTEGER,
    LOCATION_COLUMNS,
    NUMBER,
    SIGNALS,
    TEXT,
    TEXT_LIST,
    value_problem,
)
from services.telematics.errors import BatchTooLarge
from shared.errors import FieldError, InvalidInput

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


class Sample(msgspec.Struct, forbid_unknown_fields=True):
    vin: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    ts: Annotated[datetime, msgspec.Meta(tz=True)]
    signals: dict[str, Any] = {}


# The same checks as `value_problem`, made by msgspec while it decodes.
_TYPED = {
    NUMBER: float,
    INTEGER: Annotated[int, msgspec.Meta(ge=-(2**31), lt=2**31)],
    BOOLEAN: bool,
    TEXT: Annotated[str, msgspec.Meta(max_length=200)],
    TEXT_LIST: list[str],
}
# Every catalogued signal as a field named after its column, spelled as VSS names it.
Signals = msgspec.defstruct(
    "Signals",
    [(signal.column, _TYPED[signal.kind] | None, None) for signal in SIGNALS],
    rename={signal.column: signal.name for signal in SIGNALS},
    forbid_unknown_fields=True,
    gc=False,
)


class TypedSample(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    vin: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    ts: Annotated[datetime, msgspec.Meta(tz=True)]
    signals: Signals = msgspec.field(default_factory=Signals)


_typed_batch_decoder = msgspec.json.Decoder(list[TypedSample])
_typed_sample_decoder = msgspec.json.Decoder(TypedSample)
_batch_decoder = msgspec.json.Decoder(list[Sample])
_sample_decoder = msgspec.json.Decoder(Sample)
_extra_encoder = msgspec.json.Encoder()
_PATH = re.compile(r" - at `\$(.*)`$")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")


def _field_name(message: str, line: int | None) -> tuple[str, str]:
    """msgspec's "Expected `str`, got `int` - at `$[3].vin`" as ("body.3.vin", "Expected ...")."""
    match = _PATH.search(message)
    path = match.group(1) if match else ""
    text = _PATH.sub("", message)
    prefix = "body" if line is None else f"body.{line}"
    # msgspec marks a value inside a mapping as `[...]`: the mapping is the field to name.
    dotted = re.sub(r"\[(\d+)\]", r".\1", path).replace("[...]", "")
    if unknown := _UNKNOWN_FIELD.search(text):
        return f"{prefix}{dotted}.{unknown.group(1)}", "unknown field"
    return prefix + dotted, text


def _invalid(error: msgspec.DecodeError, line: int | None = None) -> InvalidInput:
    name, message = _field_name(str(error), line)
    if isinstance(error, msgspec.ValidationError):
        return InvalidInput(f"{name}: {message}", errors=[FieldError(field=name, message=message)])
    return InvalidInput.for_field("body", f"malformed JSON: {message}")


def decode_batch(
    body: bytes, content_type: str, *, max_samples: int
) -> list[TypedSample] | list[Sample]:
    """Structural problems (not JSON, no vin, a bad ts) reject the whole batch."""
    if content_type.split(";")[0].strip().lower() in NDJSON_TYPES:
        lines = [line for line in body.split(b"\n") if line.strip()]
        _check_size(len(lines), max_samples)
        return [_decode_line(line, number) for number, line in enumerate(lines)]
    try:
        samples = _typed_batch_decoder.decode(body)
    except msgspec.DecodeError:
        try:
            samples = _batch_decoder.decode(body)
        except msgspec.DecodeError as error:
            raise _invalid(error) from error
    _check_size(len(samples), max_samples)
    return samples


def _decode_line(line: bytes, number: int) -> TypedSample | Sample:
    try:
        return _typed_sample_decoder.decode(line)
    except msgspec.DecodeError:
        try:
            return _sample_decoder.decode(line)
        except msgspec.DecodeError as error:
            raise _invalid(error, number) from error


def _check_size(count: int, max_samples: int) -> None:
    if count == 0:
        raise InvalidInput.for_field("body", "a batch needs at least one sample")
    if count > max_samples:
        raise BatchTooLarge(f"body: a batch holds at most {max_samples} samples, got {count}")


@dataclass(frozen=True)
class KnownVehicle:
    id: uuid.UUID
    location_allowed: bool


@dataclass
class Rows:
    """The batch as wide rows, and what was refused on the way."""

    records: list[tuple] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    def reject(self, index: int, vin: str, field_name: str, message: str) -> None:
        self.problems.append({"index": index, "vin": vin, "field": field_name, "message": message})


MICROSECOND = timedelta(microseconds=1)


def to_rows(
    samples: list[TypedSample] | list[Sample],
    vehicles: dict[str, KnownVehicle],
    *,
    earliest: datetime,
    latest: datetime,
) -> Rows:
    """One row per vehicle-second (a second one for the same second is dropped as a duplicate
    when stored). A sample for an unknown (or not permitted) VIN, out of the time window, or
    with a value of the wrong type is rejected alone. Location is dropped for owners without
    consent."""
    rows = Rows()
    append = rows.records.append
    for index, sample in enumerate(samples):
        vehicle = vehicles.get(sample.vin)
        if vehicle is None:
            rows.reject(index, sample.vin, f"body.{index}.vin", "unknown vehicle")
            continue
        moment = sample.ts
        if moment.microsecond:  # stored to the second: a second sample in it is a duplicate
            moment -= MICROSECOND * moment.microsecond  # a third of `replace`'s time
        if not earliest <= moment <= latest:
            rows.reject(index, sample.vin, f"body.{index}.ts", "outside the accepted time window")
            continue
        signals = sample.signals
        if type(signals) is Signals:
            append(_typed_record(signals, vehicle, moment))
        elif (record := _record(index, sample, vehicle, moment, rows)) is not None:
            append(record)
    return rows


_LOCATION_POSITIONS = [
    index for index, signal in enumerate(SIGNALS) if signal.column in LOCATION_COLUMNS
]


def _typed_record(signals, vehicle: KnownVehicle, moment: datetime) -> tuple:
    values = astuple(signals)
    if not vehicle.location_allowed:
        values = list(values)
        for position in _LOCATION_POSITIONS:
            values[position] = None
    return (vehicle.id, moment, *values, None)


# Per catalogued signal: its position in the row, the Python types that pass without a closer
# look, and whether it is location. Built once; the loop below is the hot path.
# Integers are range-checked, so they take the closer look.
_FAST_TYPES = {NUMBER: (float, int), INTEGER: (), BOOLEAN: (bool,), TEXT: (), TEXT_LIST: ()}
_PLAN = {
    signal.name: (
        2 + index,
        signal.kind,
        _FAST_TYPES[signal.kind],
        signal.column in LOCATION_COLUMNS,
    )
    for index, signal in enumerate(SIGNALS)
}
_WIDTH = 3 + len(SIGNALS)


def _record(index, sample: Sample, vehicle: KnownVehicle, moment: datetime, rows: Rows):
    values: list[Any] = [None] * _WIDTH
    values[0], values[1] = vehicle.id, moment
    extra: dict[str, Any] | None = None
    for name, value in sample.signals.items():
        plan = _PLAN.get(name)
        if plan is None:
            extra = extra or {}
            extra[name] = value
            continue
        position, kind, fast, location = plan
        # `type() in` rejects bool for numbers (bool is an int subclass); floats must be finite.
        if not (type(value) in fast and (type(value) is not float or isfinite(value))):
            if problem := value_problem(kind, value):
                rows.reject(index, sample.vin, f"body.{index}.signals.{name}", problem)
                return None
        if location and not vehicle.location_allowed:
            continue
        values[position] = value
    if extra:
        values[-1] = _extra_encoder.encode(extra).decode()
    return tuple(values)


def time_window(now: datetime, *, max_age_days: int, max_future_seconds: int):
    return now - timedelta(days=max_age_days), now + timedelta(seconds=max_future_seconds)
