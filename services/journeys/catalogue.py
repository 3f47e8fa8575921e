# ruff: noqa: RUF001 - the Chinese variants use Chinese punctuation on purpose.
"""What journeys ships: the DESIGN.md scenario journeys as templates staff install (and may
change) through the API, and the message templates they use, in English and Chinese.

Placeholders are filled from the journey's trigger facts (`{vin}`, `{model}`, ...) and the
run's context (`{release_version}` for an OTA release)."""

from typing import Any

MESSAGE_TEMPLATES: dict[str, dict[str, Any]] = {
    "ota_article": {
        "link": "{article_link}",
        "variants": {
            "en": {
                "title": "What's new in {release_version}",
                "body": "A deep dive into {release_version}: {release_summary}",
            },
            "zh": {
                "title": "{release_version} 新功能深度解读",
                "body": "深入了解 {release_version}：{release_summary}",
            },
        },
    },
    "ota_beta_invitation": {
        "link": "{beta_link}",
        "variants": {
            "en": {
                "title": "Join the beta group",
                "body": "Try the next release before everyone else and tell our engineers "
                "what you think.",
            },
            "zh": {
                "title": "邀请您加入内测群",
                "body": "抢先体验下一个版本，并把您的想法告诉我们的工程师。",
            },
        },
    },
    "family_trip_guide": {
        "link": "{guide_link}",
        "variants": {
            "en": {
                "title": "One year of family trips",
                "body": "Happy first year with your {model}! Here is our family-trip guide.",
            },
            "zh": {
                "title": "家庭出行一周年",
                "body": "您的 {model} 陪伴您一周年啦！为您奉上家庭出行指南。",
            },
        },
    },
    "child_seat_coupon": {
        "link": None,
        "variants": {
            "en": {
                "title": "A child-seat coupon for you",
                "body": "Your child-seat coupon is in your wallet, valid for 90 days.",
            },
            "zh": {
                "title": "送您一张儿童座椅优惠券",
                "body": "儿童座椅优惠券已放入您的卡包，90 天内有效。",
            },
        },
    },
    "quality_campaign": {
        "link": None,
        "variants": {
            "en": {
                "title": "A free check for your vehicle",
                "body": "We would like to check the {component} of your vehicle {vin} free of "
                "charge. Your dealer will contact you to book a visit.",
            },
            "zh": {
                "title": "为您的爱车免费检测",
                "body": "我们希望免费检测您的车辆 {vin} 的{component}，"
                "服务网点将联系您预约到店时间。",
            },
        },
    },
    "quality_campaign_reminder": {
        "link": None,
        "variants": {
            "en": {
                "title": "Your free check is still waiting",
                "body": "Please book the free {component} check for your vehicle {vin}.",
            },
            "zh": {"title": "免费检测提醒", "body": "请预约为您的车辆 {vin} 免费检测{component}。"},
        },
    },
    "onboarding_welcome": {
        "link": None,
        "variants": {
            "en": {
                "title": "Welcome to your new {model}",
                "body": "Everything you need for your first days is in the app.",
            },
            "zh": {"title": "欢迎您成为 {model} 车主", "body": "用车初期所需的一切都在 App 里。"},
        },
    },
    "onboarding_tips": {
        "link": None,
        "variants": {
            "en": {
                "title": "Three tips for your first week",
                "body": "Charging schedules, assisted driving and remote climate, explained.",
            },
            "zh": {
                "title": "新车首周三个小贴士",
                "body": "预约充电、辅助驾驶和远程空调，一看就会。",
            },
        },
    },
    "survey_invitation": {
        "link": "{link}",
        "variants": {
            "en": {"title": "{title}", "body": "Tell us how we did - it takes a minute."},
            "zh": {"title": "{title}", "body": "请告诉我们您的体验，只需一分钟。"},
        },
    },
    "survey_reminder": {
        "link": "{link}",
        "variants": {
            "en": {"title": "{title}", "body": "A reminder: your opinion still counts."},
            "zh": {"title": "{title}", "body": "温馨提醒：您的意见对我们很重要。"},
        },
    },
    "recall_notice": {
        "link": None,
        "variants": {
            "en": {
                "title": "Recall {recall_code}: {recall_title_en}",
                "body": "Your vehicle {vin} is covered by recall {recall_code}. The repair is "
                "free; your dealer will contact you to book it.",
            },
            "zh": {
                "title": "召回通知 {recall_code}：{recall_title_zh}",
                "body": "您的车辆 {vin} 属于召回活动 {recall_code} 范围，维修免费，"
                "服务网点将联系您预约。",
            },
        },
    },
}


