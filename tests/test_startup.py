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


def test_tensors_still_work_when_asked_for():
    out = _python("import sympy as sp\n"
                  "import proofcheck.elaborate\n"
                  "x, y = sp.symbols('x y')\n"
                  "print(x + y + 2*x*y)\n"
                  "from sympy.tensor.tensor import TensorIndexType, tensor_indices, TensorHead\n"
                  "L = TensorIndexType('L'); i = tensor_indices('i', L)\n"
                  "A, B = TensorHead('A', [L]), TensorHead('B', [L])\n"
                  "s = A(i) + B(i)\n"
                  "print(type(s).__name__, s)\n"
                  "from sympy.tensor.tensor import TensAdd\n"
                  "print(isinstance(s, TensAdd), isinstance(x + y, TensAdd))\n")
    assert out.split("\n")[:3] == ["2*x*y + x + y", "TensAdd A(i) + B(i)", "True False"]
