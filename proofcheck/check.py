"""Check a whole file: declarations, facts, claims, theorems and their proofs.

Statements are read in order (a fact can be cited only after it is stated),
every relation to check becomes a task (`obligations.py`), the tasks run in
killable workers (`runner.py`), and the answers are assembled into results per
item, following the rules of docs/language.md (proofs, verdicts).
"""
from __future__ import annotations

import difflib
from dataclasses import replace
import gc
import threading
import time
from contextlib import contextmanager
import zlib

import sympy as sp

from . import syntax as S
from .elaborate import (BUILTIN_FACTS, DefInfo, ElabError, Elaborator, FAnd, Fact, FForall, FImplies, Rel, Scope,
                        Term, VarInfo, canonical, make_variable)
from . import budget, gate
from .gate import implies_rel
from .obligations import DomainTask, EqualTask, StepTask
from .parse import BOM, STATEMENT, iter_document, parse_document
from .results import FileResult, ItemResult, Options, StepResult  # noqa: F401 - re-exported
from .verdict import CHECKED, ERROR, ORDER, PROVED, UNKNOWN, Verdict, follows_message, weakest


# ------------------------------------------------------------------- relations
_DIRECTION = {"<": 1, "<=": 1, ">": -1, ">=": -1, "=": 0, "!=": None}


def compose(rels: list) -> tuple:
    """(relation the chain proves, None) or (None, reason it proves nothing)."""
    if "!=" in rels:
        return None, "a chain with a `!=` step proves nothing about its ends"
    dirs = {_DIRECTION[r] for r in rels} - {0}
    if len(dirs) > 1:
        return None, "this chain mixes `<`/`<=` with `>`/`>=`, so it proves nothing about its ends"
    if not dirs:
        return "=", None
    up = dirs.pop() == 1
    strict = any(r in ("<", ">") for r in rels)
    return ("<" if strict else "<=") if up else (">" if strict else ">="), None


@contextmanager
def _elaboration_limit(seconds: float):
    """Reading a statement is bounded in time too (huge definitions, sizes): in the
    main thread the same safety net as the workers' (budget.wall_limit)."""
    if threading.current_thread() is threading.main_thread():
        with budget.wall_limit(max(1.0, seconds)):
            yield
    else:
        yield


