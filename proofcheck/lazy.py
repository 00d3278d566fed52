"""Modules loaded on first use (importlib's LazyLoader): a worker that only meets
simple steps does not pay for the deciders they never reach."""
from __future__ import annotations

import importlib.util
import sys


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
