"""The simulated market: dealer cities, names, models, component batches and the texts owners
write. Static data only; `world` draws from it with a seeded generator."""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    name_zh: str
    code: str
    region: str
    latitude: float
    longitude: float


CITIES: tuple[City, ...] = (
    City("Shanghai", "上海", "SHA", "East", 31.23, 121.47),
    City("Beijing", "北京", "PEK", "North", 39.90, 116.41),
    City("Guangzhou", "广州", "CAN", "South", 23.13, 113.26),
    City("Shenzhen", "深圳", "SZX", "South", 22.54, 114.06),
    City("Hangzhou", "杭州", "HGH", "East", 30.27, 120.16),
    City("Chengdu", "成都", "CTU", "Southwest", 30.57, 104.07),
    City("Wuhan", "武汉", "WUH", "Central", 30.59, 114.31),
    City("Nanjing", "南京", "NKG", "East", 32.06, 118.80),
    City("Suzhou", "苏州", "SZV", "East", 31.30, 120.59),
    City("Chongqing", "重庆", "CKG", "Southwest", 29.56, 106.55),
    City("Tianjin", "天津", "TSN", "North", 39.34, 117.36),
    City("Xi'an", "西安", "XIY", "Northwest", 34.34, 108.94),
    City("Changsha", "长沙", "CSX", "Central", 28.23, 112.94),
    City("Zhengzhou", "郑州", "CGO", "Central", 34.75, 113.63),
    City("Qingdao", "青岛", "TAO", "East", 36.07, 120.38),
    City("Ningbo", "宁波", "NGB", "East", 29.87, 121.54),
    City("Hefei", "合肥", "HFE", "East", 31.82, 117.23),
    City("Xiamen", "厦门", "XMN", "East", 24.48, 118.09),
    City("Fuzhou", "福州", "FOC", "East", 26.07, 119.30),
    City("Jinan", "济南", "TNA", "East", 36.65, 117.12),
    City("Shenyang", "沈阳", "SHE", "Northeast", 41.81, 123.43),
    City("Dalian", "大连", "DLC", "Northeast", 38.91, 121.61),
    City("Harbin", "哈尔滨", "HRB", "Northeast", 45.80, 126.53),
    City("Changchun", "长春", "CGQ", "Northeast", 43.82, 125.32),
    City("Kunming", "昆明", "KMG", "Southwest", 25.04, 102.71),
    City("Dongguan", "东莞", "DGM", "South", 23.02, 113.75),
    City("Foshan", "佛山", "FUO", "South", 23.02, 113.12),
    City("Nanning", "南宁", "NNG", "South", 22.82, 108.32),
    City("Shijiazhuang", "石家庄", "SJW", "North", 38.04, 114.51),
    City("Taiyuan", "太原", "TYN", "North", 37.87, 112.55),
)

# (hanzi, pinyin): the 20 most common surnames and a spread of given names.
SURNAMES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"),
)  # fmt: skip
GIVEN_NAMES = (
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"),
    ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"),
    ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("霞", "Xia"),
    ("浩然", "Haoran"), ("子涵", "Zihan"), ("欣怡", "Xinyi"), ("梓萱", "Zixuan"),
    ("宇轩", "Yuxuan"), ("一诺", "Yinuo"), ("思远", "Siyuan"), ("雨桐", "Yutong"),
    ("俊杰", "Junjie"), ("嘉怡", "Jiayi"), ("志强", "Zhiqiang"), ("海燕", "Haiyan"),
)  # fmt: skip
ENGLISH_FIRST_NAMES = (
    "James", "Emma", "Oliver", "Sophia", "Lucas", "Mia", "Daniel", "Chloe", "Henry", "Grace",
    "Thomas", "Olivia", "Michael", "Hannah", "David", "Laura", "Peter", "Anna", "Mark", "Julia",
)  # fmt: skip
ENGLISH_LAST_NAMES = (
    "Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Anderson", "Martin", "Clarke",
    "Walker", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
)  # fmt: skip


@dataclass(frozen=True)
class Model:
    name: str
    code: str  # two VIN characters
    trims: tuple[str, ...]
    battery_kwh: float
    share: float  # of sales


MODELS: tuple[Model, ...] = (
    Model("ET5", "E5", ("Standard", "Long Range"), 75.0, 0.30),
    Model("ET7", "E7", ("Long Range", "Performance"), 100.0, 0.20),
    Model("ES6", "S6", ("Standard", "Long Range"), 75.0, 0.25),
    Model("ES8", "S8", ("Long Range", "Signature"), 100.0, 0.15),
    Model("EC6", "C6", ("Standard", "Performance"), 75.0, 0.10),
)

