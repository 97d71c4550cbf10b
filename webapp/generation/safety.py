"""Brand-safety checks run on every candidate after generation.

Banned words are not checked here alone: they go to decoding as ``bad_words``
so the model cannot write them. Everything else a brand forbids or requires is
checked on the finished text and recorded as flags for the reviewer; a flagged
candidate is kept, never dropped, so a person decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

EMAIL_RE = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# Chinese mobile numbers: 11 digits starting 13-19, optionally +86 / 86, with
# optional spaces or dashes in the 3-4-4 grouping.
CN_MOBILE_RE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"
)
# International (+CC ...) and common national formats such as (555) 123-4567,
# 555-123-4567 or 020 7946 0958: at least 7 digits in digit groups.
INTL_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+|00)\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}(?!\d)"
)
NATIONAL_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?!\d)"
)
URL_RE = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"'，。）)]+"
    r"|(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|io|co|cn|info|biz|shop|store|app|dev|me|us|uk|de|fr|jp|hk|tw)"
    r"\b(?:/[^\s<>\"'，。）)]*)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SafetyRules:
    """The brand voice's rules, frozen into the job when it is launched."""

    required_phrases: list[str] = field(default_factory=list)
    banned_words: list[str] = field(default_factory=list)
    allowed_domains: list[str] = field(default_factory=list)

    @classmethod
    def from_brand_voice(cls, brand_voice) -> SafetyRules:
        if brand_voice is None:
            return cls()
        return cls(
            required_phrases=list(brand_voice.required_phrases or []),
            banned_words=list(brand_voice.banned_words or []),
            allowed_domains=[d.lower() for d in brand_voice.allowed_domains or []],
        )

    @classmethod
    def from_dict(cls, data: dict | None) -> SafetyRules:
        data = data or {}
        return cls(
            required_phrases=list(data.get("required_phrases", [])),
            banned_words=list(data.get("banned_words", [])),
            allowed_domains=list(data.get("allowed_domains", [])),
        )

    def to_dict(self) -> dict:
        return {
            "required_phrases": list(self.required_phrases),
            "banned_words": list(self.banned_words),
            "allowed_domains": list(self.allowed_domains),
        }


def _flag(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def _host_allowed(host: str, allowed: list[str]) -> bool:
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return any(host == d or host.endswith("." + d) for d in allowed)


def _url_host(url: str) -> str:
    candidate = url if "://" in url else "http://" + url
    try:
        return urlsplit(candidate).hostname or ""
    except ValueError:
        return ""


def find_personal_data(text: str, allowed_domains: list[str] = ()) -> list[dict]:
    """Flags for e-mail addresses, phone numbers and URLs off the allow list."""
    flags: list[dict] = []
    emails = EMAIL_RE.findall(text)
    for email in emails:
        flags.append(_flag("email", f"contains an e-mail address: {email}"))
    without_emails = EMAIL_RE.sub(" ", text)
    phones: list[str] = []
    for regex in (CN_MOBILE_RE, INTL_PHONE_RE, NATIONAL_PHONE_RE):
        for match in regex.finditer(without_emails):
            number = match.group(0).strip()
            if sum(ch.isdigit() for ch in number) >= 7 and not any(
                number in seen or seen in number for seen in phones
            ):
                phones.append(number)
    for number in phones:
        flags.append(_flag("phone", f"contains a phone number: {number}"))
    for match in URL_RE.finditer(without_emails):
        url = match.group(0).rstrip(".,;:!?")
        host = _url_host(url)
        if host and not _host_allowed(host, list(allowed_domains)):
            allowed = ", ".join(allowed_domains) or "none"
            flags.append(
                _flag(
                    "url",
                    f"links to {host}, which is not an allowed domain "
                    f"(allowed: {allowed})",
                )
            )
    return flags


def _contains(text: str, phrase: str) -> bool:
    return phrase.casefold() in text.casefold()


def check_candidate(text: str, content_type: str, rules: SafetyRules) -> list[dict]:
    """Every brand-safety flag of one candidate text; empty when it is clean."""
    from generator.prompt import LENGTH_LIMITS, copy_length

    flags: list[dict] = []
    for phrase in rules.required_phrases:
        if not _contains(text, phrase):
            flags.append(
                _flag("missing_required_phrase", f"does not contain {phrase!r}")
            )
    for word in rules.banned_words:
        # Decoding blocks these; a case or spacing variant can still slip in.
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
            flags.append(_flag("banned_word", f"contains the banned word {word!r}"))
    if content_type in LENGTH_LIMITS:
        low, high = LENGTH_LIMITS[content_type]
        length = copy_length(text)
        if length < low:
            flags.append(
                _flag(
                    "too_short",
                    f"is {length} characters long; {content_type} needs at least {low}",
                )
            )
        elif length > high:
            flags.append(
                _flag(
                    "too_long",
                    f"is {length} characters long; {content_type} allows at most "
                    f"{high}",
                )
            )
    flags.extend(find_personal_data(text, rules.allowed_domains))
    return flags