# --------------------------------------------------------------------- checker
class FileChecker:
    def __init__(self, doc: S.Document, options: Options):
        self.doc = doc
        self.options = options
        self.el = Elaborator(doc.text)
        self.scope = Scope()
        self.tasks: list = []
        self.items: list[ItemResult] = []
        self.fact_items: dict = {}   # id(Fact) -> the ItemResult that states it (claims, theorems, haves)
        # the built-in facts a step may be told to cite: made once, shared by every task
        self._builtin_facts = tuple(Fact(n, "builtin", None, 0) for n in sorted(BUILTIN_FACTS) if n != "cauchy_schwarz")

    def add_task(self, task) -> int:
        self.tasks.append(task)
        return len(self.tasks) - 1

    def seed_for(self, span: S.Span) -> int:
        return zlib.crc32(f"{self.options.seed}:{span.line}:{span.column}".encode())

    # -- items
    def error_item(self, kind, name, span, message, text=""):
        item = ItemResult(kind, name, span, text or self.el.source(span))
        item.own = Verdict(ERROR, "", message)
        self.items.append(item)
        return item

    def build(self):
        # no cycle collection while reading: a full collection of a large heap can take
        # seconds, and would count against a statement's time limit on a loaded machine
        was = gc.isenabled()
        gc.disable()
        try:
            self._build()
        finally:
            if was:
                gc.enable()

    def build_streaming(self, progress=None):
        """build(), reading the text one statement at a time (parse.iter_document) and
        keeping no syntax tree: memory for the items and tasks, not for the tree of
        the whole file. self.doc (built without statements) stays empty.
        progress: a progress.Progress told which line has been reached, or None."""
        was = gc.isenabled()
        gc.disable()
        lines = self.doc.text.count("\n") + 1 if progress is not None else 0
        try:
            for kind, node in iter_document(self.doc.text):
                if progress is not None:
                    progress.reading(self.doc.path, node.span.line, lines)
                if kind == STATEMENT:
                    self._statement(node)
                else:
                    self._problem(node)
            self.items.sort(key=lambda it: (it.span.line, it.span.column))
        finally:
            if was:
                gc.enable()

    def _problem(self, p):
        item = ItemResult("syntax", None, p.span, p.source_line.strip())
        item.own = Verdict(ERROR, "syntax", p.message)
        self.items.append(item)

    def _build(self):
        for p in self.doc.problems:
            self._problem(p)
        for st in self.doc.statements:
            self._statement(st)
        self.items.sort(key=lambda it: (it.span.line, it.span.column))

    def _statement(self, st):
        kind = {"Let": "declaration", "Fun": "declaration", "Def": "declaration",
                "Assume": "assume"}.get(type(st).__name__, type(st).__name__.lower())
        before = len(self.items), len(self.tasks)
        try:
            with _elaboration_limit(self.options.timeout):
                getattr(self, "_s_" + type(st).__name__)(st)
        except ElabError as err:
            self.error_item(kind, getattr(st, "name", None), st.span, err.message)
            self._remember_failed(st)
        except (budget.OutOfTime, RecursionError, MemoryError) as exc:
            # drop what the statement had half built, and say which bound it hit
            del self.items[before[0]:]
            del self.tasks[before[1]:]
            why = {budget.OutOfTime: f"reading it took longer than the time limit ({self.options.timeout:g} s)",
                   RecursionError: "it is nested too deeply to read",
                   MemoryError: "reading it ran out of memory"}[type(exc)]
            item = self.error_item(kind, getattr(st, "name", None), st.span, f"this statement is too large to check: {why}")
            item.own.method = "limits"  # a bound of this run, not a fact about the text
            self._remember_failed(st)

    def _remember_failed(self, st):
        """Later uses of a name whose declaration failed say so, instead of 'not declared'."""
        names = list(getattr(st, "names", None) or []) + ([st.name] if type(st).__name__ == "Def" else [])
        for name in names:
            if isinstance(name, str) and self.scope.declared_line(name) is None:
                self.scope.failed.setdefault(name, st.span.line)

    # -- declarations
    def _s_Let(self, st: S.Let):
        dims = []
        for d in st.type_args:
            t = self.el.scalar(d, self.scope, "a size")
            if not (t.expr.is_integer and (t.expr.is_positive or not t.expr.is_Number)):
                raise ElabError(d.span, f"a size must be a positive integer; `{self.el.source(d.span)}` is not "
                                f"(declare it `integer, positive`)")
            dims.append(t.expr)
        for name in st.names:
            self.el._check_new_name(name, st.span, self.scope)
        for name in st.names:
            sym, shape, kind = make_variable(name, st.type_name, dims, st.assumptions, st.span)
            self.scope.vars[name] = VarInfo(sym, shape, kind, tuple(a for a, _ in st.assumptions), st.span.line)
            for a, _ in st.assumptions:
                if shape is not None:
                    self.scope.matrix_facts.append((sym, a))

    def _s_Fun(self, st: S.Fun):
        if st.domain != "real" or st.codomain != "real":
            raise ElabError(st.span, "functions are declared `fun f : real -> real`")
        for name in st.names:
            self.el._check_new_name(name, st.span, self.scope)
            self.scope.funs[name] = sp.Function(name, real=True)

    def _s_Def(self, st: S.Def):
        self.el._check_new_name(st.name, st.span, self.scope)
        inner = self.scope.child()
        params = []
        for p in st.params or []:
            self.el._check_new_name(p, st.span, inner, bound_ok=True)
            d = sp.Dummy(p, real=True)
            inner.bound[p] = Term(d)
            params.append(d)
        if len(set(st.params or [])) != len(st.params or []):
            raise ElabError(st.span, "a parameter name is repeated")
        body = self.el.term(st.body, inner)
        self.scope.defs[st.name] = DefInfo(params, body, st.span.line)

    def _register(self, name, kind, formula, line):
        if name is None:
            return
        if name in self.scope.facts:
            raise ElabError(S.Span(line, 1, line, 2), f"`{name}` is already the name of a fact "
                            f"(line {self.scope.facts[name].line})")
        if name in BUILTIN_FACTS:
            raise ElabError(S.Span(line, 1, line, 2), f"`{name}` is the name of a built-in fact; choose another")
        fact = Fact(name, kind, formula, line)
        self.scope.facts[name] = fact
        return fact

    def _s_Assume(self, st: S.Assume):
        formula = self.el.formula(st.formula, self.scope)
        self._register(st.name, "assume", formula, st.span.line)

    # -- claims and haves
    def _goals(self, formula, premises):
        if isinstance(formula, Rel):
            return [(formula, premises)]
        if isinstance(formula, FAnd):
            return [g for part in formula.parts for g in self._goals(part, premises)]
        if isinstance(formula, FImplies):
            return self._goals(formula.conclusion, premises + [formula.premise])
        if isinstance(formula, FForall):
            return self._goals(formula.body, premises)
        raise TypeError(formula)  # pragma: no cover

    def _resolve(self, hints, local: dict | None = None) -> list:
        facts = []
        for h in hints:
            if local and h.name in local:
                facts.append(local[h.name])
            elif h.name in self.scope.facts:
                facts.append(self.scope.facts[h.name])
            elif h.name in BUILTIN_FACTS:
                facts.append(Fact(h.name, "builtin", None, 0))
            elif h.name in self.scope.defs:
                continue  # definitions are unfolded anyway
            else:
                known = list(self.scope.facts) + list(local or {}) + sorted(BUILTIN_FACTS)
                close = difflib.get_close_matches(h.name, known, n=1)
                hint = f"; did you mean `{close[0]}`?" if close else \
                    (f"; facts stated so far: {', '.join(known[:8])}" if known else "")
                raise ElabError(h.span, f"unknown fact `{h.name}` (facts must be stated before they are "
                                f"cited){hint}")
        return facts

    def _step_task(self, rel: Rel, premises, facts, hints, local=None) -> StepTask:
        cited = {f.name for f in facts} | {h.name for h in hints}
        uncited = [f for f in list(self.scope.facts.values()) + list((local or {}).values())
                   if f.name not in cited]
        uncited += [f for f in self._builtin_facts if f.name not in cited]
        kinds = {}
        for sym, a in self.scope.matrix_facts:
            kinds.setdefault(sym, set()).add(a)
        mats = set()
        for e in [rel.lhs, rel.rhs] + [c.expr for c in rel.conds]:
            mats |= e.atoms(sp.MatrixSymbol)
        kinds = {m: tuple(sorted(k)) for m, k in kinds.items() if m in mats}
        return StepTask(rel.lhs, rel.rel, rel.rhs, rel.conds, list(premises), facts, [h.name for h in hints],
                        is_matrix=rel.is_matrix or bool(mats), shape=rel.lhs_shape, seed=self.seed_for(rel.span),
                        timeout=self.options.timeout, uncited=uncited, matrix_kinds=kinds)

    def _formula_item(self, kind, name, st, scope, premises=(), local=None):
        item = ItemResult(kind, name, st.span, self.el.source(st.formula.span))
        self.items.append(item)
        saved = self.scope
        self.scope = scope
        try:
            formula = self.el.formula(st.formula, scope)
            facts = self._resolve(st.hints, local)
        except ElabError as err:
            item.own = Verdict(ERROR, "", err.message)
            item.match_info["error_span"] = err.span
            return item, None
        finally:
            self.scope = saved
        for rel, prem in self._goals(formula, list(premises)):
            task = self._step_task(rel, prem, facts, st.hints, local)
            item.steps.append(StepResult(rel.span, rel.rel, rel.lhs_text, rel.rhs_text,
                                         [h.name for h in st.hints], task=self.add_task(task),
                                         cited=list(facts)))
        return item, formula

    def _s_Claim(self, st: S.Claim):
        item, formula = self._formula_item("claim", st.name, st, self.scope)
        if formula is not None:
            fact = self._register(st.name, "claim", formula, st.span.line)
            if fact is not None:
                self.fact_items[id(fact)] = item

    # -- theorems
    def _s_Theorem(self, st: S.Theorem):
        item = ItemResult("theorem", st.name, st.span, self.el.source(st.span), points=st.points)
        self.items.append(item)
        try:
            formula = self.el.formula(st.formula, self.scope)
        except ElabError as err:
            item.own = Verdict(ERROR, "", err.message)
            return
        variables, premises, goal = [], [], formula
        while True:
            if isinstance(goal, FForall):
                variables += goal.variables
                goal = goal.body
            elif isinstance(goal, FImplies):
                premises.append(goal.premise)
                goal = goal.conclusion
            else:
                break
        if st.proof is None:
            item.own = Verdict(UNKNOWN, "", "no proof given")
        else:
            self._check_proof(st, item, goal, variables, premises)
        self._statement_domain(item, formula)
        fact = self._register(st.name, "theorem", formula, st.span.line)
        if fact is not None:
            self.fact_items[id(fact)] = item

    def _statement_domain(self, item: ItemResult, formula):
        """A theorem's statement must be defined wherever the declarations allow."""
        kinds: dict = {}
        for sym, a in self.scope.matrix_facts:
            kinds.setdefault(sym, set()).add(a)
        kinds = {m: tuple(sorted(k)) for m, k in kinds.items()}
        for rel, premises in self._goals(formula, []):
            exprs = [e for e in (rel.lhs, rel.rhs) if not rel.is_matrix]
            if not rel.conds and not any(isinstance(e, sp.Basic) and e.has(sp.Sum, sp.Product) for e in exprs):
                continue
            task = DomainTask(exprs, tuple(rel.conds), list(premises), seed=self.seed_for(item.span),
                              timeout=self.options.timeout, matrix_kinds=kinds)
            item.domain_tasks.append(self.add_task(task))

    def _check_proof(self, st: S.Theorem, item: ItemResult, goal, variables, premises):
        proof = st.proof
        scope = self.scope.child()
        for d in variables:
            scope.bound[d.name] = Term(d)
        local: dict = {}
        for have in proof.haves:
            hitem, hformula = self._formula_item("have", have.name, have, scope, premises, local)
            item.parts.append(hitem)
            if hformula is not None and have.name:
                if have.name in local or have.name in self.scope.facts:
                    hitem.own = Verdict(ERROR, "", f"`{have.name}` is already the name of a fact")
                else:
                    local[have.name] = Fact(have.name, "have", hformula, have.span.line)
                    self.fact_items[id(local[have.name])] = hitem
        broken = [ln for ln in proof.lines if isinstance(ln, S.SyntaxProblem)]
        if broken:
            # a line that could not be read would silently drop out of the chain
            where = ", ".join(str(p.span.line) for p in broken[:5])
            item.own = Verdict(ERROR, "syntax", f"the proof has a syntax error (line {where}); its chain "
                               f"cannot be checked as written")
        if proof.start is None:
            item.own = Verdict(ERROR, "", "the proof has no chain: write the first expression, then one "
                               "step per line (`<= E  by h`)")
            return
        if not proof.steps:
            item.own = Verdict(ERROR, "", "the chain has a first expression but no steps")
            return
        if not isinstance(goal, Rel):
            item.own = Verdict(ERROR, "", "a proof by a chain shows one relation `A R B`; this theorem "
                               "states several (split it into theorems or claims)")
        # have lines are citable only below themselves
        have_line = {h.name: h.span.line for h in proof.haves if h.name}
        saved = self.scope
        self.scope = scope
        try:
            prev = self._chain_term(proof.start)
            prev_node = proof.start
            first = prev
            rels = []
            for step in proof.steps:
                cur = self._chain_term(step.expr)
                rels.append(step.rel)
                sr = StepResult(step.span, step.rel, self.el.source(prev_node.span), self.el.source(step.expr.span),
                                [h.name for h in step.hints])
                item.steps.append(sr)
                try:
                    if isinstance(prev, ElabError):
                        raise ElabError(step.span, "the expression before this step has an error: "
                                        + prev.message)
                    if isinstance(cur, ElabError):
                        raise cur
                    visible = {k: v for k, v in local.items() if have_line.get(k, 0) < step.span.line}
                    for h in step.hints:
                        if h.name in local and h.name not in visible:
                            raise ElabError(h.span, f"`{h.name}` is stated below this step")
                    facts = self._resolve(step.hints, visible)
                    rel = self.el.relation(prev, step.rel, cur, prev_node, step.expr)
                    task = self._step_task(rel, premises, facts, step.hints, visible)
                    sr.task = self.add_task(task)
                    sr.cited = list(facts)
                except ElabError as err:
                    sr.verdict = Verdict(ERROR, "", err.message)
                prev, prev_node = cur, step.expr
            last = prev
        finally:
            self.scope = saved
        if item.own is not None:
            return
        composed, why = compose(rels)
        first_text = self.el.source(proof.start.span)
        last_text = self.el.source(proof.steps[-1].expr.span)
        if composed is None:
            item.own = Verdict(ERROR, "", why)
            return
        if isinstance(first, ElabError) or isinstance(last, ElabError):
            item.own = Verdict(ERROR, "", "the chain's ends have errors, so it cannot be matched to the theorem")
            return
        shows = f"this chain shows `{first_text} {composed} {last_text}`; the theorem states `{goal.text}`"
        if implies_rel(composed, goal.rel):
            pairs = ((first, goal.lhs), (last, goal.rhs))
        elif implies_rel(S.FLIP[composed], goal.rel):
            pairs = ((first, goal.rhs), (last, goal.lhs))
        else:
            what = "a stronger relation" if implies_rel(goal.rel, composed) else "a relation it does not imply"
            item.own = Verdict(ERROR, "chain check", f"{shows}, {what}")
            return
        is_matrix = goal.is_matrix
        for a_term, b in pairs:
            a = a_term.expr
            if a_term.shape is not None and a_term.shape == (1, 1):
                a = a[0, 0]
            a, b = canonical(a), canonical(b)
            if a == b:
                continue
            item.match_tasks.append(self.add_task(EqualTask(a, b, self.options.timeout, is_matrix)))
        item.match_info["shows"] = shows

    def _chain_term(self, node):
        try:
            return self.el.term(node, self.scope)
        except ElabError as err:
            return err

    # -- assembling
    def finish(self, results: list):
        for item in self.items:
            for st in item.steps:
                if st.verdict is None and st.task is not None:
                    st.verdict = results[st.task]
            if item.match_tasks and item.own is None:
                answers = [results[i] for i in item.match_tasks]
                if any(a.status != PROVED for a in answers):
                    timed = any(a.method == "limits" for a in answers)
                    item.own = Verdict(UNKNOWN if timed else ERROR, "chain check",
                                       item.match_info["shows"] + (" (could not compare the ends in time)"
                                                                   if timed else ""))
            for i in item.domain_tasks:
                v = results[i]
                if v.status != PROVED and (item.own is None or ORDER[v.status] < ORDER[item.own.status]):
                    item.own = v
        # citations carry verdicts: settle items in an order where every fact is
        # settled before the steps that cite it (facts are stated before they are cited)
        self._status_memo: dict = {}
        for item in self.items:
            self._settled_status(item)
        for item in self.items:
            item.message, item.method = self._summary(item)

    def _settled_status(self, item: ItemResult) -> str:
        key = id(item)
        if key in self._status_memo:
            return self._status_memo[key]
        self._status_memo[key] = UNKNOWN  # a cycle (impossible: facts are cited after they are stated)
        for st in item.steps:
            if st.verdict is not None:
                st.verdict = self._settled_step(st)
        statuses = [st.verdict.status for st in item.steps if st.verdict]
        if item.own:
            statuses.append(item.own.status)
        statuses += [self._settled_status(p) for p in item.parts]
        item.status = weakest(statuses)
        self._status_memo[key] = item.status
        return item.status

    def _fact_status(self, fact) -> str:
        """assume and built-in facts hold; claims, theorems and haves as settled."""
        item = self.fact_items.get(id(fact))
        if fact.kind in ("assume", "builtin") or item is None:
            return PROVED
        return self._settled_status(item)

    def _settled_step(self, st: StepResult) -> Verdict:
        v = st.verdict
        if "suggested" in v.detail:
            # suggest only facts that are themselves proved (a refuted claim proves too much)
            in_scope = {f.name: f for f in self.tasks[st.task].uncited} if st.task is not None else {}
            good = [n for n in v.detail["suggested"]
                    if n not in in_scope or self._fact_status(in_scope[n]) == PROVED]
            if good:
                # a copy: identical steps share one verdict object (cache.decide_with_cache)
                v = replace(v, message=follows_message(good), detail={**v.detail, "suggested": good})
            else:
                v = v.detail["otherwise"]
        uses = v.detail.get("uses")
        cited = [(f.name, self._fact_status(f)) for f in st.cited
                 if f.kind in gate.CITED_KINDS and (uses is None or f.name in uses)]
        return gate.cap_by_citations(v, cited)

    @staticmethod
    def _summary(item: ItemResult):
        if item.own is not None and item.own.status == item.status:
            return item.own.message, item.own.method
        for st in item.steps:
            if st.verdict and st.verdict.status == item.status:
                if item.kind == "theorem":
                    return f"step at line {st.span.line} is {item.status}", st.verdict.method
                return st.verdict.message, st.verdict.method
        for p in item.parts:
            if p.status == item.status:
                return f"`have` at line {p.span.line} is {item.status}", p.method
        methods = sorted({st.verdict.method for st in item.steps if st.verdict and st.verdict.method})
        return "", "; ".join(methods)


