"""Readable generated run names (``brave-owl-417``) for runs started without one."""

from __future__ import annotations

import secrets

_ADJECTIVES = [
    "amber",
    "brave",
    "calm",
    "clever",
    "crisp",
    "dapper",
    "eager",
    "fair",
    "gentle",
    "glad",
    "jolly",
    "keen",
    "lively",
    "lucky",
    "merry",
    "nimble",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "shiny",
    "silent",
    "smart",
    "sunny",
    "swift",
    "tidy",
    "vivid",
    "witty",
]
_NOUNS = [
    "otter",
    "owl",
    "fox",
    "lynx",
    "heron",
    "finch",
    "badger",
    "wren",
    "crane",
    "hare",
    "koala",
    "panda",
    "raven",
    "robin",
    "seal",
    "stork",
    "tiger",
    "trout",
    "viper",
    "whale",
    "yak",
    "zebra",
    "bison",
    "camel",
    "gecko",
    "ibis",
    "lemur",
    "moose",
    "newt",
]


def generate_run_name() -> str:
    """A random ``adjective-noun-NNN`` name."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000):03d}"
