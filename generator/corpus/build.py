"""Build the demo corpus: seeded, combinatorial marketing copy in English and Chinese.

Run ``python -m generator.corpus.build`` (defaults write generator/data/).
The same seed always gives byte-identical files. See README.md here for how
the texts are put together and what the corpus can and cannot teach.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from generator.corpus.lexicon import CATEGORIES, CHANNELS_FOR, CTAS, PERSONAS, TONES
from generator.prompt import LENGTH_LIMITS, GenerationSpec, copy_length, relexicalize

P = "{product}"
# Rows per content type and language before the held-out split; long types
# cost more tokens, so they get fewer rows.
COUNTS = {
    "ad_headline": 700,
    "ad_description": 650,
    "slogan": 600,
    "product_description": 550,
    "social_post": 650,
    "email_subject": 650,
    "video_script": 500,
}
HELDOUT_FRACTION = 0.1
# Content types whose copy must name the product.
NEEDS_PRODUCT = {"ad_description", "product_description", "social_post", "video_script"}
_SMALL = {
    "a",
    "an",
    "the",
    "and",
    "or",
    "for",
    "with",
    "to",
    "of",
    "in",
    "on",
    "at",
    "by",
    "from",
}


class Skip(Exception):
    """The pattern needs something this row does not have; try another."""


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def title(text: str) -> str:
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if word.startswith("{") or (i and word in _SMALL):
            out.append(word)
        else:
            out.append(cap(word))
    return " ".join(out)


class Ctx:
    """One row's fixed choices (category, tone, persona, channel) and what it used."""

    def __init__(self, rng: random.Random, language: str, content_type: str) -> None:
        self.rng, self.lang, self.ct = rng, language, content_type
        self.cat_key = rng.choice(sorted(CATEGORIES))
        category = CATEGORIES[self.cat_key]
        self.cat = category[language]
        self.product, brand_en, brand_zh = rng.choice(category["products"])
        self.brand_name = (
            brand_zh if language == "zh" and rng.random() < 0.7 else brand_en
        )
        self.has_brand = rng.random() < 0.75
        r = rng.random()
        tone_keys = sorted(TONES)
        self.tones = [] if r < 0.15 else rng.sample(tone_keys, 1 if r < 0.75 else 2)
        self.persona = rng.choice(PERSONAS) if rng.random() < 0.6 else None
        self.channel = rng.choice(CHANNELS_FOR[content_type])
        self.fact_pool = rng.sample(self.cat["facts"], len(self.cat["facts"]))
        self.kw_pool = rng.sample(self.cat["keywords"], len(self.cat["keywords"]))
        self.reset()

    def reset(self) -> None:
        self.n_facts = 0
        self.kws: list[str] = []
        self.brand_used = self.persona_used = self.tone_used = False
        self.taken: set[str] = set()

    def pick(self, key: str) -> str:
        """A phrase from the category bank, not one already used in this text."""
        options = [o for o in self.cat[key] if o not in self.taken]
        choice = self.rng.choice(options or self.cat[key])
        self.taken.add(choice)
        return choice

    def ben(self) -> str:
        return self.pick("benefits")

    def scene(self) -> str:
        return self.pick("scenes")

    def outcome(self) -> str:
        return self.pick("outcomes")

    def adj(self) -> str:
        adjective = self.pick("adjectives")
        # Long Chinese modifiers read better with 的: 直观易用的项目管理工具.
        return (
            adjective + "的" if self.lang == "zh" and len(adjective) >= 4 else adjective
        )

    def noun(self) -> str:
        return self.cat["noun"]

    def fact(self) -> str:
        if self.n_facts >= 3:
            raise Skip
        self.n_facts += 1
        return f"{{fact{self.n_facts}}}"

    def kw(self) -> str:
        if len(self.kws) >= 3:
            raise Skip
        keyword = self.kw_pool[len(self.kws)]
        self.kws.append(keyword)
        return keyword

    def brand(self) -> str:
        if not self.has_brand:
            raise Skip
        self.brand_used = True
        return "{brand}"

    def aud(self) -> str:
        if self.persona is None:
            raise Skip
        self.persona_used = True
        return self.persona["audience"][self.lang]

    def line(self) -> str:
        self.aud()
        return self.rng.choice(self.persona["line"][self.lang])

    def _tone(self, index: int) -> dict:
        if not self.tones:
            raise Skip
        self.tone_used = True
        return TONES[self.tones[index]][self.lang]

    def opener(self) -> str:
        return self.rng.choice(self._tone(0)["openers"])

    def closer(self) -> str:
        return self.rng.choice(self._tone(-1)["closers"])

    def tag(self) -> str:
        return self._tone(0)["tag"]

    def emoji(self) -> str:
        return self.rng.choice(self._tone(-1)["emoji"])

    def cta(self) -> str:
        return self.rng.choice(CTAS[self.channel][self.lang])

    def _snapshot(self) -> tuple:
        return (
            self.n_facts,
            list(self.kws),
            self.brand_used,
            self.persona_used,
            self.tone_used,
            set(self.taken),
        )

    def _restore(self, snap: tuple) -> None:
        (
            self.n_facts,
            self.kws,
            self.brand_used,
            self.persona_used,
            self.tone_used,
            self.taken,
        ) = snap

    def _attempt(self, fn: Callable[[], str]) -> str | None:
        """fn(), or None with nothing recorded if it needs what this row lacks."""
        snap = self._snapshot()
        try:
            return fn()
        except Skip:
            self._restore(snap)
            return None

    def maybe(self, p: float, fn: Callable[[], str]) -> str:
        """fn() with probability p, or "" (also when fn needs what is missing)."""
        if self.rng.random() >= p:
            return ""
        return self._attempt(fn) or ""

    def one(self, *patterns: Callable[[], str]) -> str:
        """The first pattern, in random order, that this row can fill."""
        for pattern in self.rng.sample(patterns, len(patterns)):
            text = self._attempt(pattern)
            if text is not None:
                return text
        raise Skip