def task_keys(tasks, base_seed: int, skip=(), memo: dict | None = None) -> list:
    """Give every task a seed derived from its content (the same step written twice,
    or by two students, gets the same test points and verdict) and return the keys
    under which their verdicts are cached. `skip`: task fields the key leaves out.
    `memo`: may carry {"sympy": {expression: text}} from earlier calls."""
    from .cache import canonical, content_seed, task_key
    memo = {} if memo is None else memo
    keys = []
    for t in tasks:
        text = canonical(t, memo, skip)
        t.seed = content_seed(base_seed, text)
        keys.append(task_key(text, t.seed))
    return keys


# the first pass decides a step on its own: the facts it did not cite play no part
FIRST_PASS_SKIPS = ("uncited",)


def first_pass_task(t):
    return replace(t, uncited=[]) if isinstance(t, StepTask) else t


def decide_tasks(tasks, runner, options: Options, cache=None) -> list:
    """Verdicts for a file's tasks, in two passes. First every step is decided on its
    own (its context is what it cites, so equal steps are equal tasks); then the
    steps that were not proved, and have facts in scope they did not cite, look for
    one that would prove them ("cite it with `by lip_f`")."""
    from .cache import decide_with_cache
    # keys and seeds of the steps on their own; a copy without the uncited facts is
    # made only for a task that is sent to a worker (a big file repeats its steps)
    keys = task_keys(tasks, options.seed, FIRST_PASS_SKIPS)
    results = decide_with_cache(tasks, keys, runner, options.timeout, cache, sent=first_pass_task)
    del keys
    second = [i for i, t in enumerate(tasks) if isinstance(t, StepTask) and t.uncited and not t.is_matrix
              and results[i].status != PROVED and results[i].method not in ("limits", "internal")]
    if second:
        if getattr(runner, "progress", None) is not None:
            runner.progress_label = "looking for facts to cite"
        seeds = [tasks[i].seed for i in second]
        again = [replace(tasks[i], suggest_for=results[i]) for i in second]
        keys = task_keys(again, options.seed)
        for t, seed in zip(again, seeds):
            t.seed = seed  # task_keys re-derived it; keep the first pass's points
        answers = decide_with_cache(again, keys, runner, options.timeout, cache)
        for i, v in zip(second, answers):
            if v.method not in ("limits", "internal"):  # no suggestion in time: keep the verdict
                # the step's time is both passes' (a new object: equal steps share verdicts)
                results[i] = replace(v, seconds=round(results[i].seconds + v.seconds, 4))
    return results


