"""The interaction event catalogue: every event type the app, the web configurator and the
social connectors may send, with the JSON schema of its `properties`."""

from functools import cache

from jsonschema import Draft202012Validator

from shared.errors import FieldError


def _object(required: dict[str, dict], optional: dict[str, dict] | None = None) -> dict:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": sorted(required),
        "additionalProperties": False,
    }


_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}

EVENT_TYPES: dict[str, dict] = {
    "app_opened": _object({}, {"screen": _TEXT}),
    "feature_used": _object(
        {"feature": _TEXT}, {"duration_seconds": {"type": "number", "minimum": 0}}
    ),
    "configurator_option_chosen": _object({"model": _TEXT, "option": _TEXT, "value": _TEXT}),
    "test_drive_requested": _object(
        {"model": _TEXT}, {"preferred_date": {"type": "string", "format": "date"}}
    ),
    "community_post_created": _object({"post_id": _TEXT}, {"topic": _TEXT}),
    "community_post_liked": _object({"post_id": _TEXT}),
    # Someone else liked, commented on or shared the owner's post.
    "community_post_engaged": _object(
        {"post_id": _TEXT, "engagement": {"enum": ["like", "comment", "share"]}}
    ),
    "article_read": _object({"article_id": _TEXT}),
    "social_mention": _object(
        {"platform": {"enum": ["weibo", "wechat", "douyin", "xiaohongshu", "x"]}},
        {"url": {"type": "string", "maxLength": 2000}},
    ),
}


@cache
def _validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator(
        EVENT_TYPES[event_type], format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def property_errors(event_type: str, properties: dict, *, field: str) -> list[FieldError]:
    """What is wrong with one event's type or properties, each error naming its field."""
    if event_type not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        return [FieldError(field=f"{field}.type", message=f"unknown event type {event_type!r}; "
                           f"known types: {known}")]  # fmt: skip
    return [
        FieldError(
            field=".".join([f"{field}.properties", *(str(part) for part in error.absolute_path)]),
            message=error.message,
        )
        for error in sorted(_validator(event_type).iter_errors(properties), key=str)
    ]