JOURNEY_TEMPLATES: dict[str, dict[str, Any]] = {
    "ota_release_tech_enthusiasts": {
        "name": "OTA release for tech enthusiasts",
        "description": "A deep-dive article and a beta-group invitation for each OTA release.",
        "category": "marketing",
        "trigger": {"type": "audience"},
        "audience": {"segment": "tech_enthusiast"},
        "reentry": {"mode": "always"},
        "steps": [
            {
                "id": "article",
                "type": "message",
                "template": "ota_article",
                "channels": ["app_push"],
                "next": "next_day",
            },
            # One marketing push a day: the invitation follows the article.
            {"id": "next_day", "type": "wait", "hours": 24, "next": "beta_invitation"},
            {
                "id": "beta_invitation",
                "type": "message",
                "template": "ota_beta_invitation",
                "channels": ["app_push"],
                "next": "tag_invited",
            },
            {"id": "tag_invited", "type": "tag", "tag": "ota_beta_invited"},
        ],
    },
    "purchase_anniversary_family": {
        "name": "First purchase anniversary for family users",
        "description": "A family-trip guide and a child-seat coupon a year after delivery.",
        "category": "marketing",
        "trigger": {"type": "date", "fact": "purchase_anniversary", "years": 1},
        "audience": {"segment": "family_user"},
        "reentry": {"mode": "once"},
        "holdout_percent": 10,
        "goal": {"event": "profile.service_visit.completed", "within_hours": 24 * 90},
        "steps": [
            {
                "id": "guide",
                "type": "message",
                "template": "family_trip_guide",
                "channels": ["app_push", "email"],
                "next": "coupon",
            },
            {
                "id": "coupon",
                "type": "coupon",
                "coupon": "child_seat",
                "valid_days": 90,
                "next": "coupon_message",
            },
            {
                "id": "coupon_message",
                "type": "message",
                "template": "child_seat_coupon",
                "channels": ["app_push"],
            },
        ],
    },
    "quality_alert_proactive_service": {
        "name": "Proactive service campaign for a quality alert",
        "description": "A message to each owner at risk and a proactive-service case at their "
        "dealer; a reminder if no service visit follows within 30 days.",
        "category": "service",
        "trigger": {"type": "event", "event": "telematics.quality_alert.raised"},
        "reentry": {"mode": "always"},
        "goal": {"event": "profile.service_visit.completed", "within_hours": 24 * 30},
        "steps": [
            {
                "id": "notice",
                "type": "message",
                "template": "quality_campaign",
                "channels": ["app_push", "sms"],
                "next": "case",
            },
            {
                "id": "case",
                "type": "ticket",
                "kind": "proactive_service",
                "priority": "high",
                "category": "quality_campaign",
                "description": "Proactive check of a component batch at risk (quality alert).",
                "next": "await_visit",
            },
            {
                "id": "await_visit",
                "type": "wait",
                "event": "profile.service_visit.completed",
                "timeout_hours": 24 * 30,
                "timeout_next": "reminder",
            },
            {
                "id": "reminder",
                "type": "message",
                "template": "quality_campaign_reminder",
                "channels": ["app_push"],
            },
        ],
    },
    "post_delivery_onboarding": {
        "name": "Post-delivery onboarding",
        "description": "Welcome, first-week tips, then the delivery survey and welcome points.",
        "category": "service",
        "trigger": {
            "type": "event",
            "event": "profile.lifecycle.stage_changed",
            "filter": {"field": "stage", "equals": "delivery"},
        },
        "reentry": {"mode": "once"},
        "steps": [
            {
                "id": "welcome",
                "type": "message",
                "template": "onboarding_welcome",
                "channels": ["app_push"],
                "next": "after_three_days",
            },
            {"id": "after_three_days", "type": "wait", "hours": 72, "next": "tips"},
            {
                "id": "tips",
                "type": "message",
                "template": "onboarding_tips",
                "channels": ["app_push"],
                "next": "after_a_week",
            },
            {"id": "after_a_week", "type": "wait", "hours": 168, "next": "survey"},
            {
                "id": "survey",
                "type": "survey",
                "survey_key": "post_delivery_nps",
                "touchpoint": "delivery",
                "next": "welcome_points",
            },
            {
                "id": "welcome_points",
                "type": "points",
                "points": 200,
                "reason": "Welcome to the owners' club",
            },
        ],
    },
    "survey_invitations": {
        "name": "Survey invitations",
        "description": "Delivers each invitation feedback issues, with one reminder.",
        "category": "service",
        "trigger": {"type": "event", "event": "feedback.invitation.created"},
        "reentry": {"mode": "always"},
        "goal": {"event": "feedback.response.submitted", "within_hours": 24 * 7},
        "steps": [
            {
                "id": "invite",
                "type": "message",
                "template": "survey_invitation",
                "channels": ["app_push", "email"],
                "next": "await_answer",
            },
            {
                "id": "await_answer",
                "type": "wait",
                "event": "feedback.response.submitted",
                "timeout_hours": 72,
                "timeout_next": "reminder",
            },
            {
                "id": "reminder",
                "type": "message",
                "template": "survey_reminder",
                "channels": ["app_push"],
            },
        ],
    },
    "recall_campaign": {
        "name": "Recall campaign",
        "description": "Notice on every consented channel, a booking case at the servicing "
        "dealer, completion when the recall's service visit arrives.",
        "category": "recall",
        "trigger": {"type": "recall"},
        "reentry": {"mode": "always"},
        "goal": {"event": "profile.service_visit.completed", "within_hours": 24 * 180},
        "steps": [
            {
                "id": "notice",
                "type": "message",
                "template": "recall_notice",
                "channels": ["app_push", "sms", "email"],
                "next": "booking",
            },
            {
                "id": "booking",
                "type": "ticket",
                "kind": "service_booking",
                "priority": "high",
                "category": "recall",
                "description": "Book the recall repair.",
                "next": "await_repair",
            },
            {
                "id": "await_repair",
                "type": "wait",
                "event": "profile.service_visit.completed",
                "timeout_hours": 24 * 30,
                "timeout_next": "second_notice",
            },
            {
                "id": "second_notice",
                "type": "message",
                "template": "recall_notice",
                "channels": ["app_push", "sms", "email"],
            },
        ],
    },
}

RECALL_JOURNEY = "recall_campaign"
