"""Latency expressions of the constraint table, e.g. ``nCWL + nBL + nWR``.

A constraint row names its latency as a sum and difference of named timings (cycles) and integer
constants. This is the whole grammar: no products, no parentheses, no calls — enough for every
JEDEC inter-command delay, and small enough to evaluate without ``eval``.
"""
from __future__ import annotations

import re

from workloads.errors import SpecError

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[+-]))")


def evaluate_latency(expression: str | int, timings: dict[str, int], where: str) -> int:
    """Value in cycles of `expression` given the named `timings`; `where` names it in errors."""
    if isinstance(expression, int):
        return expression
    text = str(expression)
    pos, total, sign, expect_term = 0, 0, 1, True
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SpecError(f"{where}: cannot parse latency {text!r} at {text[pos:]!r}; "
                            "allowed: timing names and integers joined by + and -")
        pos = match.end()
        if expect_term:
            if match.group("num") is not None:
                value = int(match.group("num"))
            elif match.group("name") is not None:
                name = match.group("name")
                if name not in timings:
                    raise SpecError(f"{where}: latency {text!r} names unknown timing {name!r}; "
                                    f"known: {', '.join(sorted(timings))}")
                value = timings[name]
            else:
                raise SpecError(f"{where}: latency {text!r} has an operator where a term belongs")
            total += sign * value
            expect_term = False
        else:
            if match.group("op") is None:
                raise SpecError(f"{where}: latency {text!r} needs + or - between terms")
            sign = 1 if match.group("op") == "+" else -1
            expect_term = True
    if expect_term:
        raise SpecError(f"{where}: latency {text!r} is empty or ends with an operator")
    return total
