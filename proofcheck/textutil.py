"""User text in messages, shown as it is in the file (no SymPy needed, so the
reporters load quickly)."""
from __future__ import annotations

import unicodedata


def visible(text: str) -> str:
    """`text` with control and invisible characters escaped (`\\x00`, `\\u200b`);
    tabs are shown as spaces. The result is printable on one line."""
    out = []
    for ch in text:
        if ch == "\t":
            out.append(" ")
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Zs" and ch != " "):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)
