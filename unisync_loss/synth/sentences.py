"""Random but grammatical sentences to speak: a small phrase grammar per language, deterministic from a generator.

The vocabulary is chosen for a broad mix of visemes: bilabials (p, b, m), labiodentals (f, v), rounded vowels and
glides (o, u, w), open vowels (a) and spread vowels (i, e).
"""

from __future__ import annotations

import numpy as np

_EN = {
    "det": ("the", "a", "my", "your", "every", "this", "that", "one", "some", "her", "his", "our"),
    "adj": ("big", "small", "brown", "purple", "happy", "quiet", "famous", "very old", "wooden", "bright", "cheap",
            "heavy", "friendly", "muddy", "frozen", "busy", "lovely", "modern", "broken", "yellow", "smooth",
            "foolish", "warm", "bumpy", "fluffy", "massive", "pale", "vivid"),
    "noun": ("boat", "farmer", "mother", "baby", "window", "pumpkin", "violin", "museum", "bottle", "puppy",
             "teacher", "wolf", "bridge", "bubble", "camera", "family", "garden", "movie", "kitchen", "phone",
             "umbrella", "market", "village", "banana", "monkey", "elephant", "robot", "pilot", "office", "beach",
             "mountain", "fish", "book", "apple", "river", "tower", "forest", "wagon", "map", "balloon"),
    "verb": ("moved", "bought", "painted", "found", "pushed", "visited", "played with", "watched", "followed",
             "fixed", "washed", "opened", "borrowed", "measured", "photographed", "carried", "remembered", "loved",
             "avoided", "folded", "weighed", "praised", "grabbed", "threw away", "mapped"),
    "adv": ("before breakfast", "by the river", "every morning", "in the evening", "at the market", "with a smile",
            "very slowly", "from far away", "for a while", "above the bridge", "on Monday", "behind the museum",
            "without a word", "over and over", "by the window", "in a hurry"),
    "conj": ("and then", "but", "because", "while", "so", "before", "after"),
}
_EN_TEMPLATES = (("det", "adj", "noun", "verb", "det", "noun", "adv"), ("det", "noun", "verb", "det", "adj", "noun"),
                 ("det", "adj", "noun", "verb", "det", "noun"), ("det", "noun", "adv", "verb", "det", "adj", "noun"))

_ZH = {
    "subj": ("我", "你", "他", "她", "我们", "老师", "妈妈", "爸爸", "朋友", "医生", "小明", "邻居", "学生们", "奶奶"),
    "time": ("今天", "明天", "昨天", "早上", "晚上", "周末", "每天", "下午", "刚才", "现在"),
    "place": ("在北京", "在学校", "在家里", "在公园", "在商店", "在饭馆", "在办公室", "在河边", "在图书馆", "在山上"),
    "verb": ("买了", "看见了", "吃了", "喜欢", "打开了", "拿走了", "写了", "找到了", "洗了", "带来了", "画了", "卖了"),
    "obj": ("一本书", "苹果", "面包", "三杯茶", "新衣服", "两只猫", "一封信", "木头桌子", "白米饭", "五个包子",
            "漂亮的花", "一辆自行车", "红色的帽子", "很多葡萄"),
    "conj": ("然后", "但是", "因为", "所以", "后来"),
}
_ZH_TEMPLATES = (("subj", "time", "place", "verb", "obj"), ("time", "subj", "verb", "obj"),
                 ("subj", "place", "verb", "obj"))


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def phrase(rng: np.random.Generator, language: str = "en") -> str:
    """One short sentence (about 1.5-3 s of speech) in ``language`` ("en" or "zh")."""
    if language == "en":
        words = [_pick(rng, _EN[slot]) for slot in _pick(rng, _EN_TEMPLATES)]
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."
    if language == "zh":
        return "".join(_pick(rng, _ZH[slot]) for slot in _pick(rng, _ZH_TEMPLATES)) + "。"
    raise ValueError(f"language: expected 'en' or 'zh', got {language!r}")
