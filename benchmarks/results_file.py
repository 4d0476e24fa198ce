"""One shared way for benchmark scripts to rewrite their own section of benchmarks/RESULTS.md."""
from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def replace_section(heading: str, text: str, path: Path = RESULTS) -> None:
    """Replace the section that starts with ``heading`` (up to the next '## '), or append it."""
    content = path.read_text() if path.exists() else "# Benchmark results\n"
    start = content.find(heading)
    if start < 0:
        path.write_text(content.rstrip("\n") + "\n\n" + text)
        return
    end = content.find("\n## ", start + len(heading))
    path.write_text(content[:start] + text.rstrip("\n") + "\n" + (content[end:] if end >= 0 else ""))
