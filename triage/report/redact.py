"""Find secrets in text and replace them with numbered placeholders, the same secret always the same.

Bundles carry credentials: `POSTGRES_PASSWORD=...` in `podman inspect`, DSNs in connection errors,
`CREATE ROLE ... PASSWORD '...'` in the PostgreSQL log, tokens in request headers. A report quotes
lines and must never repeat them. Each secret becomes `[REDACTED-n]`, numbered in order of first
appearance, so the report stays deterministic and two mentions of one password still read as one.

Only the secret part is replaced (`postgres://slm_user:[REDACTED-1]@host/db`), so a quote keeps what
triage needs. Identifiers that merely look random (correlation and request IDs, hashes, UUIDs, image
tags, paths, durations) are left alone.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from typing import Any

PLACEHOLDER = "[REDACTED-{}]"
# Already hidden: our own placeholders, and podman_inspect's `[REDACTED]`.
_HIDDEN = re.compile(r"^\[REDACTED(?:-\d+)?\]$")
_NOT_VALUES = frozenset({"", "null", "none", "nil", "<nil>", "true", "false", '""', "''", "***"})
# A known secret is also replaced wherever it reappears verbatim, but only when it is long enough
# not to be an everyday word.
MIN_ECHO_CHARS = 8

SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pass", "pwd", "passphrase", "secret", "secrets", "token", "credential",
        "credentials", "apikey", "privatekey", "cookie", "auth", "authorization", "sessionid",
    }
)  # fmt: skip
# Names ending in these describe a secret rather than hold it (`DB_PASSWORD_FILE=/run/secrets/pw`).
DESCRIPTIVE_WORDS = frozenset(
    {
        "file", "path", "dir", "name", "type", "method", "count", "size", "length", "enabled",
        "required", "expiry", "expires", "ttl", "header", "kind", "mode", "version", "algorithm",
        "fingerprint", "source", "ref",
    }
)  # fmt: skip

_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
# Unquoted values stop at quotes, backslashes (JSON escapes stay intact), backticks (Markdown code
# spans stay closed) and separators.
_BARE = r"[^\s\"'\\`,;&}\])>]+"
# `NAME=value`, `name: value`, `"name": "value"`, `\"name\":\"value\"` (JSON inside a JSON string).
# The value is matched in a lookahead so that a value holding more pairs (JSON in a string) is
# searched too.
KEY_VALUE = re.compile(
    rf"(?<![A-Za-z0-9_.-])(?P<name>{_NAME})(?P<q>\\?[\"']?)[ \t]*[=:][ \t]*"
    rf"(?=(?P<value>\\\"(?:[^\"\\]|\\[^\"])*\\\"|{_QUOTED}|{_BARE}))"
)
URL_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"'\\]*:(?P<secret>[^\s@/\"'\\]+)@")
SQL_PASSWORD = re.compile(r"\bPASSWORD\s+'(?P<secret>(?:[^']|'')+)'", re.IGNORECASE)
AUTH_HEADER = re.compile(
    r"\b(?:proxy-)?authorization\\?[\"']?\s*[:=]\s*\[?\\?[\"']?\s*"
    r"(?:(?:bearer|basic|token|digest|negotiate|apikey)\s+)?(?P<secret>[^\s\"'\\`,;\]]+)",
    re.IGNORECASE,
)
BEARER = re.compile(r"\bbearer\s+(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE)
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|.*\Z)",
    re.DOTALL,
)
# Well-known token shapes (those detect-secrets knows): AWS access key IDs, GitHub, GitLab, Slack
# (tokens and webhook paths), Stripe, Twilio, SendGrid, npm, PyPI, Discord, Telegram, OpenAI-style,
# Mailchimp, Square and Artifactory keys. A token may follow a JSON or Go escape (`\\nAKIA...`); an
# AWS key ID is matched whatever follows it.
TOKEN_PREFIXES = re.compile(
    r"(?:(?<=\\[nrt])|(?<![A-Za-z0-9]))(?:"
    r"(?:ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas)-[A-Za-z0-9_-]{20,}"
    r"|GR1348941[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|(?<=hooks\.slack\.com/services/)T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"
    r"|[rs]k_(?:live|test)_[0-9a-zA-Z]{16,}|(?:AC|SK)[0-9a-f]{32}|SG\.[\w-]{22}\.[\w-]{43}"
    r"|npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_-]{50,}|[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27}"
    r"|\d{8,10}:[\w-]{35}|sk-[A-Za-z0-9_-]{20,}|[0-9a-f]{32}-us\d{1,2}|sq0(?:csp|atp)-[\w-]{22,}"
    r"|AKC[A-Za-z0-9]{10,})(?![A-Za-z0-9_-])"
    r"|(?:(?<=\\[nrt])|(?<![A-Za-z0-9]))(?:AKIA|ASIA)[0-9A-Z]{16}"
)
CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/_=-])")
MIN_ENTROPY_BITS = 4.0
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_\[\]<>|#])")  # what the report's Markdown escapes
# A JSON or Go escape (`\n`) before a token is not part of it.
_ESCAPE_LETTERS = frozenset('nrtbfu"/\\')


def words_of(name: str) -> list[str]:
    """Lower-case words of an identifier: `awsSecretKey` and `AWS_SECRET_KEY` give aws, secret, key."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_secret_name(name: str) -> bool:
    """Whether a variable, field or header name says its value is a secret.

    Args:
        name: e.g. `POSTGRES_PASSWORD`, `api_key`, `X-Auth-Token`, `DB_PASS`.

    Returns:
        True for names with a secret word (password, token, secret, ...) or ending in `key` after
        another word; False for names that describe a secret (`..._FILE`, `..._PATH`, `..._COUNT`).
    """
    words = words_of(name)
    if not words or words[-1] in DESCRIPTIVE_WORDS:
        return False
    if any(w in SECRET_WORDS for w in words):
        return True
    return len(words) > 1 and words[-1] == "key"