class TooManySteps(Exception):
    """More obligations than a caller allows (the grader's per-submission budget)."""

    def __init__(self, count: int, limit: int):
        super().__init__(f"{count} steps to check, over the limit of {limit}")
        self.count, self.limit = count, limit


def check_text(text: str, path: str, options: Options, runner, cache=None, max_tasks: int | None = None) -> FileResult:
    """Check a file. `cache`: a cache.VerdictCache, or None to decide everything
    (identical tasks within the file are decided once either way). With `max_tasks`,
    a file with more obligations raises TooManySteps before anything is decided."""
    return check_files([(path, text)], options, runner, cache, max_tasks=max_tasks)[0]


def check_files(texts, options: Options, runner, cache=None, on_error=None, max_tasks: int | None = None,
                keep_tree: bool = True, progress=None) -> list:
    """Check several files with one pool of workers: every file is read first, then
    all their steps are decided together (so both workers stay busy from the first
    file to the last), then each file is settled. Results in the order given.

    texts: [(path, text)]. on_error(path, text, exc) -> FileResult stands in for a
    file whose reading or settling fails, so one bad file never ends the run.
    keep_tree=False: read each file one statement at a time and keep no syntax tree
    (FileResult.doc is None), so that a big file needs memory for its results only.
    progress: a progress.Progress told what is being read and decided, or None."""
    built = []
    for path, text in texts:
        started = time.monotonic()
        if progress is not None:
            progress.reading(path)
        try:
            if keep_tree:
                doc = parse_document(text, path)
                checker = FileChecker(doc, options)
                checker.build()
            else:
                checker = FileChecker(S.Document(path, text[len(BOM):] if text.startswith(BOM) else text, [], []),
                                      options)
                checker.build_streaming(progress)
                doc = None
            if max_tasks is not None and len(checker.tasks) > max_tasks:
                raise TooManySteps(len(checker.tasks), max_tasks)
            built.append((path, text, doc, checker, time.monotonic() - started, None))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - reported on this file only
            built.append((path, text, None, None, 0.0, exc))
    tasks, spans = [], []
    for _, _, _, checker, _, exc in built:
        n = len(checker.tasks) if checker is not None else 0
        spans.append((len(tasks), n))
        if n:
            tasks.extend(checker.tasks)
    started = time.monotonic()
    if progress is not None:
        runner.progress, runner.progress_label = progress, "deciding steps"
    try:
        results = decide_tasks(tasks, runner, options, cache) if tasks else []
    finally:
        if progress is not None:
            runner.progress = None
    deciding = time.monotonic() - started
    out = []
    for (path, text, doc, checker, reading, exc), (first, n) in zip(built, spans):
        if exc is None:
            try:
                checker.finish(results[first:first + n])
                status = weakest(item.status for item in checker.items) if checker.items else PROVED
                share = deciding * n / len(tasks) if tasks else 0.0  # the pool's time, shared by steps
                out.append(FileResult(path, checker.items, round(reading + share, 4), status, text.split("\n"), doc))
                continue
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as err:  # noqa: BLE001
                exc = err
        if on_error is None:
            raise exc
        out.append(on_error(path, text, exc))
    return out
