"""The segments the scenarios need, shipped as data (a migration inserts them; marketing may
change them through the API like any other segment)."""

STANDARD_SEGMENTS: list[dict] = [
    {
        "key": "tech_enthusiast",
        "name": "Tech enthusiasts",
        "description": "Use assisted driving and new in-car apps often.",
        "condition": {
            "kind": "or",
            "conditions": [
                {"kind": "compare", "attribute": "assisted_driving_share", "op": "ge",
                 "value": 0.4},
                {"kind": "compare", "attribute": "new_apps_30d", "op": "ge", "value": 2},
                {"kind": "event", "event_type": "feature_used", "within_days": 30,
                 "min_count": 10, "where": {"feature": "assisted_driving"}},
            ],
        },
    },
    {
        "key": "family_user",
        "name": "Family users",
        "description": "Drive mostly to schools and supermarkets.",
        "condition": {"kind": "compare", "attribute": "family_destination_share", "op": "ge",
                      "value": 0.3},
    },
    {
        "key": "super_user",
        "name": "Super users",
        "description": "Post often, draw engagement, and would recommend us (NPS 9-10).",
        "condition": {
            "kind": "and",
            "conditions": [
                {"kind": "event", "event_type": "community_post_created", "within_days": 30,
                 "min_count": 3},
                {"kind": "event", "event_type": "community_post_engaged", "within_days": 30,
                 "min_count": 10},
                {"kind": "compare", "attribute": "latest_nps", "op": "ge", "value": 9},
            ],
        },
    },
    {
        "key": "at_risk",
        "name": "At risk",
        "description": "A detractor, or an open complaint.",
        "condition": {
            "kind": "or",
            "conditions": [
                {"kind": "compare", "attribute": "detractor", "op": "eq", "value": True},
                {"kind": "compare", "attribute": "open_complaints", "op": "ge", "value": 1},
            ],
        },
    },
    {
        "key": "service_due",
        "name": "Service due",
        "description": "Service predicted within 30 days (or overdue).",
        "condition": {"kind": "compare", "attribute": "service_due_in_days", "op": "le",
                      "value": 30},
    },
]  # fmt: skip