def looks_random(token: str) -> bool:
    """Whether a long token is key-like: mixed case and digits, high entropy, not hex, not a path.

    Args:
        token: a run of base64/base64url characters, at least 32 long.

    Returns:
        True when it should be treated as a secret.
    """
    body = token.rstrip("=")
    if body.startswith("/") or body.count("/") > 3 or re.fullmatch(r"[0-9a-fA-F-]+", body):
        return False  # paths, hex hashes and UUIDs
    if not (re.search(r"[a-z]", body) and re.search(r"[A-Z]", body) and re.search(r"[0-9]", body)):
        return False
    if any(len(part) >= 5 and part.isalpha() and part.islower() for part in re.split(r"[-_/]", body)):
        return False  # identifiers made of words: `signalprocessing-audit-rr-05-1768404312`
    counts = Counter(body)
    entropy = -sum(n / len(body) * math.log2(n / len(body)) for n in counts.values())
    return entropy >= MIN_ENTROPY_BITS


class Redactor:
    """Replaces secrets with numbered placeholders, consistently over one run.

    One instance per rendered output: the same secret gets the same number everywhere in it, and
    numbers follow the order in which text is passed in (keep that order deterministic).
    """

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._echo: re.Pattern[str] | None = None

    @property
    def secrets(self) -> int:
        """How many distinct secrets were replaced so far."""
        return len(self._numbers)

    def placeholder(self, secret: str) -> str:
        """The placeholder of a secret, numbering it on first sight.

        Args:
            secret: the exact secret text.

        Returns:
            `[REDACTED-n]`.
        """
        number = self._numbers.get(secret)
        if number is None:
            number = self._numbers[secret] = len(self._numbers) + 1
            if len(secret) >= MIN_ECHO_CHARS:
                self._echo = None  # rebuilt with the new secret on next use
        return PLACEHOLDER.format(number)

    def text(self, s: str) -> str:
        """Redact a string.

        Args:
            s: any text (a log line, a message, a whole rendered report).

        Returns:
            s with every secret replaced by its placeholder.
        """
        spans = self._spans(s)
        if not spans:
            return s
        out, last = [], 0
        for start, end in spans:
            out.append(s[last:start])
            out.append(self.placeholder(s[start:end]))
            last = end
        out.append(s[last:])
        return "".join(out)

    def markdown(self, s: str) -> str:
        """Redact Markdown whose text was escaped (`POSTGRES\\_PASSWORD=slm\\_password`).

        Secrets are found in the unescaped text, so an escape inside a secret cannot hide it, and get
        the same placeholders as in plain text.

        Args:
            s: rendered Markdown.

        Returns:
            s with every secret (escapes included) replaced by its placeholder.
        """
        unescaped: list[int] = []  # plain-text index of each character whose escape was removed

        def unescape(match: re.Match[str]) -> str:
            unescaped.append(match.start() - len(unescaped))
            return match[1]

        text = _MARKDOWN_ESCAPE.sub(unescape, s)

        def where(i: int) -> int:  # index in s of the plain text's character i
            return i + bisect_right(unescaped, i)

        spans = self._spans(text)
        if not spans:
            return s
        out, last = [], 0
        for start, end in spans:
            # Include the escape before the secret's first character, if any, in what is replaced.
            begin = where(start)
            if begin > 0 and s[begin - 1] == "\\" and (start == 0 or where(start - 1) != begin - 1):
                begin -= 1
            begin = max(begin, last)
            out.append(s[last:begin])
            out.append(self.placeholder(text[start:end]))
            last = where(end - 1) + 1
        out.append(s[last:])
        return "".join(out)

    def json(self, obj: Any, key: str | None = None) -> Any:
        """Redact a JSON-able value: every string, and anything under a secret-looking key.

        Args:
            obj: dicts, lists and scalars, walked in their own order (dicts in insertion order).
            key: the key obj sits under; every scalar below a secret-looking key is replaced.

        Returns:
            A redacted copy; keys are kept.
        """
        secret = key is not None and is_secret_name(key)
        if isinstance(obj, dict):
            return {k: self.json(v, key if secret or not isinstance(k, str) else k) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.json(v, key) for v in obj]
        if secret and not isinstance(obj, bool) and obj is not None:
            value = str(obj)
            if value.strip().lower() in _NOT_VALUES or _HIDDEN.match(value):
                return obj
            return self.placeholder(value)
        if isinstance(obj, str):
            return self.text(obj)
        return obj

    def _spans(self, s: str) -> list[tuple[int, int]]:
        """Secret spans of s, sorted, overlaps resolved in favour of the one starting first."""
        found = sorted(self._candidates(s), key=lambda span: (span[0], -span[1]))
        spans: list[tuple[int, int]] = []
        for start, end in found:
            if start < end and (not spans or start >= spans[-1][1]):
                spans.append((start, end))
        return spans

    def _candidates(self, s: str) -> Iterator[tuple[int, int]]:
        for match in PRIVATE_KEY.finditer(s):
            yield match.span()
        for match in JWT.finditer(s):
            yield match.span()
        for match in TOKEN_PREFIXES.finditer(s):
            yield match.span()
        for pattern in (URL_CREDENTIALS, SQL_PASSWORD, AUTH_HEADER, BEARER):
            for match in pattern.finditer(s):
                if self._is_value(match["secret"]):
                    yield match.span("secret")
        for match in KEY_VALUE.finditer(s):
            # Authorization values start with a scheme; AUTH_HEADER keeps the scheme readable.
            if is_secret_name(match["name"]) and "authorization" not in match["name"].lower():
                span = _unquoted(match, s)
                if self._is_value(s[span[0] : span[1]]):
                    yield span
        for match in CANDIDATE.finditer(s):
            start, end = match.span()
            if start > 0 and s[start - 1] == "\\" and s[start] in _ESCAPE_LETTERS:
                start += 1
            if end - start >= 32 and looks_random(s[start:end]):
                yield start, end
        yield from self._echoes(s)

    def _echoes(self, s: str) -> Iterator[tuple[int, int]]:
        known = [k for k in self._numbers if len(k) >= MIN_ECHO_CHARS]
        if not known:
            return
        if self._echo is None:
            alternatives = "|".join(re.escape(k) for k in sorted(known, key=lambda k: (-len(k), k)))
            self._echo = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
        for match in self._echo.finditer(s):
            yield match.span()

    @staticmethod
    def _is_value(value: str) -> bool:
        return value.strip().lower() not in _NOT_VALUES and not value.startswith("[REDACTED")


def _unquoted(match: re.Match[str], s: str) -> tuple[int, int]:
    """The span of a key=value match's value without its quotes."""
    start, end = match.span("value")
    value = s[start:end]
    if value.startswith('\\"'):
        return start + 2, end - 2
    if value[:1] in "\"'":
        return start + 1, end - 1
    return start, end
