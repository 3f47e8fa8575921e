"""feedback core

Revision ID: d58890b93e75
Revises:
Create Date: 2026-11-23 00:05:18.077977
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.messaging.migration import create_messaging_tables, drop_messaging_tables

revision: str = "d58890b93e75"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The taxonomy a new installation starts with (frozen here; staff change it through the API).
SEED_TOPICS = [
    {
        "key": "smart_key",
        "name_en": "Smart key",
        "name_zh": "智能钥匙",
        "severity": "high",
        "keywords_en": [
            "smart key",
            "key fob",
            "fob",
            "phone key",
            "digital key",
            "key card",
            "keyless",
            "unlock",
            "nfc card",
            "car key",
            "phone as key",
            "proximity unlock",
        ],
        "keywords_zh": [
            "智能钥匙",
            "钥匙",
            "手机钥匙",
            "蓝牙钥匙",
            "NFC",
            "钥匙卡",
            "无钥匙",
            "解锁",
            "感应开门",
            "数字钥匙",
            "车钥匙",
            "门把手",
        ],
    },
    {
        "key": "charging",
        "name_en": "Charging",
        "name_zh": "充电",
        "severity": "medium",
        "keywords_en": [
            "charging",
            "charger",
            "supercharger",
            "fast charge",
            "charging station",
            "charging cable",
            "wallbox",
            "charge port",
            "charging pile",
            "home charger",
            "swap station",
            "battery swap",
            "charging speed",
            "kw",
        ],
        "keywords_zh": [
            "充电",
            "充电桩",
            "快充",
            "慢充",
            "超充",
            "换电",
            "充电枪",
            "充不进",
            "充不上",
            "充电站",
            "家充",
            "充电口",
            "电桩",
            "功率",
        ],
    },
    {
        "key": "battery_range",
        "name_en": "Battery and range",
        "name_zh": "电池与续航",
        "severity": "medium",
        "keywords_en": [
            "range",
            "battery",
            "battery drain",
            "degradation",
            "state of charge",
            "winter range",
            "mileage estimate",
            "range anxiety",
            "vampire drain",
            "kwh",
        ],
        "keywords_zh": [
            "续航",
            "电池",
            "掉电",
            "续航里程",
            "电量",
            "衰减",
            "冬季续航",
            "虚标",
            "亏电",
        ],
    },
    {
        "key": "infotainment",
        "name_en": "Infotainment",
        "name_zh": "车机与娱乐",
        "severity": "medium",
        "keywords_en": [
            "infotainment",
            "screen",
            "display",
            "navigation",
            "voice assistant",
            "bluetooth",
            "carplay",
            "android auto",
            "audio",
            "speaker",
            "head unit",
            "touchscreen",
            "sound system",
            "maps",
            "music",
            "radio",
            "voice control",
        ],
        "keywords_zh": [
            "车机",
            "中控",
            "屏幕",
            "大屏",
            "导航",
            "语音助手",
            "语音",
            "蓝牙",
            "CarPlay",
            "音响",
            "黑屏",
            "死机",
            "闪退",
            "地图",
            "音乐",
            "收音机",
            "中控屏",
            "仪表盘",
        ],
    },
    {
        "key": "ota",
        "name_en": "OTA updates",
        "name_zh": "OTA 升级",
        "severity": "medium",
        "keywords_en": [
            "ota",
            "software update",
            "firmware",
            "over-the-air",
            "update",
            "upgrade",
            "release notes",
            "software version",
            "new version",
            "patch",
        ],
        "keywords_zh": ["OTA", "升级", "远程升级", "系统更新", "固件", "更新", "新版本", "版本"],
    },
    {
        "key": "delivery",
        "name_en": "Delivery",
        "name_zh": "交付",
        "severity": "medium",
        "keywords_en": [
            "delivery",
            "handover",
            "pickup",
            "delivery date",
            "delivery center",
            "delivery centre",
            "delivery specialist",
            "took delivery",
            "new car handover",
            "pick up",
        ],
        "keywords_zh": [
            "交付",
            "交车",
            "提车",
            "交付中心",
            "延期交付",
            "等车",
            "交付时间",
            "交付专员",
            "验车",
            "新车",
        ],
    },
    {
        "key": "service_quality",
        "name_en": "Service quality",
        "name_zh": "服务质量",
        "severity": "medium",
        "keywords_en": [
            "service center",
            "service centre",
            "service advisor",
            "advisor",
            "technician",
            "mechanic",
            "repair",
            "maintenance",
            "appointment",
            "workshop",
            "customer service",
            "service visit",
            "hotline",
            "staff",
            "dealer",
            "dealership",
            "service",
            "parts",
            "loaner",
            "loan car",
        ],
        "keywords_zh": [
            "售后",
            "服务顾问",
            "维修",
            "保养",
            "4S店",
            "服务中心",
            "维修站",
            "技师",
            "态度",
            "预约",
            "返修",
            "客服",
            "服务",
            "门店",
            "销售",
            "专员",
            "热线",
            "经销商",
        ],
    },
    {
        "key": "pricing",
        "name_en": "Pricing",
        "name_zh": "价格与费用",
        "severity": "medium",
        "keywords_en": [
            "price",
            "pricing",
            "cost",
            "expensive",
            "fee",
            "discount",
            "price drop",
            "quote",
            "invoice",
            "overcharged",
            "financing",
            "insurance premium",
            "subscription",
            "labour rate",
            "labor rate",
            "overpriced",
            "bill",
            "compensation",
            "value",
        ],
        "keywords_zh": [
            "价格",
            "定价",
            "降价",
            "收费",
            "费用",
            "优惠",
            "价保",
            "乱收费",
            "报价",
            "金融",
            "贷款",
            "保险费",
            "订阅",
            "多收",
            "账单",
            "太贵",
            "贵",
            "补偿",
            "工时费",
            "价位",
        ],
    },
    {
        "key": "driver_assistance",
        "name_en": "Driver assistance",
        "name_zh": "辅助驾驶",
        "severity": "high",
        "keywords_en": [
            "driver assistance",
            "autopilot",
            "adas",
            "adaptive cruise",
            "lane keeping",
            "lane assist",
            "self-driving",
            "auto park",
            "parking assist",
            "phantom braking",
            "navigate on pilot",
            "lane change",
            "cruise control",
        ],
        "keywords_zh": [
            "辅助驾驶",
            "自动驾驶",
            "NOP",
            "领航",
            "自适应巡航",
            "车道保持",
            "自动泊车",
            "幽灵刹车",
            "智驾",
            "变道",
            "巡航",
        ],
    },
    {
        "key": "build_quality",
        "name_en": "Build quality",
        "name_zh": "做工与质量",
        "severity": "medium",
        "keywords_en": [
            "rattle",
            "noise",
            "squeak",
            "leak",
            "panel gap",
            "paint",
            "rust",
            "build quality",
            "air conditioning",
            "seat",
            "door",
            "window",
            "sunroof",
            "tyre",
            "tire",
            "wiper",
            "trim",
            "heating",
            "heater",
            "cabin",
        ],
        "keywords_zh": [
            "异响",
            "漏水",
            "做工",
            "缝隙",
            "掉漆",
            "生锈",
            "质量",
            "空调",
            "座椅",
            "车门",
            "车窗",
            "天窗",
            "轮胎",
            "雨刮",
            "内饰",
            "暖风",
            "噪音",
        ],
    },
    {
        "key": "vehicle_safety",
        "name_en": "Vehicle safety",
        "name_zh": "车辆安全",
        "severity": "high",
        "keywords_en": [
            "brake",
            "airbag",
            "seatbelt",
            "seat belt",
            "steering",
            "fire",
            "smoke",
            "lost power",
            "accelerated",
            "acceleration",
        ],
        "keywords_zh": [
            "刹车",
            "制动",
            "气囊",
            "安全带",
            "转向",
            "方向盘",
            "起火",
            "冒烟",
            "自燃",
            "熄火",
            "动力中断",
            "突然加速",
            "鼓包",
        ],
    },
    {
        "key": "mobile_app",
        "name_en": "Owner app",
        "name_zh": "车主 App",
        "severity": "low",
        "keywords_en": [
            "app",
            "mobile app",
            "the app",
            "login",
            "log in",
            "account",
            "points",
            "community",
        ],
        "keywords_zh": ["APP", "手机app", "小程序", "登录", "账号", "积分", "社区"],
    },
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    create_messaging_tables()
    op.create_table(
        "known_dealers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_known_dealers_region"), "known_dealers", ["region"], unique=False)
    op.create_table(
        "known_owners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("preferred_language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "known_vehicles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vin", sqlmodel.sql.sqltypes.AutoString(length=17), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vin"),
    )
    op.create_index(
        op.f("ix_known_vehicles_owner_id"), "known_vehicles", ["owner_id"], unique=False
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("vehicle_id", sa.Uuid(), nullable=True),
        sa.Column("vin", sqlmodel.sql.sqltypes.AutoString(length=17), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("topics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("flag", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id"),
    )
    op.create_index(op.f("ix_posts_dealer_id"), "posts", ["dealer_id"], unique=False)
    op.create_index(op.f("ix_posts_flag"), "posts", ["flag"], unique=False)
    op.create_index(op.f("ix_posts_owner_id"), "posts", ["owner_id"], unique=False)
    op.create_table(
        "survey_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("questions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "version"),
    )
    op.create_index(op.f("ix_survey_templates_key"), "survey_templates", ["key"], unique=False)
    op.create_table(
        "topics",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("keywords_en", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("keywords_zh", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "triggers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("touchpoint", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("survey_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("throttle_days", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("touchpoint"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("touchpoint", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("lifecycle_stage", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("vehicle_id", sa.Uuid(), nullable=True),
        sa.Column("vin", sqlmodel.sql.sqltypes.AutoString(length=17), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suppressed_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_invitations_dealer_id"), "invitations", ["dealer_id"], unique=False)
    op.create_index(
        "ix_invitations_due",
        "invitations",
        ["send_at"],
        unique=False,
        postgresql_where=sa.text("status = 'scheduled'"),
    )
    op.create_index(op.f("ix_invitations_owner_id"), "invitations", ["owner_id"], unique=False)
    op.create_index(
        "ix_invitations_owner_sent", "invitations", ["owner_id", "sent_at"], unique=False
    )
    op.create_index(op.f("ix_invitations_status"), "invitations", ["status"], unique=False)
    op.create_table(
        "responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("survey_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("survey_version", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("band", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("touchpoint", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("lifecycle_stage", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("vehicle_id", sa.Uuid(), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("topics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("flag", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("device_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("network_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["survey_templates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invitation_id"),
    )
    op.create_index(op.f("ix_responses_dealer_id"), "responses", ["dealer_id"], unique=False)
    op.create_index(
        "ix_responses_kind_submitted", "responses", ["kind", "submitted_at"], unique=False
    )
    op.create_index(op.f("ix_responses_owner_id"), "responses", ["owner_id"], unique=False)
    # ### end Alembic commands ###
    topics = sa.table(
        "topics",
        sa.column("key", sa.String),
        sa.column("name_en", sa.String),
        sa.column("name_zh", sa.String),
        sa.column("severity", sa.String),
        sa.column("keywords_en", postgresql.JSONB),
        sa.column("keywords_zh", postgresql.JSONB),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(topics, [{**row, "updated_at": now} for row in SEED_TOPICS])


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index(op.f("ix_responses_owner_id"), table_name="responses")
    op.drop_index("ix_responses_kind_submitted", table_name="responses")
    op.drop_index(op.f("ix_responses_dealer_id"), table_name="responses")
    op.drop_table("responses")
    op.drop_index(op.f("ix_invitations_status"), table_name="invitations")
    op.drop_index("ix_invitations_owner_sent", table_name="invitations")
    op.drop_index(op.f("ix_invitations_owner_id"), table_name="invitations")
    op.drop_index(
        "ix_invitations_due",
        table_name="invitations",
        postgresql_where=sa.text("status = 'scheduled'"),
    )
    op.drop_index(op.f("ix_invitations_dealer_id"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_table("triggers")
    op.drop_table("topics")
    op.drop_index(op.f("ix_survey_templates_key"), table_name="survey_templates")
    op.drop_table("survey_templates")
    op.drop_index(op.f("ix_posts_owner_id"), table_name="posts")
    op.drop_index(op.f("ix_posts_flag"), table_name="posts")
    op.drop_index(op.f("ix_posts_dealer_id"), table_name="posts")
    op.drop_table("posts")
    drop_messaging_tables()
    op.drop_index(op.f("ix_known_vehicles_owner_id"), table_name="known_vehicles")
    op.drop_table("known_vehicles")
    op.drop_table("known_owners")
    op.drop_index(op.f("ix_known_dealers_region"), table_name="known_dealers")
    op.drop_table("known_dealers")
    # ### end Alembic commands ###
