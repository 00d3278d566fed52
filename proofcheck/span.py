"""Where a piece of source text is: 1-based line and column, end exclusive.

Its own small module so that reporters and the result cache can use it without
loading the syntax tree's classes."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int
