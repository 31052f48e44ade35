"""A small, honest matcher for X search queries, used by the X emulator's recent-search endpoint.

It understands the subset Parley's configured queries use: bare keywords, "quoted phrases", `OR`,
parentheses, `-` negation, `@handle`, `#hashtag`, and the operators `is:retweet`, `is:reply`,
`from:`, `to:` and `lang:`. Adjacent terms are ANDed, and AND binds tighter than OR, as on X.
Keywords match whole words case-insensitively (a keyword also matches the word inside `@acme` or
`#acme`, which is how X's tokenized keyword match behaves); anything else is a 400 on X too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Searchable:
    """What the matcher may look at in a tweet."""

    text: str
    author_username: str
    lang: str | None = None
    is_retweet: bool = False
    is_reply: bool = False
    in_reply_to_username: str | None = None


Matcher = Callable[[Searchable], bool]


class QueryError(ValueError):
    """The query is not valid X search syntax (the emulator answers 400, like X)."""


_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<neg>-)(?=[^\s])|"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+))')
_WORD = re.compile(r"\w+", re.UNICODE)
_OPERATORS = ("is", "from", "to", "lang", "has")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _tokenize(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"There were errors processing your request: unexpected text at {pos}")
        pos = match.end()
        kind = next(k for k, v in match.groupdict().items() if v is not None)
        value = match.group(kind)
        if kind == "word" and value == "OR":
            kind = "or"
        tokens.append((kind, value))
    return tokens


def _atom(kind: str, value: str) -> Matcher:
    if kind == "phrase":
        needle = _words(value)
        return lambda t: _contains_run(_words(t.text), needle)
    if value.startswith("@"):
        handle = value[1:].lower()
        return lambda t: handle in {m.lower() for m in re.findall(r"@(\w+)", t.text)}
    if value.startswith("#"):
        tag = value[1:].lower()
        return lambda t: tag in {h.lower() for h in re.findall(r"#(\w+)", t.text)}
    name, sep, arg = value.partition(":")
    if sep and arg and name in _OPERATORS:
        return _operator(name, arg.lower())
    if sep and arg and re.fullmatch(r"[a-z_]+", name):
        raise QueryError(
            f"There were errors processing your request: Reference to invalid operator '{name}'. "
            "Operator is not available in current product or product packaging."
        )
    needle = _words(value)
    return lambda t: _contains_run(_words(t.text), needle)


def _operator(name: str, arg: str) -> Matcher:
    if name == "is" and arg == "retweet":
        return lambda t: t.is_retweet
    if name == "is" and arg == "reply":
        return lambda t: t.is_reply
    if name == "from":
        return lambda t: t.author_username.lower() == arg.lstrip("@")
    if name == "to":
        return lambda t: (t.in_reply_to_username or "").lower() == arg.lstrip("@")
    if name == "lang":
        return lambda t: (t.lang or "").lower() == arg
    raise QueryError(f"There were errors processing your request: Reference to invalid operator '{name}:{arg}'.")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos, self.positives = tokens, 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def disjunction(self) -> Matcher:
        parts = [self.conjunction()]
        while self.peek() == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda t: any(p(t) for p in parts))

    def conjunction(self) -> Matcher:
        parts: list[Matcher] = []
        while self.peek() not in (None, "or", "rp"):
            parts.append(self.unary())
        if not parts:
            raise QueryError("There were errors processing your request: empty clause (check OR and parentheses)")
        return parts[0] if len(parts) == 1 else (lambda t: all(p(t) for p in parts))

    def unary(self) -> Matcher:
        if self.peek() == "neg":
            self.take()
            inner = self.primary(negated=True)
            return lambda t: not inner(t)
        return self.primary(negated=False)

    def primary(self, *, negated: bool) -> Matcher:
        kind, value = self.take()
        if kind == "lp":
            inner = self.disjunction()
            if self.peek() != "rp":
                raise QueryError("There were errors processing your request: missing ')'")
            self.take()
            return inner
        if kind in ("phrase", "word"):
            if not negated:
                self.positives += 1
            return _atom(kind, value)
        raise QueryError(f"There were errors processing your request: unexpected '{value}'")


def compile_query(query: str) -> Matcher:
    """Turn an X search query into a predicate over `Searchable` tweets; QueryError if invalid."""
    tokens = _tokenize(query)
    if not tokens:
        raise QueryError("There were errors processing your request: the query is empty")
    parser = _Parser(tokens)
    matcher = parser.disjunction()
    if parser.pos != len(tokens):
        raise QueryError("There were errors processing your request: unbalanced ')'")
    if parser.positives == 0:
        raise QueryError("There were errors processing your request: Rules must contain a non-negation term")
    return matcher
