"""Source text -> `Document` (positioned AST, or syntax problems with positions).

A file is cut into logical lines (a line break inside ( ) or [ ] continues the
line; `#` starts a comment), each logical line is parsed with the LALR grammar in
`grammar/proof.lark`, and the statements are then grouped: a `theorem` followed by
`proof ... qed` owns the lines between. A line that fails to parse becomes a
`SyntaxProblem` and the rest of the file is still read.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from fractions import Fraction
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import syntax as S
from .pretty import visible

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
def _strip_comments(text: str) -> str:
    """Blank out comments, keeping every column where it was."""
    return re.sub(r"#[^\n]*", lambda m: " " * len(m.group(0)), text)


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
        for ch in line:
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth = max(0, depth - 1)
        if depth == 0:
            joined = "\n".join(current)
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


def parse_line(text: str, first_line: int):
    """Parse one logical line. Returns a statement node or a SyntaxProblem."""
    off = first_line - 1
    lines = text.split("\n")

    def problem(line, col, msg):
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        return S.SyntaxProblem(S.Span(line + off, col, line + off, col + 1), msg, src)

    if len(text) > MAX_LINE_CHARS:
        return problem(1, 1, f"this statement is longer than {MAX_LINE_CHARS} characters")
    bad = _bracket_problem(text)
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as err:
        if bad:
            return problem(*bad)
        return problem(*_syntax_message(err, text))
    if bad:
        return problem(*bad)
    too_deep = f"this statement is nested too deeply to check (more than {MAX_NESTING} levels)"
    try:
        node = ToAst(off, text).transform(tree)
    except VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, SyntaxProblemError):
            sp = inner.span
            src = lines[sp.line - off - 1] if 0 < sp.line - off <= len(lines) else ""
            return S.SyntaxProblem(sp, inner.message, src)
        if isinstance(inner, RecursionError):
            return problem(1, 1, too_deep)
        if isinstance(inner, (ValueError, OverflowError)):  # e.g. a number Python cannot convert
            return problem(1, 1, "this statement has a number or name that cannot be read")
        raise
    except RecursionError:
        return problem(1, 1, too_deep)
    if nesting_depth(node, MAX_NESTING) > MAX_NESTING:
        return problem(1, 1, too_deep)
    return node


# -------------------------------------------------------------------- grouping
def parse_document(text: str, path: str = "<input>") -> S.Document:
    if text.startswith(BOM):  # a UTF-8 byte-order mark is not part of the text
        text = text[len(BOM):]
    statements: list = []
    problems: list = []
    theorem = None   # the theorem a proof may attach to
    proof = None     # the proof being read
    for first_line, chunk in logical_lines(text):
        node = parse_line(chunk, first_line)
        if isinstance(node, S.SyntaxProblem):
            problems.append(node)
            if proof is not None:
                proof.lines.append(node)
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
                    problems.append(S.SyntaxProblem(node.span, "a proof has one chain; this line starts a second "
                                                    "one (a step line starts with a relation such as `<=`)"))
                    continue
                proof.start = node.expr
                proof.lines.append(node)
                if node.step:
                    proof.steps.append(node.step)
                continue
            if isinstance(node, S.ChainStep):
                if proof.start is None:
                    problems.append(S.SyntaxProblem(node.span, "a step needs an expression before it: "
                                                    "start the chain with the first expression"))
                    continue
                proof.steps.append(node)
                proof.lines.append(node)
                continue
            if isinstance(node, S.ProofOpen):
                problems.append(S.SyntaxProblem(node.span, "`proof` inside a proof: close the first with `qed`"))
                continue
            # any other statement ends the proof without `qed`
            problems.append(S.SyntaxProblem(proof.span, "this proof has no `qed` before the next statement"))
            proof = None
        if isinstance(node, S.ProofOpen):
            if theorem is None or theorem.proof is not None:
                problems.append(S.SyntaxProblem(node.span, "`proof` must follow a `theorem` line"))
                continue
            proof = S.Proof(node.span, [], None, [], [])
            theorem.proof = proof
            continue
        if isinstance(node, S.ProofClose):
            problems.append(S.SyntaxProblem(node.span, "`qed` without a `proof`"))
            continue
        if isinstance(node, (S.ChainStart, S.ChainStep)):
            problems.append(S.SyntaxProblem(node.span, "a proof step outside a proof: put it between "
                                            "`proof` and `qed` after a theorem"))
            continue
        if isinstance(node, S.Have):
            problems.append(S.SyntaxProblem(node.span, "`have` is for proofs; use `claim` outside a proof"))
            continue
        statements.append(node)
        theorem = node if isinstance(node, S.Theorem) else None
    if proof is not None:
        problems.append(S.SyntaxProblem(proof.span, "this proof has no `qed` before the end of the file"))
    src_lines = text.split("\n")
    for p in problems:
        if not p.source_line and 0 < p.span.line <= len(src_lines):
            p.source_line = src_lines[p.span.line - 1]
    return S.Document(path, text, statements, problems)
