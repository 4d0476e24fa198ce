"""The project's layering: no import cycle, the library never imports the UI, app.py only wires."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("qualiclip",)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports at module level or inside functions (any import counts)."""
    own = _module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules and name != own)
    return found


def _absolute_imports(path: Path) -> set[str]:
    """The top-level packages ``path`` imports by absolute name, anywhere in the file."""
    tree = ast.parse(path.read_text())
    names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    return names | {(node.module or "").split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and not node.level}


def _in_app(module: str) -> bool:
    return module == "qualiclip.studio" or module.startswith("qualiclip.studio.")


def _graph() -> dict[str, set[str]]:
    files = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    modules = {_module_name(path) for path in files}
    return {_module_name(path): _imports(path, modules) for path in files}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None. Importing a package's own ``__init__`` from a
    submodule is how Python packages work, so edges from a submodule up to its ancestors are ignored."""
    def edges(module: str) -> set[str]:
        return {target for target in graph[module] if not module.startswith(target + ".")}

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(edges(module)):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_import_cycle_among_the_project_modules() -> None:
    graph = _graph()
    assert "qualiclip.image_files" in graph["qualiclip.commands"]  # the graph sees relative imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"pkg": {"pkg.x"}, "pkg.x": {"pkg"}}) is None


def test_library_and_explanations_never_import_gradio_or_the_app() -> None:
    """Everything under ``qualiclip`` but the app (``qualiclip.studio``) stays free of gradio and the app."""
    graph = _graph()
    library = [module for module in graph if not _in_app(module)]
    assert "qualiclip.explain.core" in library and "qualiclip.scoring" in library
    for module in library:
        assert not [target for target in graph[module] if _in_app(target)], module
    for path in (ROOT / "qualiclip").rglob("*.py"):
        if not _in_app(_module_name(path)):
            assert not _absolute_imports(path) & {"gradio", "app"}, path


@pytest.mark.slow  # the fresh interpreter of tests/fresh_imports.py imports torch here
def test_importing_the_library_and_explanations_loads_neither_gradio_nor_the_app(fresh_imports) -> None:
    assert fresh_imports.after("library, explanations and command line").loaded("gradio", "qualiclip.studio") == []


def test_no_generic_top_level_package() -> None:
    """The project installs one top-level package, ``qualiclip`` (pyproject's find includes only it)."""
    packages = sorted(path.parent.name for path in ROOT.glob("*/__init__.py"))
    assert packages == ["benchmarks", "qualiclip"], packages
    assert 'include = ["qualiclip*"]' in (ROOT / "pyproject.toml").read_text()


def test_app_py_is_wiring_only() -> None:
    source = (ROOT / "app.py").read_text()
    assert len(source.splitlines()) <= 40
    tree = ast.parse(source)
    assert not [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


@pytest.mark.slow  # the fresh interpreter of tests/fresh_imports.py imports torch here
def test_ray_is_imported_only_by_the_ray_engine_and_the_command_line_needs_neither_ray_nor_pyarrow(fresh_imports) -> None:
    importers = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "ray" in _absolute_imports(path):
                importers.append(path.relative_to(ROOT).as_posix())
    assert importers == ["qualiclip/collection/ray_engine.py"]
    assert fresh_imports.after("library, explanations and command line").loaded("ray", "pyarrow") == []


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_functions_stay_short_and_build_demo_only_composes() -> None:
    """No function under ``qualiclip/`` over 60 lines; ``build_demo`` (composition only) at most 40."""
    lengths = {f"{path.relative_to(ROOT)}:{node.name}": node.end_lineno - node.lineno + 1
               for path in (ROOT / "qualiclip").rglob("*.py") for node in _functions(path)}
    assert lengths["qualiclip/studio/layout.py:build_demo"] <= 40
    assert not {name: length for name, length in lengths.items() if length > 60}


def test_each_tab_is_one_module_listed_once() -> None:
    """Every module of ``qualiclip/studio/tabs/`` has ``LABEL`` and ``build(page, tab)`` and is in ``TAB_MODULES``."""
    folder = ROOT / "qualiclip" / "studio" / "tabs"
    init = ast.parse((folder / "__init__.py").read_text())
    [listed] = [ast.literal_eval(node.value) for node in init.body
                if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "TAB_MODULES"]
    modules = sorted(path.stem for path in folder.glob("*.py") if path.name != "__init__.py")
    assert sorted(listed) == modules and len(set(listed)) == len(listed) >= 6
    for name in modules:
        tree = ast.parse((folder / f"{name}.py").read_text())
        assigned = {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
                    if isinstance(target, ast.Name)}
        builds = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "build"]
        assert "LABEL" in assigned and [arg.arg for arg in builds[0].args.args] == ["page", "tab"], name


def test_endpoint_wrappers_are_applied_in_one_place() -> None:
    """``guarded``, ``quiet`` and the GPU calls wrap handlers only in ``qualiclip/studio/endpoints.py``."""
    wrappers = {"guarded", "quiet", "gpu_call", "gpu_call_for_input"}
    callers = set()
    for path in (ROOT / "qualiclip").rglob("*.py"):
        tree = ast.parse(path.read_text())
        used = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        decorated = {decorator.id for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                     for decorator in node.decorator_list if isinstance(decorator, ast.Name)}
        if (used | decorated) & wrappers:
            callers.add(path.relative_to(ROOT).as_posix())
    assert callers <= {"qualiclip/studio/endpoints.py", "qualiclip/studio/gpu.py"}, callers


def test_test_helpers_are_not_in_the_installed_package() -> None:
    for path in (ROOT / "qualiclip").rglob("*.py"):
        assert "tests" not in _absolute_imports(path), path