COOLING_FAN = "cooling_fan_controller"
SMART_KEY = "smart_key_module"
# Component -> (part number, production batches). One cooling-fan-controller batch is faulty.
COMPONENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    COOLING_FAN: ("CFC-4410", tuple(f"CF-2025-{n:02d}" for n in range(1, 9))),
    SMART_KEY: ("SKM-2200", tuple(f"SK-2025-{n:02d}" for n in range(1, 5))),
    "traction_battery": ("TB-7500", tuple(f"BT-2025-{n:02d}" for n in range(1, 7))),
    "wheel_speed_sensor": ("WSS-0310", tuple(f"WS-2025-{n:02d}" for n in range(1, 4))),
}
FAULTY_BATCH = "CF-2025-03"
# Replacement parts come from a later, sound batch.
REPLACEMENT_BATCH = {COOLING_FAN: "CF-2026-01", SMART_KEY: "SK-2026-01"}
FAN_FAULT_CODE = "P0480"
SMART_KEY_FAULT_CODE = "B1000"

# Navigation destination categories and in-car apps, by persona.
FAMILY_DESTINATIONS = ("school", "supermarket", "kindergarten", "shopping_mall")
COMMUTER_DESTINATIONS = ("office", "home", "restaurant", "gym")
TECH_APPS = ("nomi_assistant", "karaoke", "ota_release_notes", "game_center", "autopilot_replay")
EVERYDAY_APPS = ("navigation", "music")


@dataclass(frozen=True)
class Text:
    language: str
    title: str
    body: str


SMART_KEY_COMPLAINTS = (
    Text("zh", "智能钥匙又失灵了",
         "智能钥匙总是失灵，早上又打不开车门，已经是这周第三次了，太失望了！"),
    Text("zh", "手机钥匙解锁失败",
         "手机钥匙经常解锁失败，站在车旁边等了五分钟，非常糟糕，希望尽快解决。"),
    Text("en", "Smart key keeps failing", "The smart key keeps failing. Third time this week the "
         "car would not unlock and I was late for work. Very disappointed."),
    Text("en", "Phone key unreliable", "My phone key stopped working again, the car did not "
         "unlock in the car park. Terrible experience, please fix this."),
)  # fmt: skip
CHARGING_COMPLAINTS = (
    Text("zh", "充电太慢", "超充站充电速度很慢，功率只有一半，等了一个多小时，很不满意。"),
    Text("en", "Slow charging", "Fast charging at the station was slow again, only half the "
         "power. Waited over an hour, not happy."),
)  # fmt: skip
PRAISE = (
    Text("zh", "OTA升级体验很棒", "新的OTA升级很棒，辅助驾驶更顺滑了，非常满意，推荐给朋友！"),
    Text("zh", "周末带孩子出游", "周末带孩子去郊外，空间大，座椅舒服，全家都很喜欢这辆车。"),
    Text("en", "Love the new OTA", "The new OTA update is great, assisted driving feels "
         "smoother and the voice assistant is really helpful. Love it!"),
    Text("en", "Great service visit", "Quick and friendly service visit, the car was ready on "
         "time and washed. Excellent dealer, highly recommend."),
)  # fmt: skip
REVIEWS = (
    Text("zh", "用车一年感受", "用车一年，续航稳定，内饰质感好，整体很满意。"),
    Text("en", "One year in", "One year with the car: range is solid, the cabin is quiet and "
         "comfortable. Very happy overall."),
    Text("zh", "钥匙问题影响体验", "车很好开，但是车钥匙经常失灵，解锁要试好几次，体验很差。"),
    Text("en", "Good car, bad key", "Good car to drive but the key fob keeps failing to "
         "unlock, which is frustrating."),
)  # fmt: skip
SURVEY_REASONS = {
    "promoter": ("服务很专业，交车很顺利。", "Smooth handover and a very helpful advisor."),
    "passive": ("总体还可以，等待时间有点长。", "Fine overall, the wait was a bit long."),
    "detractor": ("智能钥匙问题一直没解决，很失望。", "The smart key problem is still not fixed."),
}
# What stranded owners tell the roadside-assistance line from the app, by reason.
ROADSIDE_CALLS = {
    "flat_tyre": (
        Text("zh", "高速上爆胎", "左后轮爆胎，车停在应急车道，需要救援。"),
        Text("en", "Flat tyre on the motorway", "Rear left tyre is flat, the car is parked on "
             "the hard shoulder. Please send help."),
    ),
    "battery_12v": (
        Text("zh", "车辆无法上电", "小电瓶没电了，车辆无法上电，停在小区车库。"),
        Text("en", "Car will not power on", "The 12 V battery seems flat: the car will not "
             "power on in my building's car park."),
    ),
    "out_of_charge": (
        Text("zh", "电量耗尽", "电量耗尽，车停在路边，附近没有充电桩，需要拖车。"),
        Text("en", "Ran out of charge", "The battery ran out on the road and there is no "
             "charger nearby. I need a tow or a mobile charger."),
    ),
    "key_not_recognised": (
        Text("zh", "钥匙无法识别", "车辆识别不到钥匙，无法启动，人在外地。"),
        Text("en", "Key not recognised", "The car does not recognise the key and will not "
             "start. I am away from home."),
    ),
    "overheating": (
        Text("zh", "散热风扇故障报警", "仪表提示散热风扇故障，车辆限功率，已靠边停车。"),
        Text("en", "Cooling fan warning", "The dashboard shows a cooling fan fault and the car "
             "has limited power. I pulled over."),
    ),
}  # fmt: skip
