"""The words text analysis weighs, in Chinese and English. Data only.

Weights are how strongly a word pulls sentiment: 1 an ordinary opinion word, 1.5 a word
that reports something broken, 2 an outburst. Problem patterns are matched inside the raw
Chinese text (segmentation splits some of them); everything else per token.
"""

POSITIVE_ZH = {
    "好": 1, "很好": 1, "不错": 1, "满意": 1, "喜欢": 1, "棒": 1, "赞": 1, "点赞": 1,
    "优秀": 1, "完美": 1.5, "流畅": 1, "方便": 1, "舒服": 1, "舒适": 1, "专业": 1,
    "贴心": 1, "热情": 1, "耐心": 1, "周到": 1, "准时": 1, "推荐": 1, "感谢": 1, "谢谢": 1,
    "省心": 1, "安静": 1, "靠谱": 1, "好用": 1, "给力": 1, "惊喜": 1, "划算": 1, "顺利": 1,
    "高效": 1, "及时": 1, "细致": 1, "清楚": 0.5, "快": 0.5, "稳": 0.5, "开心": 1, "值得": 1,
    "超值": 1, "满分": 1.5, "好评": 1.5, "完善": 1, "认真": 1, "负责": 1, "友好": 1,
}  # fmt: skip

NEGATIVE_ZH = {
    "差": 1, "很差": 1.5, "太差": 2, "糟糕": 1.5, "失望": 1.5, "垃圾": 2, "坑": 1.5,
    "坑人": 2, "不满": 1.5, "生气": 1.5, "愤怒": 2, "气愤": 2, "恶心": 2, "无语": 1.5,
    "郁闷": 1, "烦": 1, "难用": 1.5, "慢": 1, "太慢": 1.5, "贵": 1, "太贵": 1.5, "离谱": 1.5,
    "敷衍": 1.5, "推诿": 1.5, "推脱": 1.5, "欺骗": 2, "忽悠": 2, "拖延": 1.5, "延期": 1,
    "后悔": 1.5, "浪费": 1, "麻烦": 1, "问题": 0.5, "毛病": 1, "隐患": 1.5, "卡顿": 1.5,
    "不耐烦": 1.5, "冷漠": 1.5, "乱收费": 2, "虚假": 1.5, "骗": 1.5, "耽误": 1, "糟心": 1.5,
    "闹心": 1.5, "难受": 1, "吐槽": 1, "缩水": 1, "虚标": 1.5, "不靠谱": 1.5, "不专业": 1.5,
    "态度差": 1.5, "没人管": 1.5, "没人理": 1.5, "不理": 1, "一直等": 1, "遥遥无期": 1.5,
    "衰减": 1, "掉电": 1.5, "严重": 1, "折腾": 1, "白跑": 1.5, "崩溃": 1.5, "过分": 1.5,
    "坏": 1.5, "寒心": 2, "堪忧": 1.5, "别扭": 1, "误触": 1, "吓": 1.5, "吓人": 1.5,
    "不敢": 1.5, "犹豫": 1, "形同虚设": 2, "没电": 1, "趴窝": 2, "听不懂": 1.5, "绕路": 1,
    "找不到": 1, "不均匀": 1, "差太多": 1.5, "差很多": 1.5, "莫名其妙": 1.5, "查不到": 1,
    "一拖再拖": 2, "不尊重": 2, "混乱": 1.5, "危险": 1.5, "担心": 1, "没有补偿": 1.5,
    "不解释": 1.5, "偏": 0.5, "不一致": 1, "乱": 1, "扣费": 1, "变了": 1, "不给": 1,
    "小毛病": 1, "谁买谁知道": 2, "凑合": 1, "鸡肋": 1.5, "缺陷": 1.5, "投诉": 1,
}  # fmt: skip

# Found anywhere in Chinese text: things that do not work.
PROBLEM_PATTERNS_ZH = (
    "打不开", "连不上", "充不上", "充不进", "用不了", "开不了", "锁不上", "解不了锁",
    "启动不了", "识别不了", "连接不上", "无法", "不能用", "没反应", "不工作", "不灵",
    "失灵", "掉线", "死机", "黑屏", "卡死", "闪退", "异响", "漏水", "故障", "报错", "失败",
    "坏了", "断连", "没法", "识别不到", "感应不到", "充电慢", "升级失败", "又出现",
    "还没", "都没", "没人", "没给", "没消息", "没解决", "不给", "拖了", "等了", "扣了两次",
    "一半都是坏", "要收费", "不说一声", "不能用", "才有反应", "没有回复",
)  # fmt: skip

NEGATIONS_ZH = frozenset({"不", "没", "没有", "别", "未", "无", "并不", "不太", "不是", "从不"})
INTENSIFIERS_ZH = frozenset({"很", "非常", "太", "特别", "极其", "超级", "十分", "真", "巨"})
CONTRASTS_ZH = ("但是", "但", "可是", "不过", "然而", "结果")

