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


def targets_line(checks: list[tuple[str, bool]]) -> str:
    """One line naming each measured target and whether it was met."""
    return "Targets: " + "; ".join(f"{text}: **{'met' if ok else 'MISSED'}**" for text, ok in checks) + "."


def publish(heading: str, report: str, update: bool) -> None:
    """Print ``report``; with ``update``, also make it the ``heading`` section of RESULTS.md."""
    print(report)
    if update:
        replace_section(heading, f"{heading}\n\n{report}")
