"""The import graph of the packages, read statically (nothing is imported).

formats/ and stats/ are the bottom (standard library, and numpy for stats/); loopback/ (the far end of the wire)
sees only formats/; analysis/ sees formats/ and stats/; export/ sees formats/; bench/ is layered and never
imports analysis/ or export/; no module imports itself back through others. A rule that a planted upward import
would break is shown to fail on one (test_a_planted_upward_import_is_caught)."""

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("formats", "stats", "loopback", "export", "bench", "analysis")
BENCH_LAYERS = ("bench.errors", "bench.adb", "bench.device", "bench.sweep", "bench.cloud", "bench.run_device")
# package -> the project packages it may not import
FORBIDDEN = {
    "formats": ("stats", "loopback", "export", "bench", "analysis"),
    "stats": ("formats", "loopback", "export", "bench", "analysis"),
    "loopback": ("stats", "export", "bench", "analysis"),
    "export": ("loopback", "bench", "analysis"),
    "bench": ("export", "analysis"),
    "analysis": ("loopback", "export", "bench"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_imports(extra_sources: dict[str, str] | None = None) -> dict[str, set[str]]:
    """module -> the project modules it imports (at any depth of its code). `from package import submodule`
    counts as importing the submodule only (as import linters count it), `from module import name` the module.
    extra_sources (module name -> source) adds or replaces modules, for the test that plants an import."""
    sources = {module_name(path): path.read_text()
               for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))}
    sources.update(extra_sources or {})
    paths = set(sources)
    graph: dict[str, set[str]] = {}
    for name, source in sources.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(source, name)):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(paths)
                imported.update(submodules or {node.module})
        graph[name] = {target for target in imported if target in paths}
    return graph


def package_of(module: str) -> str:
    return module.split(".")[0]


def forbidden_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that crosses a layer the wrong way, as "importer -> imported"."""
    return sorted(f"{name} -> {target}" for name, targets in graph.items() for target in targets
                  if package_of(target) in FORBIDDEN.get(package_of(name), ()))


def test_no_package_imports_a_package_above_it():
    assert forbidden_imports(project_imports()) == []


def third_party_imports(package: str) -> set[str]:
    """The top-level names of everything the package imports that is not itself."""
    names: set[str] = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
    return names - {package, "__future__"}


def test_formats_imports_only_the_standard_library():
    assert third_party_imports("formats") <= set(sys.stdlib_module_names), third_party_imports("formats")


def test_stats_imports_only_the_standard_library_and_numpy():
    assert third_party_imports("stats") <= set(sys.stdlib_module_names) | {"numpy"}, third_party_imports("stats")


def test_a_planted_upward_import_is_caught():
    planted = {
        "bench.sweep.planted": "from analysis.report import write_report\n",
        "loopback.planted": "import bench.errors\n",
        "formats.planted": "from stats.confidence import median_interval\n",
        "stats.planted": "from formats.paper import FULL_CONFIGURATION\n",
    }
    assert forbidden_imports(project_imports(planted)) == [
        "bench.sweep.planted -> analysis.report", "formats.planted -> stats.confidence",
        "loopback.planted -> bench.errors", "stats.planted -> formats.paper"]
    assert layer_violations(project_imports({"bench.adb.planted": "import bench.sweep.run\n"})) == [
        "bench.adb.planted imports bench.sweep.run, a higher layer"]


def layer_of(name: str) -> int | None:
    for index, layer in enumerate(BENCH_LAYERS):
        if name == layer or name.startswith(layer + "."):
            return index
    return None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    violations = []
    for name, targets in graph.items():
        own = layer_of(name)
        if own is None:
            continue
        violations += [f"{name} imports {target}, a higher layer" for target in targets
                       if (other := layer_of(target)) is not None and other > own]
    return violations


def test_bench_imports_point_down_its_layers_only():
    """errors <- adb <- device <- sweep <- cloud <- run_device; within a layer anything goes (no cycles)."""
    assert layer_violations(project_imports()) == []


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