POSITIVE_EN = {
    "great": 1, "good": 1, "excellent": 1.5, "amazing": 1.5, "love": 1.5, "loved": 1.5,
    "loves": 1.5, "perfect": 1.5, "smooth": 1, "happy": 1, "satisfied": 1, "pleased": 1,
    "impressed": 1, "recommend": 1, "fantastic": 1.5, "wonderful": 1.5, "awesome": 1.5,
    "friendly": 1, "helpful": 1, "professional": 1, "quick": 0.5, "fast": 0.5, "easy": 1,
    "comfortable": 1, "quiet": 0.5, "reliable": 1, "nice": 1, "best": 1, "thanks": 1,
    "thank": 1, "thorough": 1, "efficient": 1, "seamless": 1, "enjoy": 1, "enjoying": 1,
    "solid": 0.5, "clean": 0.5, "transparent": 1, "fair": 0.5, "reasonable": 0.5,
    "polite": 1, "patient": 1, "punctual": 1, "flawless": 1.5, "superb": 1.5, "improved": 1,
    "glad": 1, "exceeded": 1, "kind": 0.5, "attentive": 1, "brilliant": 1.5, "works": 0.5,
    "quickly": 0.5, "clearly": 0.5, "convenient": 1, "relaxing": 1, "fun": 1, "accurate": 1,
    "value": 0.5, "tidy": 1, "fuss": 0,
}  # fmt: skip

NEGATIVE_EN = {
    "terrible": 2, "awful": 2, "horrible": 2, "worst": 2, "bad": 1, "poor": 1,
    "disappointed": 1.5, "disappointing": 1.5, "frustrated": 1.5, "frustrating": 1.5,
    "annoying": 1, "annoyed": 1, "angry": 1.5, "unacceptable": 2, "ridiculous": 1.5,
    "useless": 2, "rude": 1.5, "unprofessional": 1.5, "overpriced": 1.5, "expensive": 1,
    "ripoff": 2, "scam": 2, "nightmare": 2, "regret": 1.5, "waste": 1.5, "worse": 1.5,
    "hate": 1.5, "sloppy": 1.5, "incompetent": 2, "ignored": 1.5, "unhelpful": 1.5,
    "misleading": 1.5, "upset": 1.5, "pathetic": 2, "joke": 1, "slow": 1, "delayed": 1,
    "late": 1, "broken": 1.5, "fails": 1.5, "failed": 1.5, "failing": 1.5, "failure": 1.5,
    "faulty": 1.5, "malfunction": 1.5, "malfunctions": 1.5, "crash": 1.5, "crashes": 1.5,
    "crashed": 1.5, "freezes": 1.5, "frozen": 1, "freezing": 1, "laggy": 1.5, "lags": 1.5,
    "lag": 1, "glitch": 1.5, "glitches": 1.5, "glitchy": 1.5, "bug": 1, "bugs": 1,
    "buggy": 1.5, "dead": 1, "drains": 1, "stuck": 1, "error": 1, "errors": 1, "noisy": 1,
    "rattle": 1, "rattling": 1, "leak": 1, "leaks": 1, "leaking": 1, "defective": 1.5,
    "disconnects": 1.5, "unresponsive": 1.5, "overheating": 1.5, "problem": 0.5,
    "problems": 0.5, "issue": 0.5, "issues": 0.5, "again": 0.5, "still": 0.3,
    "excuses": 1.5, "overcharged": 2, "hidden": 1, "wrong": 1, "missing": 1, "damaged": 1.5,
    "scratched": 1.5, "scratches": 1, "squeaks": 1, "squeaking": 1, "confusing": 1,
    "mess": 1.5, "unreliable": 1.5, "flaky": 1.5, "drops": 1, "dropped": 1, "dropping": 1,
    "nobody": 1, "worthless": 2, "shocking": 1.5, "lied": 2, "stopped": 1, "rejected": 1,
    "cancelled": 1, "postponed": 1, "degraded": 1.5, "degradation": 1.5, "lost": 0.5,
    "nowhere": 1.5, "misunderstands": 1.5, "chaotic": 1.5, "slipping": 1, "upsell": 1.5,
    "greasy": 1.5, "barely": 1, "uneven": 1, "chipping": 1.5, "scared": 1.5, "drifts": 1,
    "hesitates": 1, "disappeared": 1.5, "twice": 0.5, "stranded": 2, "fault": 1,
    "died": 1.5, "dirty": 1.5, "unanswered": 1.5, "terrifying": 2, "dangerous": 2,
    "regretting": 1.5, "fed": 0.5, "outdated": 1, "honk": 0.5, "trust": 0, "worried": 1.5,
    "concerned": 1, "inconsistent": 1, "refused": 1.5, "excuse": 1.5, "mislead": 1.5,
}  # fmt: skip

