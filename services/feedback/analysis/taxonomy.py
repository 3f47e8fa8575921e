"""The topic taxonomy a new installation starts with (staff change it through the API).

Each topic: a stable key, names and keywords (with synonyms) in both languages, and the
severity of a complaint about it. English keywords match whole words (a trailing s, es,
ed or ing is allowed); Chinese keywords match anywhere in the text.
"""

from dataclasses import dataclass, field

from services.feedback.domain import Severity


@dataclass(frozen=True)
class TopicRule:
    key: str
    name_en: str
    name_zh: str
    severity: Severity
    keywords_en: tuple[str, ...] = field(default=())
    keywords_zh: tuple[str, ...] = field(default=())


SEED_TOPICS = (
    TopicRule(
        "smart_key", "Smart key", "智能钥匙", Severity.HIGH,
        ("smart key", "key fob", "fob", "phone key", "digital key", "key card", "keyless",
         "unlock", "nfc card", "car key", "phone as key", "proximity unlock"),
        ("智能钥匙", "钥匙", "手机钥匙", "蓝牙钥匙", "NFC", "钥匙卡", "无钥匙", "解锁",
         "感应开门", "数字钥匙", "车钥匙", "门把手"),
    ),
    TopicRule(
        "charging", "Charging", "充电", Severity.MEDIUM,
        ("charging", "charger", "supercharger", "fast charge", "charging station",
         "charging cable", "wallbox", "charge port", "charging pile", "home charger",
         "swap station", "battery swap", "charging speed", "kw"),
        ("充电", "充电桩", "快充", "慢充", "超充", "换电", "充电枪", "充不进", "充不上",
         "充电站", "家充", "充电口", "电桩", "功率"),
    ),
    TopicRule(
        "battery_range", "Battery and range", "电池与续航", Severity.MEDIUM,
        ("range", "battery", "battery drain", "degradation", "state of charge", "winter range",
         "mileage estimate", "range anxiety", "vampire drain", "kwh"),
        ("续航", "电池", "掉电", "续航里程", "电量", "衰减", "冬季续航", "虚标", "亏电"),
    ),
    TopicRule(
        "infotainment", "Infotainment", "车机与娱乐", Severity.MEDIUM,
        ("infotainment", "screen", "display", "navigation", "voice assistant", "bluetooth",
         "carplay", "android auto", "audio", "speaker", "head unit", "touchscreen",
         "sound system", "maps", "music", "radio", "voice control"),
        ("车机", "中控", "屏幕", "大屏", "导航", "语音助手", "语音", "蓝牙", "CarPlay",
         "音响", "黑屏", "死机", "闪退", "地图", "音乐", "收音机", "中控屏", "仪表盘"),
    ),
    TopicRule(
        "ota", "OTA updates", "OTA 升级", Severity.MEDIUM,
        ("ota", "software update", "firmware", "over-the-air", "update", "upgrade",
         "release notes", "software version", "new version", "patch"),
        ("OTA", "升级", "远程升级", "系统更新", "固件", "更新", "新版本", "版本"),
    ),
    TopicRule(
        "delivery", "Delivery", "交付", Severity.MEDIUM,
        ("delivery", "handover", "pickup", "delivery date", "delivery center",
         "delivery centre", "delivery specialist", "took delivery", "new car handover", "pick up"),
        ("交付", "交车", "提车", "交付中心", "延期交付", "等车", "交付时间", "交付专员",
         "验车", "新车"),
    ),
    TopicRule(
        "service_quality", "Service quality", "服务质量", Severity.MEDIUM,
        ("service center", "service centre", "service advisor", "advisor", "technician",
         "mechanic", "repair", "maintenance", "appointment", "workshop", "customer service",
         "service visit", "hotline", "staff", "dealer", "dealership", "service", "parts",
         "loaner", "loan car"),
        ("售后", "服务顾问", "维修", "保养", "4S店", "服务中心", "维修站", "技师", "态度",
         "预约", "返修", "客服", "服务", "门店", "销售", "专员", "热线", "经销商"),
    ),
    TopicRule(
        "pricing", "Pricing", "价格与费用", Severity.MEDIUM,
        ("price", "pricing", "cost", "expensive", "fee", "discount", "price drop", "quote",
         "invoice", "overcharged", "financing", "insurance premium", "subscription",
         "labour rate", "labor rate", "overpriced", "bill", "compensation", "value"),
        ("价格", "定价", "降价", "收费", "费用", "优惠", "价保", "乱收费", "报价", "金融",
         "贷款", "保险费", "订阅", "多收", "账单", "太贵", "贵", "补偿", "工时费", "价位"),
    ),
    TopicRule(
        "driver_assistance", "Driver assistance", "辅助驾驶", Severity.HIGH,
        ("driver assistance", "autopilot", "adas", "adaptive cruise", "lane keeping",
         "lane assist", "self-driving", "auto park", "parking assist", "phantom braking",
         "navigate on pilot", "lane change", "cruise control"),
        ("辅助驾驶", "自动驾驶", "NOP", "领航", "自适应巡航", "车道保持", "自动泊车",
         "幽灵刹车", "智驾", "变道", "巡航"),
    ),
    TopicRule(
        "build_quality", "Build quality", "做工与质量", Severity.MEDIUM,
        ("rattle", "noise", "squeak", "leak", "panel gap", "paint", "rust", "build quality",
         "air conditioning", "seat", "door", "window", "sunroof", "tyre", "tire", "wiper",
         "trim", "heating", "heater", "cabin"),
        ("异响", "漏水", "做工", "缝隙", "掉漆", "生锈", "质量", "空调", "座椅", "车门",
         "车窗", "天窗", "轮胎", "雨刮", "内饰", "暖风", "噪音"),
    ),
    TopicRule(
        "vehicle_safety", "Vehicle safety", "车辆安全", Severity.HIGH,
        ("brake", "airbag", "seatbelt", "seat belt", "steering", "fire", "smoke", "lost power",
         "accelerated", "acceleration"),
        ("刹车", "制动", "气囊", "安全带", "转向", "方向盘", "起火", "冒烟", "自燃", "熄火",
         "动力中断", "突然加速", "鼓包"),
    ),
    TopicRule(
        "mobile_app", "Owner app", "车主 App", Severity.LOW,
        ("app", "mobile app", "the app", "login", "log in", "account", "points", "community"),
        ("APP", "手机app", "小程序", "登录", "账号", "积分", "社区"),
    ),
)  # fmt: skip
