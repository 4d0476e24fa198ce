"""What a fresh interpreter loads, step by step: one new Python process for every import-isolation check.

The checks ("``import qualiclip`` needs no torch", "the command line loads neither gradio nor Ray",
"building the app imports no pytorch-grad-cam", ...) each used to start an interpreter of their own,
seconds each once torch is involved. Here one interpreter runs :data:`STEPS` in order, lightest first,
and after each records ``sys.modules`` and what the step printed. Since every step only adds imports,
"M is not loaded after step k" holds exactly as it would in an interpreter that ran steps 1..k alone.

The process advances only as far as a test asks: the fast tier's checks stop before torch is imported,
so they cost a plain interpreter's start-up; the slow tier's go on to the app.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (name, code) in the order they run; each step's code runs in one namespace shared by all steps, and
#: what it assigns to ``value`` is recorded (as JSON).
STEPS: tuple[tuple[str, str], ...] = (
    ("list models", "import qualiclip\nvalue = [[m.name for m in qualiclip.list_models()], qualiclip.__version__]"),
    ("every --help", """
from qualiclip.cli import build_parser, main
commands = build_parser()._subparsers._group_actions[0].choices
codes = []
for argv in [["--help"]] + [[command, "--help"] for command in commands]:
    try:
        main(argv)
    except SystemExit as done:
        codes.append(done.code)
value = {"commands": list(commands), "codes": codes}
"""),
    ("library, explanations and command line", "import qualiclip.explain, qualiclip.cli"),
    ("load_model", "qualiclip.load_model"),
    ("a 6000x6000 JPEG prepared for 768 px", """
import re
from PIL import Image
from qualiclip.imaging import prepare
def peak_mb():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024
path = JPEG_FOLDER + "/large.jpg"
Image.linear_gradient("L").resize((6000, 6000)).convert("RGB").save(path)
open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current size
before = peak_mb()
prepared = prepare(path, 768)
value = {"rise_mb": peak_mb() - before, "size": list(prepared.size)}
"""),
    ("the app built", "from qualiclip.studio.layout import build_demo\nfrom qualiclip.studio.model_slots import load_studio\n"
                      "import qualiclip.studio.callbacks"),
    ("the server's allocator tuning", "from qualiclip.studio.allocator import tune_for_serving\nvalue = tune_for_serving()"),
)

RUNNER = """
import contextlib, io, json, sys, traceback
reply, namespace = sys.stdout, {"JPEG_FOLDER": sys.argv[1]}
for line in sys.stdin:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(json.loads(line), namespace)
        error = None
    except BaseException:
        error = traceback.format_exc()
    reply.write(json.dumps({"modules": sorted(sys.modules), "printed": printed.getvalue(), "error": error,
                            "value": namespace.pop("value", None)}, default=repr) + "\\n")
    reply.flush()
"""


@dataclass(frozen=True)
class Snapshot:
    """After one step: every loaded module's name, what the step printed, its ``value``."""
    modules: frozenset[str]
    printed: str
    value: object

    def loaded(self, *packages: str) -> list[str]:
        """Which of ``packages`` (top-level names, or dotted prefixes) have a module loaded."""
        return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in self.modules))


class FreshImports:
    """One interpreter for the session; :meth:`after` runs steps up to the one named, once each."""

    def __init__(self, scratch: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", RUNNER, str(scratch)], cwd=ROOT, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.snapshots: dict[str, Snapshot] = {}

    def after(self, step: str) -> Snapshot:
        names = [name for name, _ in STEPS]
        for name, code in STEPS[len(self.snapshots):names.index(step) + 1]:
            self.process.stdin.write(json.dumps(code) + "\n")
            self.process.stdin.flush()
            record = json.loads(self.process.stdout.readline())
            if record["error"]:
                raise AssertionError(f"step {name!r} failed in the fresh interpreter:\n{record['error']}")
            self.snapshots[name] = Snapshot(frozenset(record["modules"]), record["printed"], record["value"])
        return self.snapshots[step]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
