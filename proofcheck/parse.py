"""Source text -> `Document` (positioned AST, or syntax problems with positions).

A file is cut into logical lines (a line break inside ( ) or [ ] continues the
line; `#` starts a comment), each logical line is parsed with the LALR grammar in
`grammar/proof.lark`, and the statements are then grouped: a `theorem` followed by
`proof ... qed` owns the lines between. A line that fails to parse becomes a
`SyntaxProblem` and the rest of the file is still read.
"""
from __future__ import annotations

import bisect
import functools
import gc
import re
import unicodedata
from fractions import Fraction
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import syntax as S


def visible(text: str) -> str:
    """`pretty.visible`, imported when a message needs it: `pretty` imports SymPy
    (a quarter of a second), which reading a file does not need."""
    from .textutil import visible as shown
    return shown(text)


MAX_LINE_CHARS = 20_000
# brackets inside one statement, and levels of the parse tree (a chain of `+`/`-`
# or `*`/`/` at one level, `a + b + c + …`, counts as one level however long)
MAX_NESTING = 100
# digits of one number (Python cannot even print an int of more than 4300 digits)
MAX_NUMBER_DIGITS = 1000
# the points of a theorem, `theorem t [10] : …`
MAX_POINTS = 1_000_000

BOM = "\ufeff"
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_NAME_RE = re.compile(r"[^\W\d_ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹][^\Wᵀ⁰¹²³⁴⁵⁶⁷⁸⁹]*")

STATEMENT_KEYWORDS = ("let", "fun", "def", "assume", "claim", "theorem", "proof", "qed", "have")

REL_NORMAL = {"<=": "<=", "≤": "<=", ">=": ">=", "≥": ">=", "!=": "!=", "≠": "!=",
              "<": "<", ">": ">", "=": "="}