# Verbs that, negated ("won't unlock", "doesn't charge"), report something broken.
FUNCTION_VERBS_EN = frozenset({
    "work", "working", "start", "starting", "connect", "connecting", "charge", "charging",
    "open", "opening", "unlock", "unlocking", "lock", "locking", "load", "loading",
    "update", "updating", "respond", "responding", "turn", "recognize", "recognise",
    "detect", "pair", "pairing", "sync", "boot", "install", "complete", "fixed", "fix",
    "help", "answer", "call", "reply", "show", "arrive", "arrived", "responded", "trust",
    "explain", "release", "need", "offered", "cool", "hear", "tell",
})  # fmt: skip

NEGATIONS_EN = frozenset({
    "not", "no", "never", "nothing", "don't", "doesn't", "didn't", "isn't", "wasn't",
    "won't", "can't", "cannot", "couldn't", "wouldn't", "aren't", "weren't", "unable",
    "hardly", "without", "nor", "dont", "doesnt", "didnt", "wont", "cant", "isnt",
})  # fmt: skip
INTENSIFIERS_EN = frozenset({"very", "really", "so", "extremely", "totally", "completely"})
CONTRASTS_EN = ("but", "however", "although", "though", "yet", "unfortunately")

# Words that say "this is a complaint" whatever else the text says.
COMPLAINT_WORDS_ZH = (
    "投诉", "维权", "退车", "退款", "赔偿", "索赔", "曝光", "12315", "消协", "律师", "起诉",
    "给个说法", "讨个说法", "要求处理", "没人处理",
)  # fmt: skip
COMPLAINT_WORDS_EN = (
    r"\bcomplain(t|ts|ing|ed)?\b", r"\brefund\b", r"\bcompensat", r"\blawyer\b", r"\blawsuit\b",
    r"\bsue\b", r"\bescalat", r"\bconsumer protection\b", r"\blemon\b", r"\bmoney back\b",
    r"\bnever buy", r"\bwould not recommend\b", r"\bwouldn't recommend\b", r"\bavoid\b",
    r"\bbait and switch\b", r"\bbilled twice\b", r"\bcharged twice\b", r"\bgiven up\b",
    r"\bnobody (called|responded|answered|got back)", r"\bno one (called|responded)",
    r"\b(still|keeps?) (waiting|telling me to wait)", r"\bcutting out\b", r"\bout of date\b",
    r"\bback order\b", r"\bwants to charge\b",
)  # fmt: skip

# A text that names any of these is about safety, whatever its tone.
SAFETY_ZH = (
    "刹车失灵", "刹不住", "制动失效", "刹车失效", "起火", "着火", "自燃", "冒烟", "失控",
    "突然加速", "意外加速", "安全气囊", "气囊", "爆炸", "漏电", "触电", "方向盘锁死",
    "转向失灵", "被困", "车祸", "高速上熄火", "高速熄火", "动力中断", "热失控", "电池鼓包",
    "焦糊味", "烧焦", "突然断电", "行驶中断电", "刹车变软", "差点追尾", "险些",
)  # fmt: skip
SAFETY_EN = (
    r"\bbrakes? (failed|fail|fails|failure|not working|stopped working|went soft|gave out)",
    r"\b(caught|catch|on) fire\b", r"\bfire\b", r"\bsmoke\b", r"\bsmoking\b",
    r"\bburning smell\b", r"\blost control\b", r"\bloss of control\b",
    r"\bsudden(ly)? accelerat", r"\bunintended acceleration\b", r"\bairbags?\b",
    r"\belectric shock\b", r"\bsteering (locked|failure|failed|lock)", r"\btrapped\b",
    r"\baccident\b", r"\bcollision\b", r"\bnearly (crashed|hit|rear-ended)",
    r"\b(stalled|lost power|shut down|died|cut out) (on|at|in) (the )?"
    r"(highway|motorway|freeway|expressway|road|intersection)",
    r"\bthermal runaway\b", r"\bbattery (swelling|swollen|overheat)", r"\bexplo(de|ded|sion)",
)  # fmt: skip

# Words that say the problem keeps coming back: severity goes up a level.
REPEAT_ZH = ("又", "再次", "一直", "总是", "老是", "反复", "经常", "多次", "第二次", "第三次")
REPEAT_EN = (
    r"\bagain\b", r"\bkeeps?\b", r"\brepeatedly\b", r"\bevery time\b", r"\bconstantly\b",
    r"\b(second|third|fourth) time\b", r"\bstill\b", r"\balways\b", r"\bmultiple times\b",
)  # fmt: skip
