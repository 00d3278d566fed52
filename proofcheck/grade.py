"""Grading a class: each submission against the assignment, as parsed.

An assignment is a `.pf` file of declarations, assumptions and theorem
statements with points (`theorem sum_rule [2] : …`, no proofs). A submission is a
self-contained `.pf` file: the assignment's text plus proofs, plus any claims,
`have`s and definitions of the student's own. Per theorem of the assignment the
grader decides, in this order:

1. the submission states the theorem and proves it ("no proof given" otherwise);
2. its statement is the assignment's, compared as parsed formulas (spacing, `≤`
   for `<=`, redundant parentheses do not matter);
3. every declaration and assumption the theorem depends on is unchanged;
4. the proof does not cite, directly or through claims and `have`s, an assumption
   the assignment does not make;
5. the checker's verdict: `proved` earns the points (`checked` too, unless
   strict); otherwise partial credit, `partial` × points × the share of the
   proof's chain steps that are proved (or checked).

Citations carry verdicts already in the checker (a step proved from a refuted
claim is not proved), so a student's own claims count only as far as they hold.
Nothing here decides a step: the checker does, and this module only reads its
results and compares parse trees.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from . import syntax as S
from .parse import BOM, parse_document
from .verdict import CHECKED, ERROR, PROVED

MAX_BYTES = 1_000_000
MAX_STEPS = 400
MISSING, ALTERED = "missing", "altered"  # grading statuses beside the five verdicts
_SKIP_FIELDS = {"span", "name_span", "text", "implicit", "lines", "source_line"}


class AssignmentError(Exception):
    """The assignment itself cannot be used (unreadable, syntax errors, no theorems)."""


# --------------------------------------------------------------- parse shapes
def shape(node):
    """A parse tree without positions and spellings: equal shapes, equal formulas."""
    if isinstance(node, S.Span):
        return None
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(shape(getattr(node, f.name)) for f in dataclasses.fields(node)
                                             if f.name not in _SKIP_FIELDS)
    if isinstance(node, (list, tuple)):
        return tuple(shape(x) for x in node)
    return node


def names_in(node, out=None) -> set:
    """Every name a formula or proof mentions (variables, functions, definitions, cited facts)."""
    out = set() if out is None else out
    if isinstance(node, S.Name):
        out.add(node.name)
    elif isinstance(node, S.Call):
        out.add(node.name)
    elif isinstance(node, S.Hint):
        out.add(node.name)
    elif isinstance(node, S.Deriv):
        out.add(node.var)
    if dataclasses.is_dataclass(node) and not isinstance(node, S.Span):
        for f in dataclasses.fields(node):
            names_in(getattr(node, f.name), out)
    elif isinstance(node, (list, tuple)):
        for x in node:
            names_in(x, out)
    return out


@dataclass
class Outline:
    """What a document declares and states, by name, as parsed. Where a name is
    declared or assumed twice, the first counts (as for the checker, which reports
    the second as an error) and the name is listed in `repeated`."""
    repeated: dict = field(default_factory=dict)      # name -> line of its second declaration
    declarations: dict = field(default_factory=dict)  # name -> (shape, text, line)
    assumptions: dict = field(default_factory=dict)   # name -> (shape, text, line)
    theorems: dict = field(default_factory=dict)      # name -> S.Theorem
    facts: dict = field(default_factory=dict)         # name -> statement (claims, theorems, assumes)
    defs: dict = field(default_factory=dict)          # name -> S.Def


def outline(doc: S.Document) -> Outline:
    o = Outline()
    lines = doc.text.split("\n")
    seen: set = set()

    def first(name, line) -> bool:
        """True the first time a name is declared or assumed; later times are recorded."""
        if name in seen:
            o.repeated.setdefault(name, line)
            return False
        seen.add(name)
        return True

    for st in doc.statements:
        text = S.span_text(lines, st.span).strip()
        if isinstance(st, S.Let):
            kinds = tuple(sorted(a for a, _ in st.assumptions))
            for n in st.names:
                if first(n, st.span.line):
                    o.declarations[n] = (("let", st.type_name, shape(st.type_args), kinds), text, st.span.line)
        elif isinstance(st, S.Fun):
            for n in st.names:
                if first(n, st.span.line):
                    o.declarations[n] = (("fun", st.domain, st.codomain), text, st.span.line)
        elif isinstance(st, S.Def):
            if first(st.name, st.span.line):
                o.declarations[st.name] = (("def", tuple(st.params or ()), shape(st.body)), text, st.span.line)
                o.defs[st.name] = st
        elif isinstance(st, S.Assume):
            if first(st.name, st.span.line):
                o.assumptions[st.name] = (shape(st.formula), text, st.span.line)
                o.facts[st.name] = st
        elif isinstance(st, S.Theorem):
            o.theorems.setdefault(st.name, st)
            o.facts.setdefault(st.name, st)
        elif isinstance(st, S.Claim) and st.name:
            o.facts.setdefault(st.name, st)
    return o


# ----------------------------------------------------------------- assignment
@dataclass
class AssignedTheorem:
    name: str
    points: Fraction
    node: S.Theorem
    text: str  # the statement as the assignment writes it


@dataclass
class Assignment:
    path: str
    text: str
    doc: S.Document
    outline: Outline
    theorems: list  # AssignedTheorem, in order

    @property
    def max(self) -> Fraction:
        return sum((t.points for t in self.theorems), Fraction(0))


def load_assignment(path: str) -> Assignment:
    try:
        raw = Path(path).read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise AssignmentError(f"cannot read the assignment {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise AssignmentError(f"the assignment {path} is not UTF-8 text") from None
    return assignment_from_text(text, path)


def assignment_from_text(text: str, path: str = "assignment.pf") -> Assignment:
    if text.startswith(BOM):
        text = text[len(BOM):]
    doc = parse_document(text, path)
    if doc.problems:
        p = doc.problems[0]
        raise AssignmentError(f"{path}:{p.span.line}:{p.span.column}: the assignment has a syntax error: {p.message}")
    o = outline(doc)
    lines = text.split("\n")
    theorems = [AssignedTheorem(st.name, st.points if st.points is not None else Fraction(1), st,
                                S.span_text(lines, st.formula.span))
                for st in doc.statements if isinstance(st, S.Theorem)]
    if not theorems:
        raise AssignmentError(f"{path}: the assignment states no theorem to grade")
    return Assignment(path, text, doc, o, theorems)


# ------------------------------------------------------------------ results
@dataclass
class TheoremGrade:
    name: str
    score: Fraction
    max_score: Fraction
    status: str        # proved, checked, refuted, unknown, error, missing, altered
    reason: str        # empty when full marks
    steps: list = field(default_factory=list)  # the check report's steps (report_json._step)
    line: int | None = None


@dataclass
class StudentGrade:
    id: str
    path: str
    total: Fraction
    max: Fraction
    gradable: bool
    message: str
    theorems: list                   # TheoremGrade
    file_result: object = None       # check.FileResult, for feedback pages
    text: str = ""


@dataclass
class Rules:
    strict: bool = False                    # only `proved` earns the points
    partial: Fraction = Fraction(1, 2)      # share of the points partial credit can reach
    max_bytes: int = MAX_BYTES
    max_steps: int = MAX_STEPS              # obligations per submission: a counted bound on grading time


# ------------------------------------------------------------------- reading
def read_submission(path: str, rules: Rules):
    """(text, None) or (None, why it cannot be graded)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror}"
    return decode_submission(raw, rules)


