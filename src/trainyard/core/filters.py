"""The run search grammar: the filter expression and ``order_by`` clauses MLflow users know.

A filter is comparisons joined by ``and``::

    metrics.rmse < 50 and params.alpha = '0.1' and tags.team = 'x'
    and attributes.status = 'FINISHED'

Each comparison is ``<entity>.<key> <op> <value>``, where the entity is ``metrics``, ``params``,
``tags`` or ``attributes`` (singular forms and ``run`` are accepted too), a key with spaces or dots
is quoted with backticks or double quotes, and a value is a number or a quoted string.

Runs can also be filtered on their dataset inputs, as MLflow does: ``datasets.name``,
``datasets.digest`` and ``datasets.context`` (the input's ``mlflow.data.context`` tag) with the
string operators; a run matches when one of its data sets does. They cannot be ordered on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from trainyard.errors import InvalidArgument

EntityType = Literal["metric", "param", "tag", "attribute", "dataset"]

_ENTITY_ALIASES: dict[str, EntityType] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}
DATASET_KEYS = frozenset({"name", "digest", "context"})

STRING_ATTRIBUTES = {"run_id", "run_name", "status", "artifact_uri", "lifecycle_stage"}
NUMERIC_ATTRIBUTES = {"start_time", "end_time", "created", "duration"}
ATTRIBUTE_ALIASES = {
    "run_uuid": "run_id",
    "created": "start_time",
    "Created": "start_time",
    "name": "run_name",
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
}


@dataclass(frozen=True, slots=True)
class Attributes:
    """The attributes one kind of thing can be filtered and ordered on (runs by default).

    ``datasets`` says whether ``datasets.*`` filters apply (runs only).
    """

    strings: frozenset[str]
    numbers: frozenset[str]
    aliases: Mapping[str, str]
    datasets: bool = False


RUN_ATTRIBUTES = Attributes(
    frozenset(STRING_ATTRIBUTES), frozenset(NUMERIC_ATTRIBUTES), ATTRIBUTE_ALIASES, datasets=True
)

NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">="}
STRING_OPS = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}

_TOKEN_RE = re.compile(
    r"""
    \s*(?:
      (?P<op>!=|<=|>=|=|<|>)
    | (?P<str>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
    | (?P<bq>`[^`]*`)
    | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<lp>\()
    | (?P<rp>\))
    | (?P<comma>,)
    | (?P<dot>\.)
    | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``entity.key op value`` clause."""

    entity: EntityType
    key: str
    op: str
    value: str | float | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ``entity.key [ASC|DESC]`` clause."""

    entity: EntityType
    key: str
    ascending: bool


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidArgument(f"cannot parse filter near {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def _unquote(token: str) -> str:
    if token[0] == "'":
        return token[1:-1].replace("''", "'").replace("\\'", "'")
    if token[0] in '"`':
        return token[1:-1]
    return token


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, what: str) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise InvalidArgument(f"filter {self.text!r} ends early: expected {what}")
        self.i += 1
        return tok

    def identifier(self) -> tuple[EntityType, str]:
        kind, word = self.take("an identifier such as metrics.rmse")
        if kind not in ("word", "bq", "str"):
            raise InvalidArgument(f"expected an identifier such as metrics.rmse, got {word!r}")
        nxt = self.peek()
        if kind == "word" and nxt is not None and nxt[0] == "dot":
            self.i += 1
            entity = _ENTITY_ALIASES.get(word.lower())
            if entity is None:
                raise InvalidArgument(
                    f"unknown entity {word!r}: use metrics., params., tags., attributes. or "
                    "datasets."
                )
            parts = []
            kind2, key = self.take("a key after the dot")
            if kind2 in ("bq", "str"):
                parts.append(_unquote(key))
            elif kind2 == "word":
                parts.append(key)
                # dotted keys such as tags.mlflow.runName
                while (p := self.peek()) is not None and p[0] == "dot":
                    self.i += 1
                    parts.append(self.take("a key part")[1])
            else:
                raise InvalidArgument(f"expected a key after {word}., got {key!r}")
            return entity, ".".join(parts)
        name = _unquote(word)
        return "attribute", name

    def value(self) -> str | float | tuple[str, ...]:
        kind, tok = self.take("a value")
        if kind == "num":
            return float(tok)
        if kind == "str":
            return _unquote(tok)
        if kind == "lp":
            values: list[str] = []
            while True:
                k, t = self.take("a quoted value in the list")
                if k != "str":
                    raise InvalidArgument(f"IN lists take quoted strings, got {t!r}")
                values.append(_unquote(t))
                k, t = self.take("',' or ')'")
                if k == "rp":
                    return tuple(values)
                if k != "comma":
                    raise InvalidArgument(f"expected ',' or ')' in IN list, got {t!r}")
        raise InvalidArgument(f"expected a number or a quoted string, got {tok!r}")

    def op(self) -> str:
        kind, tok = self.take("a comparison operator")
        if kind == "op":
            return tok
        up = tok.upper()
        if kind == "word" and up in ("LIKE", "ILIKE", "IN"):
            return up
        if kind == "word" and up == "NOT":
            _k2, t2 = self.take("IN after NOT")
            if t2.upper() == "IN":
                return "NOT IN"
        raise InvalidArgument(
            f"expected a comparison operator (=, !=, <, <=, >, >=, LIKE, IN), got {tok!r}"
        )


def _normalise_attribute(key: str, attributes: Attributes) -> str:
    key = attributes.aliases.get(key, key)
    if key not in attributes.strings | attributes.numbers:
        known = ", ".join(sorted(attributes.strings | attributes.numbers))
        raise InvalidArgument(f"unknown attribute {key!r}; searchable attributes are {known}")
    return key


def _check(c: Comparison, attributes: Attributes) -> Comparison:
    if c.entity == "dataset":
        if not attributes.datasets:
            raise InvalidArgument("datasets.* filters apply to runs only")
        if c.key not in DATASET_KEYS:
            raise InvalidArgument(
                f"unknown dataset key {c.key!r}: use datasets.name, datasets.digest or "
                "datasets.context"
            )
    numeric = c.entity == "metric" or (c.entity == "attribute" and c.key in attributes.numbers)
    if numeric:
        if c.op not in NUMERIC_OPS:
            raise InvalidArgument(f"{c.entity} {c.key!r} is numeric: use =, !=, <, <=, > or >=")
        if not isinstance(c.value, float):
            raise InvalidArgument(
                f"{c.entity} {c.key!r} is compared with a number, got {c.value!r}"
            )
    else:
        if c.op not in STRING_OPS:
            raise InvalidArgument(
                f"{c.entity} {c.key!r} is a string: use =, !=, LIKE, ILIKE, IN or NOT IN"
            )
        if (c.op in ("IN", "NOT IN")) != isinstance(c.value, tuple):
            raise InvalidArgument(f"IN takes a parenthesised list of quoted strings for {c.key!r}")
        if isinstance(c.value, float):
            raise InvalidArgument(
                f"{c.entity} {c.key!r} holds strings: quote the value, e.g. '{c.value:g}'"
            )
    return c


def parse_filter(text: str | None, attributes: Attributes = RUN_ATTRIBUTES) -> list[Comparison]:
    """Parse a filter expression into comparisons; an empty filter matches every run.

    ``attributes`` names what ``attributes.<key>`` (or a bare key) may be: runs' by default.
    """
    if text is None or not text.strip():
        return []
    p = _Parser(text)
    out: list[Comparison] = []
    while True:
        entity, key = p.identifier()
        if entity == "attribute":
            key = _normalise_attribute(key, attributes)
        op = p.op()
        value = p.value()
        out.append(_check(Comparison(entity, key, op, value), attributes))
        tok = p.peek()
        if tok is None:
            return out
        if tok[0] == "word" and tok[1].lower() == "and":
            p.i += 1
            continue
        raise InvalidArgument(
            f"expected 'and' between comparisons, got {tok[1]!r} (OR is not supported)"
        )


def parse_order_by(
    clauses: list[str] | None, attributes: Attributes = RUN_ATTRIBUTES
) -> list[OrderBy]:
    """Parse ``order_by`` clauses such as ``metrics.rmse ASC`` or ``attributes.start_time``."""
    out: list[OrderBy] = []
    for clause in clauses or []:
        p = _Parser(clause)
        entity, key = p.identifier()
        if entity == "dataset":
            raise InvalidArgument(f"order_by {clause!r}: runs cannot be ordered by data sets")
        if entity == "attribute":
            key = _normalise_attribute(key, attributes)
        ascending = True
        tok = p.peek()
        if tok is not None:
            p.i += 1
            if tok[1].upper() not in ("ASC", "DESC") or p.peek() is not None:
                raise InvalidArgument(f"order_by {clause!r}: expected '<entity>.<key> [ASC|DESC]'")
            ascending = tok[1].upper() == "ASC"
        out.append(OrderBy(entity, key, ascending))
    return out