@functools.lru_cache(maxsize=1)
def grammar_text() -> str:
    try:
        return (resources.files("proofcheck.grammar") / "proof.lark").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # running from a source tree
        return (Path(__file__).resolve().parent.parent / "grammar" / "proof.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    kwargs = dict(start="line", parser="lalr", propagate_positions=True, maybe_placeholders=False)
    try:
        return Lark(grammar_text(), cache=True, **kwargs)
    except OSError:  # no writable cache directory
        return Lark(grammar_text(), **kwargs)


# --------------------------------------------------------------- logical lines
_COMMENT = S.COMMENT
_BRACKET = re.compile(r"[()\[\]]")


def _strip_comments(text: str) -> str:
    """Blank out comments, keeping every column where it was."""
    if "#" not in text:
        return text
    return _COMMENT.sub(lambda m: " " * len(m.group(0)), text)


def logical_lines(text: str):
    """Yield (first_line_number, text) for each non-blank logical line."""
    clean = _strip_comments(text)
    physical = clean.split("\n")
    current: list[str] = []
    start = 1
    depth = 0
    for number, line in enumerate(physical, start=1):
        if current and depth > 0 and line.strip().split(" ")[0] in STATEMENT_KEYWORDS:
            # an unclosed bracket must not swallow the next statement
            yield start, "\n".join(current)
            current, depth = [], 0
        if not current:
            start = number
        current.append(line)
        for ch in _BRACKET.findall(line):
            if ch in "([":
                depth += 1
            elif depth:
                depth -= 1
        if depth == 0:
            joined = "\n".join(current) if len(current) > 1 else line
            if joined.strip():
                yield start, joined
            current = []
    if current and "\n".join(current).strip():
        yield start, "\n".join(current)


# ------------------------------------------------------------------ transformer
def _span(meta_or_token, line_offset: int) -> S.Span:
    m = meta_or_token
    return S.Span(m.line + line_offset, m.column, m.end_line + line_offset, m.end_column)


def _number(text: str) -> Fraction:
    """The exact value of a NUMBER token (callers bound its length first)."""
    if "." in text:
        whole, frac = text.split(".")
        return Fraction(int(whole + frac), 10 ** len(frac))
    return Fraction(int(text))


def normalize_name(text: str) -> str:
    """Names are compared after Unicode NFKC normalisation: the Kelvin sign `K`
    and `K` are one name, so are `ｘ` and `x`, `x₁` and `x1`."""
    return unicodedata.normalize("NFKC", text)


class ToAst(Transformer_NonRecursive):
    """One method per grammar rule; builds `syntax` nodes with spans.

    Not recursive, so a long flat chain `x1 + x2 + … + x500` (a deep tree to
    Lark) does not exhaust Python's stack; `nesting_problem` bounds real nesting.
    """

    def __init__(self, line_offset: int, text: str = ""):
        super().__init__()
        self.off = line_offset
        self.text = text

    def sp(self, x) -> S.Span:
        return _span(x, self.off)

    # -- tokens
    def NAME(self, tok):
        name = normalize_name(str(tok))
        if not _NAME_RE.fullmatch(name):
            raise SyntaxProblemError(self.sp(tok), f"`{visible(str(tok))}` is not a name: it reads as "
                                     f"`{visible(name)}` (names are compared after Unicode NFKC normalisation)")
        return tok.update(value=name) if name != tok else tok

    def DERIV(self, tok):
        var = self.NAME(Token("NAME", str(tok)[3:], tok.start_pos, tok.line, tok.column, tok.end_line,
                              tok.end_column, tok.end_pos))
        return tok.update(value="d/d" + str(var))

    def num(self, tok) -> S.Num:
        """A NUMBER token as a node, refused when it is too long to be a number one means."""
        digits = len(str(tok).replace(".", ""))
        if digits > MAX_NUMBER_DIGITS:
            raise SyntaxProblemError(self.sp(tok), f"this number is too long ({digits} digits; "
                                     f"at most {MAX_NUMBER_DIGITS})")
        return S.Num(self.sp(tok), str(tok), _number(str(tok)))

    # -- expressions
    @v_args(meta=True)
    def number(self, meta, children):
        return self.num(children[0])

    @v_args(meta=True)
    def name(self, meta, children):
        return S.Name(self.sp(meta), str(children[0]))

    @v_args(meta=True)
    def call(self, meta, children):
        name, args = children
        return S.Call(self.sp(meta), str(name), self.sp(name), args)

    def args(self, children):
        return list(children)

    def _bin(self, op, meta, children):
        left, right = children[0], children[-1]
        return S.BinOp(self.sp(meta), op, left, right)

    @v_args(meta=True)
    def add(self, meta, c):
        return self._bin("+", meta, c)

    @v_args(meta=True)
    def sub(self, meta, c):
        return self._bin("-", meta, c)

    @v_args(meta=True)
    def mul(self, meta, c):
        return self._bin("*", meta, c)

    @v_args(meta=True)
    def div(self, meta, c):
        return self._bin("/", meta, c)

    @v_args(meta=True)
    def implicit_mul(self, meta, children):
        tok, operand = children
        after = self.text[tok.end_pos:tok.end_pos + 1]
        if after.isspace():
            raise SyntaxProblemError(
                self.sp(meta),
                f"a number multiplies a name only when written directly before it: "
                f"write `{tok}*…` or remove the space")
        return S.BinOp(self.sp(meta), "*", self.num(tok), operand, implicit=True)

    @v_args(meta=True)
    def neg(self, meta, children):
        return S.Neg(self.sp(meta), children[0])

    @v_args(meta=True)
    def pow(self, meta, children):
        return S.Power(self.sp(meta), children[0], children[-1])

    @v_args(meta=True)
    def sup_pow(self, meta, children):
        """`x²` is `x^2`, `x⁻¹` is `x^(-1)`: superscript digits after an atom are a power."""
        base, tok = children
        text = str(tok).translate(SUPERSCRIPTS)
        span = self.sp(tok)
        if len(text) > 6:
            raise SyntaxProblemError(span, "this superscript power is too long (at most 6 characters)")
        exponent = S.Num(span, text.lstrip("-"), Fraction(int(text.lstrip("-"))))
        if text.startswith("-"):
            exponent = S.Neg(span, exponent)
        return S.Power(self.sp(meta), base, exponent)

    @v_args(meta=True)
    def transpose(self, meta, children):
        return S.Transpose(self.sp(meta), children[0])

    @v_args(meta=True)
    def index(self, meta, children):
        return S.Index(self.sp(meta), children[0], list(children[1:]))

    @v_args(meta=True)
    def abs(self, meta, children):
        return S.Abs(self.sp(meta), children[0])

    @v_args(meta=True)
    def norm(self, meta, children):
        body = children[1]
        kind = "vec"
        if len(children) == 4:
            kind = str(children[3])[1:]
        return S.Norm(self.sp(meta), body, kind)

    @v_args(meta=True)
    def sqrt_sign(self, meta, children):
        tok, arg = children
        return S.Call(self.sp(meta), "sqrt", self.sp(tok), [arg])

    @v_args(meta=True)
    def deriv(self, meta, children):
        tok, body = children
        return S.Deriv(self.sp(meta), str(tok)[3:], body)

    @v_args(meta=True)
    def bigop(self, meta, children):
        tok, args = children
        *ranges, body = args
        if not ranges:
            raise SyntaxProblemError(self.sp(meta), f"`{tok}(…)` needs a range first: `{tok}(i = 1..n, E)`")
        for r in ranges:
            if not isinstance(r, S.Range):
                raise SyntaxProblemError(r.span, f"expected a range `i = a..b` here, in `{tok}(i = 1..n, E)`")
        if isinstance(body, S.Range):
            raise SyntaxProblemError(body.span, f"`{tok}(…)` ends with the expression to add up, after its ranges")
        return S.BigOp(self.sp(meta), str(tok), ranges, body)

    def bigop_args(self, children):
        return list(children)

    @v_args(meta=True)
    def range(self, meta, children):
        var, low, high = children
        return S.Range(self.sp(meta), str(var), low, high)

    # -- formulas
    @v_args(meta=True)
    def relation_chain(self, meta, children):
        exprs = children[0::2]
        rels = [REL_NORMAL[str(t)] for t in children[1::2]]
        return S.Chain(self.sp(meta), exprs, rels)

    @v_args(meta=True)
    def forall(self, meta, children):
        _kw, names, body = children
        return S.Forall(self.sp(meta), names, body)

    @v_args(meta=True)
    def conj(self, meta, children):
        return S.And(self.sp(meta), children[0], children[-1])

    @v_args(meta=True)
    def implies(self, meta, children):
        return S.Implies(self.sp(meta), children[0], children[-1])

    # -- statements
    def names(self, children):
        return [str(c) for c in children]

    def hints(self, children):
        return [S.Hint(self.sp(c), str(c)) for c in children]

    @v_args(meta=True)
    def type_spec(self, meta, children):
        return (str(children[0]), list(children[1:]), self.sp(meta))

    @v_args(meta=True)
    def let_decl(self, meta, children):
        names, (tname, targs, _), *assumptions = children
        return S.Let(self.sp(meta), names, tname, targs, [(str(a), self.sp(a)) for a in assumptions])

    @v_args(meta=True)
    def fun_decl(self, meta, children):
        names, dom, _arrow, cod = children
        return S.Fun(self.sp(meta), names, str(dom), str(cod))

    def def_params(self, children):
        return children[0]

    @v_args(meta=True)
    def def_decl(self, meta, children):
        if len(children) == 3:
            name, params, body = children
        else:
            (name, body), params = children, None
        return S.Def(self.sp(meta), str(name), params, body)

    @v_args(meta=True)
    def assume(self, meta, children):
        return S.Assume(self.sp(meta), str(children[0]), children[1])

    def _named_formula(self, children):
        name = None
        if isinstance(children[0], Token):
            name, children = str(children[0]), children[1:]
        formula = children[0]
        hints = children[1] if len(children) > 1 else []
        return name, formula, hints

    @v_args(meta=True)
    def claim(self, meta, children):
        name, formula, hints = self._named_formula(children)
        return S.Claim(self.sp(meta), name, formula, hints)

    @v_args(meta=True)
    def have(self, meta, children):
        name, formula, hints = self._named_formula(children)
        return S.Have(self.sp(meta), name, formula, hints)

    def points(self, children):
        tok = children[0]
        if len(str(tok)) > 20 or _number(str(tok)) > MAX_POINTS:
            raise SyntaxProblemError(self.sp(tok), f"the points of a theorem are a number from 0 to {MAX_POINTS}")
        return _number(str(tok))

    @v_args(meta=True)
    def theorem(self, meta, children):
        name = str(children[0])
        points = children[1] if len(children) == 3 else None
        return S.Theorem(self.sp(meta), name, points, children[-1])

    @v_args(meta=True)
    def proof_open(self, meta, children):
        return S.ProofOpen(self.sp(meta))

    @v_args(meta=True)
    def proof_close(self, meta, children):
        return S.ProofClose(self.sp(meta))

    @v_args(meta=True)
    def chain_step(self, meta, children):
        rel, expr = children[0], children[1]
        hints = children[2] if len(children) > 2 else []
        return S.ChainStep(self.sp(meta), REL_NORMAL[str(rel)], expr, hints)

    @v_args(meta=True)
    def chain_start(self, meta, children):
        first = children[0]
        step = None
        if len(children) > 1:
            rel, expr = children[1], children[2]
            hints = children[3] if len(children) > 3 else []
            step_span = S.Span(rel.line + self.off, rel.column, meta.end_line + self.off, meta.end_column)
            step = S.ChainStep(step_span, REL_NORMAL[str(rel)], expr, hints)
        return S.ChainStart(self.sp(meta), first, step)


class SyntaxProblemError(Exception):
    def __init__(self, span: S.Span, message: str):
        super().__init__(message)
        self.span = span
        self.message = message


# --------------------------------------------------------------- error messages
_EXPR_START = {"NAME", "NUMBER", "LPAR", "VBAR", "NORM_BAR", "SQRT_SIGN", "DERIV", "BIGOP", "MINUS", "PLUS"}
_OPERATORS = {"PLUS", "MINUS", "MUL", "SLASH", "POW", "TRANSPOSE", "LSQB", "SUPERSCRIPT"}
_WORDS = {
    "REL": "a relation (=, <, <=, >, >=, !=)", "COLON": "`:`", "RPAR": "`)`", "RSQB": "`]`",
    "COMMA": "`,`", "BY": "`by`", "EQUAL": "`=`", "ARROW": "`->`", "NORM_BAR": "`‖`",
    "VBAR": "`|`", "IMPLIES": "`implies`", "AND": "`and`", "__ANON_0": "`..`",
    "LSQB": "`[`", "NAME": "a name", "NUMBER": "a number", "LPAR": "`(`",
    "SUPERSCRIPT": "a superscript power (`x²`)",
}
_KEYWORD_TERMINALS = {"LET": "let", "FUN": "fun", "DEF": "def", "ASSUME": "assume", "CLAIM": "claim",
                      "THEOREM": "theorem", "PROOF": "proof", "QED": "qed", "HAVE": "have"}


def _describe_expected(expected: set[str]) -> str:
    expected = set(expected)
    parts = []
    if expected & _EXPR_START and {"NAME", "NUMBER"} <= expected:
        parts.append("an expression")
        expected -= _EXPR_START
    if len(expected & _OPERATORS) >= 3:
        parts.append("an operator")
        expected -= _OPERATORS
    if expected & set(_KEYWORD_TERMINALS) and len(expected & set(_KEYWORD_TERMINALS)) >= 3:
        parts.append("a statement (let, fun, def, assume, claim, theorem, have, proof, qed) or a proof step")
        expected -= set(_KEYWORD_TERMINALS)
    for term in sorted(expected):
        if term in _WORDS:
            parts.append(_WORDS[term])
        elif term.startswith("__ANON") or term == "$END":
            continue
        else:
            parts.append(f"`{term.lower()}`")
    seen = []
    for p in parts:
        if p not in seen:
            seen.append(p)
    if not seen:
        return "something else"
    if len(seen) == 1:
        return seen[0]
    return ", ".join(seen[:-1]) + " or " + seen[-1]


def _previous_text(line_text: str, pos: int) -> str:
    before = line_text[:pos].rstrip()
    m = re.search(r"(<=|>=|!=|\*\*|->|\.\.|[^\w\s]|\w+)$", before)
    return m.group(1) if m else ""


def _syntax_message(err: UnexpectedInput, text: str) -> tuple[int, int, str]:
    """(line within logical line, column, message in words)."""
    if isinstance(err, UnexpectedToken):
        tok = err.token
        at_end = tok.type == "$END"
        if at_end:
            pos = len(text.rstrip())
            line = text[:pos].count("\n") + 1
            col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        else:
            pos, line, col = tok.start_pos, tok.line, tok.column
        prev = _previous_text(text, pos)
        expected = err.expected
        try:  # the exact set the parser accepts here (LALR merges look-aheads)
            expected = err.interactive_parser.accepts() or expected
        except Exception:  # noqa: BLE001 - fall back to Lark's own set
            pass
        want = _describe_expected(expected)
        where = f" after `{prev}`" if prev else ""
        found = "the line ends here" if at_end else f"found `{tok}`"
        if not prev:
            msg = f"expected {want} at the start of the line, {found}"
        else:
            msg = f"expected {want}{where}, {found}"
        return line, col, msg
    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        return err.line, err.column, f"unexpected character {describe_char(ch)}"
    return getattr(err, "line", 1) or 1, getattr(err, "column", 1) or 1, str(err)


def describe_char(ch: str) -> str:
    """A character for a message, visible even when it is a control or invisible one."""
    if not ch:
        return "at the end"
    shown = visible(ch)
    name = unicodedata.name(ch, "")
    if shown != ch or unicodedata.category(ch) in ("Zs", "Cf", "Co", "Cn", "Mn", "Me"):
        return f"U+{ord(ch):04X}" + (f" ({name.lower()})" if name else "")
    return f"`{ch}`"


# ------------------------------------------------------------------- nesting
_CHAIN_OPS = {"+": "+-", "-": "+-", "*": "*/", "/": "*/"}


def _children(node):
    """The syntax nodes directly below `node`."""
    if isinstance(node, S.BinOp):
        return [node.left, node.right]
    if isinstance(node, (S.Neg, S.Abs, S.Norm, S.Transpose)):
        return [node.arg]
    if isinstance(node, S.Power):
        return [node.base, node.exponent]
    if isinstance(node, S.Call):
        return list(node.args)
    if isinstance(node, S.Index):
        return [node.base] + list(node.indices)
    if isinstance(node, S.Deriv):
        return [node.body]
    if isinstance(node, S.Range):
        return [node.low, node.high]
    if isinstance(node, S.BigOp):
        return list(node.ranges) + [node.body]
    if isinstance(node, S.Chain):
        return list(node.exprs)
    if isinstance(node, S.Forall):
        return [node.body]
    if isinstance(node, S.And):
        return [node.left, node.right]
    if isinstance(node, S.Implies):
        return [node.premise, node.conclusion]
    if isinstance(node, (S.Claim, S.Have, S.Assume, S.Theorem)):
        return [node.formula]
    if isinstance(node, S.Def):
        return [node.body]
    if isinstance(node, S.Let):
        return list(node.type_args)
    if isinstance(node, S.ChainStart):
        return [node.expr] + ([node.step] if node.step else [])
    if isinstance(node, S.ChainStep):
        return [node.expr]
    return []


def _same_level(parent, child) -> bool:
    """Is `child` the left operand of a chain at the same level (`(a + b) + c`)?
    Such chains are read without recursion, so they do not count as nesting."""
    if isinstance(parent, S.BinOp) and child is parent.left and isinstance(child, S.BinOp):
        return _CHAIN_OPS[parent.op] == _CHAIN_OPS[child.op]
    if isinstance(parent, S.And) and child is parent.left:
        return isinstance(child, S.And)
    return False


def nesting_depth(node, limit: int) -> int:
    """Levels of nesting below `node`, computed without recursion; stops past `limit`."""
    deepest = 0
    stack = [(node, 0)]
    while stack:
        n, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        for c in _children(n):
            stack.append((c, depth if _same_level(n, c) else depth + 1))
    return deepest


def _bracket_problem(text: str):
    """Unclosed or unbalanced brackets: (line, col, message) or None."""
    stack = []
    line, col = 1, 0
    for ch in text:
        if ch == "\n":
            line, col = line + 1, 0
            continue
        col += 1
        if ch in "([":
            stack.append((ch, line, col))
            if len(stack) > MAX_NESTING:
                return line, col, f"brackets nested more than {MAX_NESTING} deep"
        elif ch in ")]":
            want = "(" if ch == ")" else "["
            if not stack:
                return line, col, f"`{ch}` closes nothing"
            top = stack.pop()
            if top[0] != want:
                return line, col, f"`{ch}` does not match the `{top[0]}` at column {top[2]}"
    if stack:
        ch, l, c = stack[-1]
        return l, c, f"`{ch}` is never closed"
    return None


# ------------------------------------------------------------ fast path
# Most lines are plain ASCII claims, steps and theorem heads.  `_fast_parse`
# reads exactly the subset of the grammar below with a hand-written
# recursive-descent parser and builds the very nodes (and spans) that Lark plus
# `ToAst` build; on anything outside that subset, or anything wrong, it gives up
# (`_Bail`) and the line goes through Lark, which also words every error.
# Spans follow Lark's `propagate_positions`: a node spans its own tokens; a parent
# starts and ends at its children's *containers* (a parenthesised child, or one
# behind a unary `+`, contributes its brackets/sign).
class _Bail(Exception):
    pass


_FAST_TOKEN = re.compile(r"[ \t\f\r\n]*(?:(\d+(?:\.\d+)?)|([A-Za-z][A-Za-z0-9_]*)|(<=|>=|!=|<|>|=)|(\*\*|[-+*/^(),|:]))")
_FAST_AVOID = re.compile(r"\^\s*T(?!\w)|d/d|\.\.")  # transpose, derivative, range: Lark's
_FAST_KEYWORDS = {"let", "fun", "def", "assume", "claim", "theorem", "proof", "qed", "have",
                  "by", "implies", "and", "forall", "sum", "prod"}
_FAST_STATEMENT_START = {"claim", "have", "theorem", "assume", "proof", "qed"}
_make_span = S.Span  # (an object built around `__init__` gets a real `__dict__`: 60 % larger)

_FRACTIONS: dict = {}
_STRINGS: dict = {}


def _fraction(text: str) -> Fraction:
    """`_number(text)`, shared between equal numbers (Fractions are immutable)."""
    v = _FRACTIONS.get(text)
    if v is None:
        v = _number(text)
        if len(_FRACTIONS) < 50_000 and len(text) <= 30:
            _FRACTIONS[text] = v
    return v


def _shared(s: str) -> str:
    t = _STRINGS.get(s)
    if t is None:
        if len(_STRINGS) < 200_000:
            _STRINGS[s] = s
        return s
    return t


class _FastParser:
    __slots__ = ("kinds", "vals", "starts", "ends", "i", "span")

    def __init__(self, text: str, first_line: int):
        kinds, vals, starts, ends = [], [], [], []
        pos, n = 0, len(text)
        match = _FAST_TOKEN.match
        while True:
            m = match(text, pos)
            if m is None:
                if text[pos:].strip(" \t\f\r\n"):
                    raise _Bail
                break
            num, name, rel, op = m.groups()
            if num is not None:
                kinds.append("#")
                vals.append(num)
            elif name is not None:
                kinds.append(name if name in _FAST_KEYWORDS else "N")
                vals.append(name)
            elif rel is not None:
                kinds.append("R")
                vals.append(rel)
            else:
                kinds.append(op if op != "**" else "^")
                vals.append(op)
            starts.append(m.end() - len(vals[-1]))
            ends.append(m.end())
            pos = m.end()
            if pos >= n:
                break
        kinds.append("")
        vals.append("")
        starts.append(n)
        ends.append(n)
        self.kinds, self.vals, self.starts, self.ends, self.i = kinds, vals, starts, ends, 0
        if "\n" not in text:
            ln = first_line  # one int object shared by every span of the line

            def span(a, b):
                return _make_span(ln, a + 1, ln, b + 1)
        else:
            breaks = [k for k, ch in enumerate(text) if ch == "\n"]

            def span(a, b):
                la = bisect.bisect_left(breaks, a)
                lb = bisect.bisect_left(breaks, b - 1)
                ca = a - (breaks[la - 1] if la else -1)
                cb = b - (breaks[lb - 1] if lb else -1)
                return _make_span(first_line + la, ca, first_line + lb, cb)
        self.span = span

    # Each expression method returns (node, container_start, container_end).
    def expr(self):
        node, cs, ce = self.product()
        kinds = self.kinds
        while kinds[self.i] in ("+", "-"):
            op = kinds[self.i]
            self.i += 1
            right, _, ce = self.product()
            node = S.BinOp(self.span(cs, ce), op, node, right)
        return node, cs, ce

    def product(self):
        node, cs, ce = self.unary()
        kinds = self.kinds
        while kinds[self.i] in ("*", "/"):
            op = kinds[self.i]
            self.i += 1
            right, _, ce = self.unary()
            node = S.BinOp(self.span(cs, ce), op, node, right)
        return node, cs, ce

    def unary(self):
        kinds, i = self.kinds, self.i
        k = kinds[i]
        if k == "-":
            self.i += 1
            arg, _, ce = self.unary()
            return S.Neg(self.span(self.starts[i], ce), arg), self.starts[i], ce
        if k == "+":
            self.i += 1
            arg, _, ce = self.unary()
            return arg, self.starts[i], ce
        if k == "#" and kinds[i + 1] in ("N", "("):
            if self.starts[i + 1] != self.ends[i]:
                raise _Bail  # `2 x`: Lark's message
            num = self.number()
            operand, os, ce = self.atom()
            if kinds[self.i] == "^":
                self.i += 1
                exponent, _, ce = self.unary()
                operand = S.Power(self.span(os, ce), operand, exponent)
            elif kinds[self.i] == "[":
                raise _Bail
            return S.BinOp(self.span(self.starts[i], ce), "*", num, operand, implicit=True), self.starts[i], ce
        return self.power()

    def power(self):
        kinds = self.kinds
        if kinds[self.i] == "#":
            cs, ce = self.starts[self.i], self.ends[self.i]
            base = self.number()
        else:
            base, cs, ce = self.atom()
        if kinds[self.i] == "^":
            self.i += 1
            exponent, _, ce = self.unary()
            return S.Power(self.span(cs, ce), base, exponent), cs, ce
        return base, cs, ce

    def number(self) -> S.Num:
        i = self.i
        text = self.vals[i]
        if len(text) > MAX_NUMBER_DIGITS:
            raise _Bail
        self.i = i + 1
        return S.Num(self.span(self.starts[i], self.ends[i]), _shared(text), _fraction(text))

    def atom(self):
        kinds, i = self.kinds, self.i
        k = kinds[i]
        if k == "N":
            s, e = self.starts[i], self.ends[i]
            name = _shared(self.vals[i])
            if kinds[i + 1] == "(":
                self.i = i + 2
                args = [self.expr()[0]]
                while kinds[self.i] == ",":
                    self.i += 1
                    args.append(self.expr()[0])
                if kinds[self.i] != ")":
                    raise _Bail
                e = self.ends[self.i]
                self.i += 1
                return S.Call(self.span(s, e), name, self.span(s, self.ends[i]), args), s, e
            self.i = i + 1
            return S.Name(self.span(s, e), name), s, e
        if k == "(":
            self.i = i + 1
            node = self.expr()[0]
            if kinds[self.i] != ")":
                raise _Bail
            self.i += 1
            return node, self.starts[i], self.ends[self.i - 1]
        if k == "|":
            self.i = i + 1
            node = self.expr()[0]
            if kinds[self.i] != "|":
                raise _Bail
            self.i += 1
            s, e = self.starts[i], self.ends[self.i - 1]
            return S.Abs(self.span(s, e), node), s, e
        raise _Bail

    def formula(self):
        left, cs, ce = self.conj()
        if self.kinds[self.i] == "implies":
            self.i += 1
            right, _, ce = self.formula()
            return S.Implies(self.span(cs, ce), left, right), cs, ce
        return left, cs, ce

    def conj(self):
        node, cs, ce = self.relation_chain()
        while self.kinds[self.i] == "and":
            self.i += 1
            right, _, ce = self.relation_chain()
            node = S.And(self.span(cs, ce), node, right)
        return node, cs, ce

    def relation_chain(self):
        first, cs, ce = self.expr()
        exprs, rels = [first], []
        kinds = self.kinds
        if kinds[self.i] != "R":
            raise _Bail
        while kinds[self.i] == "R":
            rels.append(REL_NORMAL[self.vals[self.i]])
            self.i += 1
            e, _, ce = self.expr()
            exprs.append(e)
        return S.Chain(self.span(cs, ce), exprs, rels), cs, ce

    def hints(self):
        """`by a, b` (the `by` already read): the hints, and where they end."""
        kinds, hints = self.kinds, []
        while True:
            i = self.i
            if kinds[i] != "N":
                raise _Bail
            hints.append(S.Hint(self.span(self.starts[i], self.ends[i]), _shared(self.vals[i])))
            self.i = i + 1
            if kinds[self.i] != ",":
                return hints, self.ends[i]
            self.i += 1

    def expect_end(self):
        if self.kinds[self.i] != "":
            raise _Bail

    def statement(self):
        kinds, vals = self.kinds, self.vals
        k = kinds[0]
        start = self.starts[0]
        if k in ("claim", "have"):
            self.i = 1
            name = None
            if kinds[1] == "N":
                name = _shared(vals[1])
                self.i = 2
            if kinds[self.i] != ":":
                raise _Bail
            self.i += 1
            formula, _, end = self.formula()
            hints = []
            if kinds[self.i] == "by":
                self.i += 1
                hints, end = self.hints()
            self.expect_end()
            return (S.Claim if k == "claim" else S.Have)(self.span(start, end), name, formula, hints)
        if k in ("theorem", "assume"):
            if kinds[1] != "N" or kinds[2] != ":":
                raise _Bail
            self.i = 3
            formula, _, end = self.formula()
            self.expect_end()
            if k == "theorem":
                return S.Theorem(self.span(start, end), _shared(vals[1]), None, formula)
            return S.Assume(self.span(start, end), _shared(vals[1]), formula)
        if k == "proof" or k == "qed":
            self.i = 1
            self.expect_end()
            return (S.ProofOpen if k == "proof" else S.ProofClose)(self.span(start, self.ends[0]))
        if k == "R":
            self.i = 1
            expr, _, end = self.expr()
            hints = []
            if kinds[self.i] == "by":
                self.i += 1
                hints, end = self.hints()
            self.expect_end()
            return S.ChainStep(self.span(start, end), REL_NORMAL[vals[0]], expr, hints)
        if k in ("N", "#", "(", "|", "-", "+"):
            first, cs, end = self.expr()
            step = None
            if kinds[self.i] == "R":
                r = self.i
                self.i += 1
                expr, _, end = self.expr()
                hints = []
                if kinds[self.i] == "by":
                    self.i += 1
                    hints, end = self.hints()
                step = S.ChainStep(self.span(self.starts[r], end), REL_NORMAL[vals[r]], expr, hints)
            self.expect_end()
            return S.ChainStart(self.span(cs, end), first, step)
        raise _Bail


def _fast_parse(text: str, first_line: int):
    """The node Lark and `ToAst` would build for `text`, or None when this line needs them."""
    if not text.isascii() or _FAST_AVOID.search(text):
        return None
    try:
        p = _FastParser(text, first_line)
        node = p.statement()
    except (_Bail, RecursionError):
        return None
    if len(text) > MAX_NESTING and nesting_depth(node, MAX_NESTING) > MAX_NESTING:
        return None
    return node


def _shifted(obj, delta: int):
    """A deep copy of a parse result, every line number moved by `delta`."""
    if isinstance(obj, S.Span):
        return _make_span(obj.line + delta, obj.column, obj.end_line + delta, obj.end_column)
    if isinstance(obj, list):
        return [_shifted(x, delta) for x in obj]
    if isinstance(obj, tuple):
        return tuple(_shifted(x, delta) for x in obj)
    fields = getattr(type(obj), "__dataclass_fields__", None)
    if fields is None:  # str, Fraction, int, None: immutable, shared
        return obj
    return type(obj)(*[_shifted(getattr(obj, name), delta) for name in fields])


def parse_line(text: str, first_line: int):
    """Parse one logical line. Returns a statement node or a SyntaxProblem."""
    return _parse_chunk(text, first_line)[0]


def _parse_chunk(text: str, first_line: int):
    """(`parse_line`'s answer, whether the fast path gave it)."""
    off = first_line - 1

    def problem(line, col, msg):
        lines = text.split("\n")
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        return S.SyntaxProblem(S.Span(line + off, col, line + off, col + 1), msg, src)

    if len(text) > MAX_LINE_CHARS:
        return problem(1, 1, f"this statement is longer than {MAX_LINE_CHARS} characters"), False
    bad = _bracket_problem(text)
    if bad:  # reported whether or not the grammar accepts the line
        return problem(*bad), False
    node = _fast_parse(text, first_line)
    if node is not None:
        return node, True
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as err:
        if bad:
            return problem(*bad), False
        return problem(*_syntax_message(err, text)), False
    if bad:
        return problem(*bad), False
    too_deep = f"this statement is nested too deeply to check (more than {MAX_NESTING} levels)"
    try:
        node = ToAst(off, text).transform(tree)
    except VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, SyntaxProblemError):
            sp = inner.span
            lines = text.split("\n")
            src = lines[sp.line - off - 1] if 0 < sp.line - off <= len(lines) else ""
            return S.SyntaxProblem(sp, inner.message, src), False
        if isinstance(inner, RecursionError):
            return problem(1, 1, too_deep), False
        if isinstance(inner, (ValueError, OverflowError)):  # e.g. a number Python cannot convert
            return problem(1, 1, "this statement has a number or name that cannot be read"), False
        raise
    except RecursionError:
        return problem(1, 1, too_deep), False
    if nesting_depth(node, MAX_NESTING) > MAX_NESTING:
        return problem(1, 1, too_deep), False
    return node, False