def decode_submission(raw: bytes, rules: Rules):
    if len(raw) > rules.max_bytes:
        return None, f"the file is {len(raw):,} bytes, over the limit of {rules.max_bytes:,}"
    if b"\x00" in raw:
        return None, "the file is not text (it contains NUL bytes): submit the .pf file itself"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"the file is not UTF-8 text (byte {exc.start} cannot be read): save it as UTF-8"
    if text.startswith(BOM):
        text = text[len(BOM):]
    return text, None


def student_id(path: str) -> str:
    return Path(path).stem


# ------------------------------------------------------------------ grading
def _fraction_round(x: Fraction) -> Fraction:
    """Scores to hundredths, half up, exactly (so totals add up as shown)."""
    return Fraction(int(x * 100 + Fraction(1, 2)) if x >= 0 else -int(-x * 100 + Fraction(1, 2)), 100)


def _dependencies(th: S.Theorem, o: Outline) -> tuple:
    """(names the theorem's statement and proof use, transitively through definitions
    and cited facts; the facts it cites transitively)."""
    seen_names: set = set()
    seen_facts: set = set()
    todo = [th.formula, th.proof]
    while todo:
        node = todo.pop()
        for n in names_in(node):
            if n in seen_names:
                continue
            seen_names.add(n)
            if n in o.defs:
                todo.append(o.defs[n].body)
            if n in o.facts and n != th.name:
                seen_facts.add(n)
                st = o.facts[n]
                todo.append(st.formula)
                todo.append(getattr(st, "hints", None))
                todo.append(getattr(st, "proof", None))
    return seen_names, seen_facts


