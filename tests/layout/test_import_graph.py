"""The import graph of the packages: formats/ is the bottom, analysis/ sees only formats/, bench/ is layered,
and no module imports itself back through others (read statically, nothing is imported)."""

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("formats", "export", "bench", "analysis")
BENCH_LAYERS = ("bench.errors", "bench.loopback", "bench.adb", "bench.device", "bench.sweep", "bench.cloud",
                "bench.run_device")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_imports() -> dict[str, set[str]]:
    """module -> the project modules it imports (at any depth of its code). `from package import submodule`
    counts as importing the submodule only (as import linters count it), `from module import name` the module."""
    paths = {module_name(path): path for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(paths)
                imported.update(submodules or {node.module})
        graph[name] = {target for target in imported if target in paths}
    return graph


def test_formats_imports_only_the_standard_library_and_itself():
    for name, targets in project_imports().items():
        if name.startswith("formats"):
            assert all(target.startswith("formats") for target in targets), (name, targets)
    source = "\n".join(path.read_text() for path in (REPO / "formats").rglob("*.py"))
    tree_modules = {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.ImportFrom) and node.module}
    tree_modules |= {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                     if isinstance(node, ast.Import) for alias in node.names}
    assert tree_modules - {"formats", "__future__"} <= set(sys.stdlib_module_names), tree_modules


def test_analysis_depends_on_formats_and_nothing_of_bench_or_export():
    for name, targets in project_imports().items():
        if name.startswith("analysis"):
            assert not any(t.startswith(("bench", "export")) for t in targets), (name, targets)


def test_export_does_not_import_bench_or_analysis():
    for name, targets in project_imports().items():
        if name.startswith("export"):
            assert not any(t.startswith(("bench", "analysis")) for t in targets), (name, targets)


def layer_of(name: str) -> int | None:
    for index, layer in enumerate(BENCH_LAYERS):
        if name == layer or name.startswith(layer + "."):
            return index
    return None


def test_bench_imports_point_down_its_layers_only():
    """errors <- loopback <- adb <- device <- sweep <- run_device; within a layer anything goes (no cycles)."""
    for name, targets in project_imports().items():
        own = layer_of(name)
        if own is None:
            continue
        for target in targets:
            other = layer_of(target)
            assert other is None or other <= own, f"{name} imports {target}, a higher layer"


def test_no_import_cycles():
    graph = project_imports()
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in graph.get(name, ()):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target] if target in path else [name, target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if state.get(target) is None:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
