"""What a start pays for: SymPy's tensor module (and with it sympy.combinatorics)
is loaded only when something really asks for it."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str) -> str:
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_checking_a_file_does_not_load_sympys_tensors():
    out = _python("import sys\n"
                  "from proofcheck.cli import main\n"
                  "code = main(['--no-cache', '--quiet', '--jobs', '1', 'proofs/sigmoid_tanh.pf'])\n"
                  "print(code, 'sympy.combinatorics' in sys.modules, 'sympy.tensor.tensor' in sys.modules)\n")
    assert out.split("\n")[-2].split() == ["0", "False", "True"]  # the stand-in only


def test_the_library_leaves_sympys_tensor_module_alone():
    """Only the command defers the module: a program that imports proofcheck gets
    SymPy as it is (tensor operators subclass the real classes)."""
    out = _python("import proofcheck.elaborate, proofcheck.check\n"
                  "from sympy.tensor.toperators import PartialDerivative\n"
                  "from sympy.tensor.tensor import TensorIndexType, tensor_indices, TensorHead\n"
                  "L = TensorIndexType('L'); i, j = tensor_indices('i j', L); A = TensorHead('A', [L])\n"
                  "print(PartialDerivative(A(i), A(j)))\n")
    assert out.strip() == "PartialDerivative(A(i), A(j))"


def test_after_the_stand_in_tensors_still_work_when_asked_for():
    out = _python("import sympy as sp\n"
                  "from proofcheck.lazy import defer_sympy_tensor\n"
                  "defer_sympy_tensor()\n"
                  "x, y = sp.symbols('x y')\n"
                  "print(x + y + 2*x*y)\n"
                  "import sympy.tensor.tensor as tt\n"
                  "from sympy.tensor.toperators import PartialDerivative\n"
                  "L = tt.TensorIndexType('L'); i, j = tt.tensor_indices('i j', L)\n"
                  "A, B = tt.TensorHead('A', [L]), tt.TensorHead('B', [L])\n"
                  "s = A(i) + B(i)\n"
                  "print(type(s).__name__, s)\n"
                  "print(isinstance(s, tt.TensAdd), isinstance(A(i), tt.TensExpr), isinstance(x + y, tt.TensAdd))\n"
                  "print(PartialDerivative(A(i), A(j)))\n")
    assert out.split("\n")[:4] == ["2*x*y + x + y", "TensAdd A(i) + B(i)", "True True False",
                                   "PartialDerivative(A(i), A(j))"]