def grade_document(assignment: Assignment, text: str, path: str, file_result, rules: Rules) -> StudentGrade:
    """Grade one submission whose text was checked into `file_result` (check.FileResult)."""
    doc = getattr(file_result, "doc", None) or parse_document(text, path)
    sub = outline(doc)
    asg = assignment.outline
    lines = text.split("\n")

    changed_decl = {}
    for name, (shp, asg_text, _) in asg.declarations.items():
        mine = sub.declarations.get(name)
        if mine is None:
            changed_decl[name] = f"declaration removed: the assignment declares `{asg_text}`; the submission " \
                                 f"does not declare `{name}`"
        elif mine[0] != shp:
            changed_decl[name] = f"declaration changed: the assignment declares `{asg_text}`, the submission " \
                                 f"`{mine[1]}`"
    changed_assume = {}
    for name, (shp, asg_text, _) in asg.assumptions.items():
        mine = sub.assumptions.get(name)
        if mine is None:
            changed_assume[name] = f"assumption removed: the assignment assumes `{asg_text}`"
        elif mine[0] != shp:
            changed_assume[name] = f"assumption changed: the assignment assumes `{asg_text}`, the submission " \
                                   f"`{mine[1]}`"
    added_assume = {n for n in sub.assumptions if n not in asg.assumptions}
    for name, line in sub.repeated.items():
        # declared (or assumed) twice: whichever copy a reader looks at, it is not the assignment's
        why = f"`{name}` is declared or assumed twice (the second time on line {line}); the assignment's " \
              f"declaration must stand alone"
        if name in asg.assumptions:
            changed_assume[name] = why
        else:
            changed_decl[name] = why

    items: dict = {}
    for it in (file_result.items if file_result else []):
        if it.kind == "theorem" and it.name:
            items.setdefault(it.name, it)  # the first, as in the outline
    stated = {}
    for st in doc.statements:
        if isinstance(st, S.Theorem):
            stated[st.name] = stated.get(st.name, 0) + 1
    grades = []
    for at in assignment.theorems:
        if stated.get(at.name, 0) > 1:  # which one would count? neither
            grades.append(TheoremGrade(at.name, Fraction(0), at.points, ALTERED,
                                       f"the submission states `{at.name}` {stated[at.name]} times; state it once"))
            continue
        grades.append(_grade_theorem(at, sub, items.get(at.name), lines, changed_decl, changed_assume,
                                     added_assume, rules))
    total = _fraction_round(sum((g.score for g in grades), Fraction(0)))
    return StudentGrade(student_id(path), path, total, assignment.max, True, "", grades, file_result, text)