# -------------------------------------------------------------------- grouping
def parse_document(text: str, path: str = "<input>") -> S.Document:
    # Parsing makes no reference cycles, only many small objects, all kept: the cycle
    # collector would scan them again and again (more than half the time of a big file).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_document(text, path)
    finally:
        if gc_was_enabled:
            gc.enable()


# Lines the fast path does not read are parsed by Lark once per distinct text in a
# document; a repeat gets a copy with its line numbers moved.
MEMO_LINES = 4096


def _parse_document(text: str, path: str) -> S.Document:
    if text.startswith(BOM):  # a UTF-8 byte-order mark is not part of the text
        text = text[len(BOM):]
    statements: list = []
    problems: list = []
    for kind, node in iter_document(text):
        (statements if kind == STATEMENT else problems).append(node)
    return S.Document(path, text, statements, problems)


STATEMENT, PROBLEM = "statement", "problem"


def iter_document(text: str):
    """`parse_document` one piece at a time: yields (STATEMENT, node) and (PROBLEM,
    SyntaxProblem) pairs; collected by kind, in order, they are exactly the document's
    `statements` and `problems`. A theorem comes once its proof is complete (after the
    problems found inside it), so a caller can check and drop each statement as it
    comes and hold memory for one item, not for the file. (`text` without its BOM.)"""
    src_lines = None

    def problem(p):
        nonlocal src_lines
        if not p.source_line:
            if src_lines is None:
                src_lines = text.split("\n")
            if 0 < p.span.line <= len(src_lines):
                p.source_line = src_lines[p.span.line - 1]
        return PROBLEM, p

    memo: dict = {}
    theorem = None   # the theorem a proof may attach to
    proof = None     # the proof being read
    pending = None   # a theorem not yet handed out: its proof may follow
    for first_line, chunk in logical_lines(text):
        node = None
        seen = memo.get(chunk)
        if seen is not None:
            try:
                node = _shifted(seen[0], first_line - seen[1])
            except RecursionError:
                node = None
        if node is None:
            node, fast = _parse_chunk(chunk, first_line)
            if not fast and len(memo) < MEMO_LINES:
                try:
                    memo[chunk] = (_shifted(node, 0), first_line)
                except RecursionError:
                    pass
        if isinstance(node, S.SyntaxProblem):
            if proof is not None:
                proof.lines.append(node)
            yield problem(node)
            continue
        if proof is not None:
            if isinstance(node, S.ProofClose):
                proof.span = S.Span(proof.span.line, proof.span.column, node.span.end_line, node.span.end_column)
                proof = None
                continue
            if isinstance(node, S.Have):
                proof.haves.append(node)
                proof.lines.append(node)
                continue
            if isinstance(node, S.ChainStart):
                if proof.start is not None:
                    yield problem(S.SyntaxProblem(node.span, "a proof has one chain; this line starts a second "
                                                  "one (a step line starts with a relation such as `<=`)"))
                    continue
                proof.start = node.expr
                proof.lines.append(node)
                if node.step:
                    proof.steps.append(node.step)
                continue
            if isinstance(node, S.ChainStep):
                if proof.start is None:
                    yield problem(S.SyntaxProblem(node.span, "a step needs an expression before it: "
                                                  "start the chain with the first expression"))
                    continue
                proof.steps.append(node)
                proof.lines.append(node)
                continue
            if isinstance(node, S.ProofOpen):
                yield problem(S.SyntaxProblem(node.span, "`proof` inside a proof: close the first with `qed`"))
                continue
            # any other statement ends the proof without `qed`
            yield problem(S.SyntaxProblem(proof.span, "this proof has no `qed` before the next statement"))
            proof = None
        if isinstance(node, S.ProofOpen):
            if theorem is None or theorem.proof is not None:
                yield problem(S.SyntaxProblem(node.span, "`proof` must follow a `theorem` line"))
                continue
            proof = S.Proof(node.span, [], None, [], [])
            theorem.proof = proof
            continue
        if isinstance(node, S.ProofClose):
            yield problem(S.SyntaxProblem(node.span, "`qed` without a `proof`"))
            continue
        if isinstance(node, (S.ChainStart, S.ChainStep)):
            yield problem(S.SyntaxProblem(node.span, "a proof step outside a proof: put it between "
                                          "`proof` and `qed` after a theorem"))
            continue
        if isinstance(node, S.Have):
            yield problem(S.SyntaxProblem(node.span, "`have` is for proofs; use `claim` outside a proof"))
            continue
        if pending is not None:
            yield STATEMENT, pending
            pending = None
        if isinstance(node, S.Theorem):
            theorem = pending = node
        else:
            theorem = None
            yield STATEMENT, node
    if proof is not None:
        yield problem(S.SyntaxProblem(proof.span, "this proof has no `qed` before the end of the file"))
    if pending is not None:
        yield STATEMENT, pending