def _sentences(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


# English composers ---------------------------------------------------------------


def en_ad_headline(c: Ctx) -> str:
    return c.one(
        lambda: f"{P}: {title(c.ben())}",
        lambda: f"{title(c.ben())} with {P}",
        lambda: f"Meet {P}, the {title(c.adj())} {title(c.noun())}",
        lambda: f"{title(c.kw())} by {c.brand()}",
        lambda: f"{P} | {title(c.kw())}",
        lambda: f"The {title(c.adj())} {title(c.noun())} for {title(c.aud())}",
        lambda: f"{c.tag()} {P}",
        lambda: f"{c.tag()} {title(c.ben())}",
        lambda: f"{P} with {c.fact()}",
        lambda: f"{cap(c.ben())} {c.scene()}",
        lambda: f"{c.brand()} {P}: {title(c.outcome())}",
        lambda: f"{title(c.kw())}, Done Right: {P}",
    )


def en_ad_description(c: Ctx) -> str:
    first = c.one(
        lambda: f"{cap(c.ben())} {c.scene()}.",
        lambda: f"Looking for {c.kw()}?",
        lambda: f"Meet {P}, the {c.adj()} {c.noun()} from {c.brand()}.",
        lambda: f"Meet {P}.",
    )
    second = c.one(
        lambda: f"{P} brings {c.fact()} and {c.fact()}.",
        lambda: f"With {c.fact()}, {P} helps you {c.ben()}.",
        lambda: f"{P} pairs {c.fact()} with {c.outcome()}.",
        lambda: f"Enjoy {c.fact()} and {c.outcome()}.",
    )
    return _sentences(
        c.maybe(0.4, c.opener),
        first,
        second,
        c.maybe(0.35, lambda: f"Made for {c.aud()}."),
        c.maybe(0.3, lambda: f"The {c.kw()} you've been waiting for."),
        c.cta() if c.rng.random() < 0.7 else c.maybe(1, c.closer) or c.cta(),
    )


def en_slogan(c: Ctx) -> str:
    pains, gains = c.cat["pains"], c.cat["gains"]
    return c.one(
        lambda: f"{cap(c.ben())}.",
        lambda: f"Less {c.rng.choice(pains)}. More {c.rng.choice(gains)}.",
        lambda: f"{cap(c.outcome())}, {c.scene()}.",
        lambda: f"{c.brand()}. {cap(c.outcome())}.",
        lambda: f"{P}. {cap(c.ben())}.",
        lambda: f"{cap(c.ben())}, {c.scene()}.",
        lambda: f"Your {c.rng.choice(gains)}, your way.",
        lambda: f"{cap(c.ben())}. {c.closer()}",
        lambda: f"{cap(c.outcome())} for {c.aud()}.",
        lambda: f"{cap(c.rng.choice(gains))} starts here.",
        lambda: f"{cap(c.ben())} with {c.brand()}.",
    )


def en_product_description(c: Ctx) -> str:
    intro = c.one(
        lambda: f"Meet {P}, the {c.adj()} {c.noun()} from {c.brand()}.",
        lambda: f"Introducing {P}: {c.outcome()}.",
        lambda: f"{c.opener()} {P} is here to help you {c.ben()}.",
        lambda: f"{P} is the {c.adj()} {c.noun()} made to help you {c.ben()}.",
    )
    body = [
        lambda: f"With {c.fact()}, you can {c.ben()} {c.scene()}.",
        lambda: f"{c.fact()} means {c.outcome()}.",
        lambda: f"It also comes with {c.fact()}.",
        lambda: f"Thanks to {c.fact()}, it's easy to {c.ben()}.",
        lambda: f"Add {c.fact()}, and you get {c.outcome()}.",
    ]
    sentences = [intro]
    for pattern in c.rng.sample(body, c.rng.choice([2, 2, 3])):
        sentences.append(c.maybe(1, pattern))
    sentences.append(
        c.maybe(
            0.5,
            lambda: (
                c.rng.choice([f"Designed for {c.aud()}.", f"{cap(c.aud())} love it."])
                + " "
                + c.line()
            ),
        )
    )
    kw_lines = [
        lambda: f"If you've been searching for {c.kw()}, this is it.",
        lambda: f"It's the {c.kw()} you've been waiting for.",
        lambda: f"When it comes to {c.kw()}, {P} sets a new standard.",
    ]
    for pattern in c.rng.sample(kw_lines, c.rng.choice([0, 1, 1, 2])):
        sentences.append(c.maybe(1, pattern))
    sentences.append(c.maybe(0.6, c.closer))
    sentences.append(c.cta())
    return _sentences(*sentences)


def en_social_post(c: Ctx) -> str:
    hook = c.one(
        lambda: f"Say hello to {P}.",
        lambda: f"{P} just landed.",
        lambda: f"Who else wants to {c.ben()} {c.scene()}? {P} is here.",
        lambda: f"New drop: {P}, the {c.adj()} {c.noun()} from {c.brand()}.",
    )
    body = c.one(
        lambda: f"It has {c.fact()} and {c.fact()}, so you can {c.ben()}.",
        lambda: f"Think {c.fact()}, {c.fact()} and {c.outcome()}.",
        lambda: f"{c.fact()} + {c.fact()} = {c.outcome()}.",
        lambda: f"With {c.fact()}, you'll {c.ben()}.",
    )
    text = _sentences(
        c.maybe(0.6, c.opener),
        hook,
        body,
        c.maybe(0.5, lambda: f"Searching for {c.kw()}? Look no further."),
        c.maybe(0.4, lambda: f"Perfect for {c.aud()}."),
        c.cta(),
        c.maybe(0.6, c.emoji),
    )
    tags = c.rng.sample(c.cat["hashtags"], c.rng.choice([0, 1, 2]))
    return text + ("\n" + " ".join(tags) if tags else "")


def en_email_subject(c: Ctx) -> str:
    return c.one(
        lambda: f"{P} is here: {c.ben()}",
        lambda: f"{c.tag()} {P} is here",
        lambda: f"Your new {c.noun()}: {P}",
        lambda: f"{cap(c.aud())}, this one's for you",
        lambda: f"{c.tag()} {cap(c.ben())} with {P}",
        lambda: f"{cap(c.ben())} with {P}",
        lambda: f"Inside: {c.fact()} and more",
        lambda: f"{cap(c.kw())}, now with {c.fact()}",
        lambda: f"Meet {P} {c.emoji()}",
        lambda: f"Ready to {c.ben()}?",
        lambda: f"{c.brand()} presents {P}",
    )


def en_video_script(c: Ctx) -> str:
    shot = c.rng.choice(c.cat["shots"])
    hook = c.one(
        c.opener,
        lambda: f"Ever wished you could {c.ben()} {c.scene()}?",
        lambda: f"This is how you {c.ben()}.",
    )
    pitch = c.one(
        lambda: f"Meet {P}. With {c.fact()} and {c.fact()}, you can {c.ben()}.",
        lambda: f"{P} gives you {c.fact()}, so you can {c.ben()}.",
        lambda: f"Meet {P}, the {c.adj()} {c.noun()} with {c.fact()}.",
    )
    lines = [
        f"[Scene: {cap(shot)}.]",
        f"VO: {hook}",
        f"[Close-up: {P}.]",
        f"VO: {pitch}",
    ]
    if c.persona and c.rng.random() < 0.6:
        lines += [f"[Scene: {cap(c.aud())} {c.scene()}.]", f"VO: {c.line()}"]
    kw = c.maybe(0.4, lambda: f"VO: {cap(c.kw())}, made to keep up with you.")
    if kw:
        lines.append(kw)
    end = c.maybe(0.5, lambda: f"[End card: {c.brand()} logo and {P}.]")
    lines.append(end or f"[End card: {P} logo.]")
    lines.append(f"VO: {P}. {cap(c.outcome())}. {c.maybe(0.5, c.closer) or c.cta()}")
    return "\n".join(lines)


# Chinese composers ---------------------------------------------------------------


def zh_ad_headline(c: Ctx) -> str:
    return c.one(
        lambda: f"{P}｜{c.ben()}",
        lambda: f"{c.adj()}{c.noun()}，就选{P}",
        lambda: f"{c.scene()}，有{P}就能{c.ben()}",
        lambda: f"{c.kw()}新选择：{P}",
        lambda: f"【{c.tag()}】{P}，{c.ben()}",
        lambda: f"{c.brand()}{P}，{c.outcome()}",
        lambda: f"专为{c.aud()}打造的{c.noun()}",
        lambda: f"{P}：{c.fact()}",
        lambda: f"{P}，{c.outcome()}",
    )


def zh_ad_description(c: Ctx) -> str:
    first = c.one(
        lambda: f"{c.scene()}，也想{c.ben()}？",
        lambda: f"还在找{c.kw()}？",
        lambda: f"{c.brand()}全新{P}来了。",
        lambda: f"全新{P}，{c.outcome()}。",
    )
    second = c.one(
        lambda: f"{P}拥有{c.fact()}和{c.fact()}，让你{c.ben()}。",
        lambda: f"凭借{c.fact()}，{P}带来{c.outcome()}。",
        lambda: f"{c.fact()}加上{c.fact()}，{c.outcome()}一步到位。",
    )
    return _sentences(
        c.maybe(0.4, c.opener),
        first,
        second,
        c.maybe(0.35, lambda: f"专为{c.aud()}打造。"),
        c.maybe(0.3, lambda: f"你一直在等的{c.kw()}，就是它。"),
        c.cta() if c.rng.random() < 0.7 else c.maybe(1, c.closer) or c.cta(),
        sep="",
    )


def zh_slogan(c: Ctx) -> str:
    pains, gains = c.cat["pains"], c.cat["gains"]
    return c.one(
        lambda: f"{c.ben()}，{c.ben()}。",
        lambda: f"少一点{c.rng.choice(pains)}，多一点{c.rng.choice(gains)}。",
        lambda: f"{c.brand()}，{c.outcome()}。",
        lambda: f"有{P}，{c.ben()}。",
        lambda: f"{c.rng.choice(gains)}，从此刻开始。",
        lambda: f"{c.ben()}，就是现在。",
        lambda: f"{c.outcome()}，{c.closer()}",
        lambda: f"为{c.aud()}，{c.ben()}。",
    )


def zh_product_description(c: Ctx) -> str:
    intro = c.one(
        lambda: f"{P}是{c.brand()}推出的一款{c.adj()}{c.noun()}。",
        lambda: f"全新{P}，为{c.outcome()}而来。",
        lambda: f"{c.opener()}{P}，帮你{c.ben()}。",
        lambda: f"{P}是一款{c.adj()}{c.noun()}，帮你{c.ben()}。",
    )
    body = [
        lambda: f"凭借{c.fact()}，你可以在{c.scene()}{c.ben()}。",
        lambda: f"{c.fact()}，带来{c.outcome()}。",
        lambda: f"它还拥有{c.fact()}。",
        lambda: f"有了{c.fact()}，想{c.ben()}再简单不过。",
        lambda: f"再加上{c.fact()}，{c.outcome()}触手可及。",
    ]
    sentences = [intro]
    for pattern in c.rng.sample(body, c.rng.choice([2, 2, 3])):
        sentences.append(c.maybe(1, pattern))
    sentences.append(
        c.maybe(
            0.5,
            lambda: (
                c.rng.choice([f"专为{c.aud()}设计，", f"{c.aud()}的理想之选，"])
                + c.line()
            ),
        )
    )
    kw_lines = [
        lambda: f"如果你正在寻找{c.kw()}，{P}值得一试。",
        lambda: f"在众多{c.kw()}中，{P}脱颖而出。",
        lambda: f"这就是你想要的{c.kw()}。",
    ]
    for pattern in c.rng.sample(kw_lines, c.rng.choice([0, 1, 1, 2])):
        sentences.append(c.maybe(1, pattern))
    sentences.append(c.maybe(0.6, c.closer))
    sentences.append(c.cta())
    return _sentences(*sentences, sep="")


def zh_social_post(c: Ctx) -> str:
    hook = c.one(
        lambda: f"{P}终于来啦！",
        lambda: f"谁懂啊，{c.scene()}也能{c.ben()}！{P}真的绝了！",
        lambda: f"新品上线：{c.brand()}{P}！",
        lambda: f"姐妹们，{P}真的绝了！",
    )
    body = c.one(
        lambda: f"{c.fact()}+{c.fact()}，{c.ben()}～",
        lambda: f"有了{c.fact()}，{c.outcome()}就是这么简单。",
        lambda: f"{c.fact()}，{c.ben()}。",
    )
    text = _sentences(
        c.maybe(0.6, c.opener),
        hook,
        body,
        c.maybe(0.4, lambda: f"这款{c.kw()}真的值得入！"),
        c.maybe(0.4, lambda: f"{c.aud()}闭眼入！"),
        c.cta(),
        c.maybe(0.6, c.emoji),
        sep="",
    )
    tags = [f"#{c.kw()}#" for _ in range(c.rng.choice([0, 1, 1, 2])) if len(c.kws) < 3]
    tags += c.rng.sample(c.cat["hashtags"], c.rng.choice([0, 1]))
    tags = list(dict.fromkeys(tags))
    return text + ("\n" + "".join(tags) if tags else "")


def zh_email_subject(c: Ctx) -> str:
    return c.one(
        lambda: f"【{c.tag()}】{P}上新，{c.ben()}",
        lambda: f"{c.aud()}专属：{P}来了",
        lambda: f"{c.fact()}，{P}等你来体验",
        lambda: f"你的新{c.noun()}：{P}",
        lambda: f"【{c.tag()}】{c.ben()}，就差这一步",
        lambda: f"{c.kw()}上新｜{P}",
        lambda: f"想{c.ben()}吗？打开看看",
        lambda: f"{c.brand()}新品{P}，{c.outcome()}",
    )


def zh_video_script(c: Ctx) -> str:
    shot = c.rng.choice(c.cat["shots"])
    hook = c.one(
        c.opener,
        lambda: f"想在{c.scene()}{c.ben()}吗？",
        lambda: f"这就是{c.ben()}的秘诀。",
    )
    pitch = c.one(
        lambda: f"{P}，{c.fact()}加{c.fact()}，让你{c.ben()}。",
        lambda: f"凭借{c.fact()}，{P}带来{c.outcome()}。",
        lambda: f"这是{P}，一款拥有{c.fact()}的{c.adj()}{c.noun()}。",
    )
    lines = [f"【画面】{shot}", f"旁白：{hook}", f"【特写】{P}", f"旁白：{pitch}"]
    if c.persona and c.rng.random() < 0.6:
        lines += [f"【画面】{c.aud()}的日常", f"旁白：{c.line()}"]
    kw = c.maybe(0.4, lambda: f"旁白：这才是你想要的{c.kw()}。")
    if kw:
        lines.append(kw)
    end = c.maybe(0.5, lambda: f"【结尾】{c.brand()}标志与{P}")
    lines.append(end or f"【结尾】{P}标志")
    lines.append(f"旁白：{P}，{c.outcome()}。{c.maybe(0.5, c.closer) or c.cta()}")
    return "\n".join(lines)


COMPOSERS = {
    (lang, ct): globals()[f"{lang}_{ct}"] for lang in ("en", "zh") for ct in COUNTS
}


def make_row(rng: random.Random, language: str, content_type: str) -> dict | None:
    """One corpus row, or None if this draw could not be made to fit."""
    c = Ctx(rng, language, content_type)
    for _ in range(20):
        c.reset()
        try:
            text = COMPOSERS[language, content_type](c)
        except Skip:
            continue
        if content_type in NEEDS_PRODUCT and P not in text:
            continue
        text = re.sub(r"  +", " ", text).strip()
        row = _row(c, text)
        spec = GenerationSpec.from_dict(row, strict=False)
        low, high = LENGTH_LIMITS[content_type]
        if low <= copy_length(relexicalize(text, spec)) <= high:
            return row
    return None


def _row(c: Ctx, text: str) -> dict:
    facts = [c.fact_pool[i] for i in range(c.n_facts)]
    if c.n_facts < len(c.fact_pool) and c.rng.random() < 0.3:
        facts.append(c.fact_pool[c.n_facts])
    if c.lang == "zh":
        tone = [TONES[t]["zh_word"] if c.rng.random() < 0.6 else t for t in c.tones]
    else:
        tone = list(c.tones)
    persona: dict = {}
    if c.persona_used:
        lang = c.lang if c.lang == "en" or c.rng.random() < 0.7 else "en"
        source = c.persona[lang]
        persona = {"name": source["name"]}
        for key in ("age", "interests", "pain_points"):
            if c.rng.random() < 0.7:
                persona[key] = source[key]
    return {
        "text": text,
        "content_type": c.ct,
        "language": c.lang,
        "channel": c.channel,
        "tone": tone if c.tone_used else [],
        "persona": persona,
        "brand": c.brand_name
        if c.brand_used or (c.has_brand and c.rng.random() < 0.5)
        else "",
        "product": c.product,
        "facts": facts,
        "keywords": list(c.kws),
        "category": c.cat_key,
    }


def build(seed: int = 7, scale: float = 1.0) -> tuple[list[dict], list[dict]]:
    """(train, heldout) rows; unique texts per content type and language."""
    rng = random.Random(seed)
    rows: list[dict] = []
    for content_type, count in COUNTS.items():
        for language in ("en", "zh"):
            seen: set[str] = set()
            wanted = max(1, round(count * scale))
            attempts = 0
            while len(seen) < wanted and attempts < wanted * 30:
                attempts += 1
                row = make_row(rng, language, content_type)
                if row is None or row["text"] in seen:
                    continue
                seen.add(row["text"])
                rows.append(row)
    rng.shuffle(rows)
    n_heldout = round(len(rows) * HELDOUT_FRACTION)
    return rows[n_heldout:], rows[:n_heldout]


def write_jsonl(path: Path, rows: list[dict]) -> str:
    """Write rows, one JSON object a line; returns the file's sha256."""
    data = "".join(
        json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows
    )
    path.write_text(data, encoding="utf-8")
    return hashlib.sha256(data.encode()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the per-type row counts"
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "data"
    )
    args = parser.parse_args(argv)
    train, heldout = build(args.seed, args.scale)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("demo_train.jsonl", train), ("demo_heldout.jsonl", heldout)):
        digest = write_jsonl(args.out / name, rows)
        print(f"{name}: {len(rows)} rows, sha256 {digest[:16]}")
    counts = Counter((r["content_type"], r["language"]) for r in train + heldout)
    for (ct, lang), n in sorted(counts.items()):
        print(f"  {ct:20s} {lang}  {n}")


if __name__ == "__main__":
    main()