def _grade_theorem(at: AssignedTheorem, sub: Outline, item, lines, changed_decl, changed_assume,
                   added_assume, rules: Rules) -> TheoremGrade:
    def zero(status, reason, steps=()):
        return TheoremGrade(at.name, Fraction(0), at.points, status, reason, list(steps),
                            th.span.line if th is not None else None)

    th = sub.theorems.get(at.name)
    if th is None:
        return zero(MISSING, f"no proof given: the submission has no theorem `{at.name}`")
    if shape(th.formula) != shape(at.node.formula):
        mine = S.span_text(lines, th.formula.span)
        return zero(ALTERED, f"statement changed: the assignment states `{at.text}`, the submission `{mine}`")
    if th.proof is None:
        return zero(MISSING, "no proof given")
    names, facts = _dependencies(th, sub)
    for n in sorted(names):
        if n in changed_decl:
            return zero(ALTERED, changed_decl[n])
    for n in sorted(facts):
        if n in changed_assume:
            return zero(ALTERED, changed_assume[n])
        if n in added_assume:
            return zero(ALTERED, f"the proof relies on `{n}`, an assumption the assignment does not make")
    if item is None:  # pragma: no cover - a stated theorem always has an item
        return zero(ERROR, "the theorem could not be checked")
    from .report_json import _step
    steps = [_step(st) for st in item.steps if st.verdict is not None]
    status = item.status
    if status == PROVED or (status == CHECKED and not rules.strict):
        return TheoremGrade(at.name, at.points, at.points, status, "", steps, th.span.line)
    reason = item.message or status
    if item.own is not None and item.own.status == ERROR and item.own.method == "syntax":
        return zero(ERROR, item.own.message, steps)
    leaning = [st for st in item.steps if st.verdict is not None and st.verdict.detail.get("capped_by")
               and st.verdict.status not in (PROVED, CHECKED)]
    if leaning:  # the proof rests on a claim or `have` that does not hold: it proves nothing
        st = leaning[0]
        return zero(status, f"the proof relies on a fact that is not proved: the step at line {st.span.line} "
                            f"{st.verdict.message}", steps)
    good = {PROVED} if rules.strict else {PROVED, CHECKED}
    # a step that rewrites an expression into itself (`= E` after `E`) is no progress:
    # it counts neither way, or padding a wrong proof with them would earn points
    chain = [st for st in item.steps if st.verdict is not None
             and not (st.relation == "=" and st.verdict.method.startswith("identical"))]
    share = Fraction(sum(1 for st in chain if st.verdict.status in good), len(chain)) if chain else Fraction(0)
    score = _fraction_round(at.points * rules.partial * share)
    if chain:
        reason = f"{reason} (partial credit: {sum(1 for st in chain if st.verdict.status in good)} of " \
                 f"{len(chain)} steps hold)"
    return TheoremGrade(at.name, score, at.points, status, reason, steps, th.span.line)


def ungradable(assignment: Assignment, path: str, why: str) -> StudentGrade:
    grades = [TheoremGrade(t.name, Fraction(0), t.points, ERROR, why) for t in assignment.theorems]
    return StudentGrade(student_id(path), path, Fraction(0), assignment.max, False, why, grades)


def grade_file(assignment: Assignment, path: str, options, runner, rules: Rules, cache=None) -> StudentGrade:
    """Read, check and grade one submission; never raises for what a student wrote."""
    text, why = read_submission(path, rules)
    if text is None:
        return ungradable(assignment, path, why)
    return grade_text(assignment, text, path, options, runner, rules, cache)


def grade_text(assignment: Assignment, text: str, path: str, options, runner, rules: Rules,
               cache=None) -> StudentGrade:
    """Check and grade a submission already read (also on Dask workers)."""
    from .check import TooManySteps, check_text
    try:
        result = check_text(text, path, options, runner, cache, max_tasks=rules.max_steps)
    except TooManySteps as too_many:
        return ungradable(assignment, path, f"the submission has {too_many.count} steps to check, over the "
                          f"limit of {too_many.limit} (a bound on grading time; the course can raise it)")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - one submission must not stop the class
        return ungradable(assignment, path, f"the submission could not be checked ({type(exc).__name__}); "
                          f"please report this")
    return grade_document(assignment, text, path, result, rules)


def collect_submissions(paths) -> tuple:
    """(files, problems): *.pf files in the order given (folders sorted), and bad paths."""
    files, problems = [], []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*.pf"))
            if not found:
                problems.append((raw, "no .pf files in this folder"))
            files.extend(found)
        elif p.is_file():
            files.append(raw)
        else:
            problems.append((raw, "no such file or folder"))
    return files, problems


def as_number(x: Fraction):
    """A score for JSON: an int when whole, else a float with two decimals."""
    return int(x) if x.denominator == 1 else round(float(x), 2)
