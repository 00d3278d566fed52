"""Modules loaded on first use (importlib's LazyLoader): a worker that only meets
simple steps does not pay for the deciders they never reach; and SymPy's tensor
module, which only its Add asks for, and only to learn that nothing is a tensor."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def lazy_module(name: str):
    """The module `name`, executed when one of its attributes is first read."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


TENSOR_MODULE = "sympy.tensor.tensor"


def defer_sympy_tensor() -> None:
    """For the command line only (no code of a user's runs in its processes).
    SymPy's Add.flatten runs `from sympy.tensor.tensor import TensExpr, TensAdd`
    at its first call, only to test whether a term is a tensor; that module pulls in
    sympy.combinatorics, about 20 ms of every start. Until something asks the module
    for another name, those two are stand-in classes with no instances: no tensor can
    exist before the real module is loaded, so every such test answers False, which
    is the true answer. Any other name loads the real module, which then replaces
    this one (later imports, Add's included, get the real classes)."""
    if TENSOR_MODULE in sys.modules:
        return
    stand_in = types.ModuleType(TENSOR_MODULE, "stands in for sympy.tensor.tensor until it is needed")

    class TensExpr:  # noqa: D401 - no object is ever an instance
        """Not yet loaded: nothing is a tensor expression."""

    class TensAdd(TensExpr):
        """Not yet loaded: nothing is a tensor sum."""

    def load_the_real_module(name):
        if name.startswith("__"):  # the import system asks for `__path__` and the like
            raise AttributeError(name)
        if sys.modules.get(TENSOR_MODULE) is stand_in:
            del sys.modules[TENSOR_MODULE]
        real = importlib.import_module(TENSOR_MODULE)
        # whoever still holds the stand-in gets the real classes from now on
        stand_in.__dict__.update({k: v for k, v in real.__dict__.items() if not k.startswith("__")})
        return getattr(real, name)

    stand_in.TensExpr, stand_in.TensAdd = TensExpr, TensAdd
    stand_in.__getattr__ = load_the_real_module
    sys.modules[TENSOR_MODULE] = stand_in
