import pytest

from proofcheck.check import Options, check_text
from proofcheck.runner import Runner


@pytest.fixture(scope="session")
def runner():
    with Runner(2) as r:
        yield r


@pytest.fixture
def check(runner):
    """check(source) -> FileResult, with a short step time limit."""
    def _check(text, timeout=5.0, seed=0):
        return check_text(text, "<test>", Options(timeout=timeout, seed=seed), runner)
    return _check


@pytest.fixture
def verdicts(check):
    """verdicts(source) -> {item name: status} for named items."""
    def _verdicts(text, **kw):
        result = check(text, **kw)
        return {item.name: item.status for item in result.items if item.name}
    return _verdicts


def item(result, name):
    for it in result.items:
        if it.name == name:
            return it
    raise KeyError(name)
