"""The panel's native ES modules as files, with no browser: every import is relative and names what its module
exports (the browser refuses the whole panel otherwise), every module is reachable from the entry, none is over
600 lines, no two tab mixins define the same method (the later one would silently win), and the served version
changes with any module."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from custom_components.smart_community import panel

FRONTEND = panel.FRONTEND_DIR
ENTRY = FRONTEND / panel.ENTRY_MODULE
MAX_LINES = 600

IMPORT = re.compile(r'^import \{ (?P<names>[^}]+) \} from "(?P<path>[^"]+)";$', re.M)
ANY_IMPORT = re.compile(r"^\s*import\b|\bimport\s*\(", re.M)
EXPORT = re.compile(r"^export (?:const|let|function|async function|class) ([\w$]+)", re.M)
METHOD = re.compile(r"^  (?:async )?(_[\w$]+)\([^)]*\) \{$", re.M)


def _modules() -> dict[Path, str]:
    return {path: path.read_text() for path in sorted(FRONTEND.rglob("*.js"))}


def _imports(path: Path, text: str) -> list[tuple[Path, list[str]]]:
    """What the module imports: (the file, the names); every import statement must be of this one static form."""
    found = [(m["path"], [n.strip() for n in m["names"].split(",")]) for m in IMPORT.finditer(text)]
    assert len(ANY_IMPORT.findall(text)) == len(found), f"{path.name}: an import not of the form 'import {{ a }} from'"
    for specifier, _names in found:
        assert specifier.startswith(("./", "../")) and specifier.endswith(".js"), f"{path.name}: {specifier}"
    return [((path.parent / specifier).resolve(), names) for specifier, names in found]


def test_the_panel_is_split_into_modules() -> None:
    names = {path.relative_to(FRONTEND).as_posix() for path in _modules()}
    assert {"smart-community-panel.js", "shared/panel-base.js", "shared/html.js", "tabs/residents.js",
            "tabs/enrolment.js", "tabs/access-log.js", "tabs/devices.js", "tabs/import.js"} <= names


def test_every_import_resolves_inside_the_folder_to_a_module_that_exports_the_names() -> None:
    modules = _modules()
    exports = {path: set(EXPORT.findall(text)) for path, text in modules.items()}
    for path, text in modules.items():
        for target, names in _imports(path, text):
            assert target in modules, f"{path.name} imports {target}, which is not a module of the panel"
            missing = set(names) - exports[target]
            assert not missing, f"{path.name} imports {sorted(missing)} that {target.name} does not export"


def test_every_module_is_reachable_from_the_entry() -> None:
    modules = _modules()
    seen, todo = {ENTRY}, [ENTRY]
    while todo:
        path = todo.pop()
        for target, _names in _imports(path, modules[path]):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(modules), sorted(p.name for p in set(modules) - seen)


def test_no_module_is_over_600_lines() -> None:
    sizes = {path.relative_to(FRONTEND).as_posix(): text.count("\n") for path, text in _modules().items()}
    assert max(sizes.values()) <= MAX_LINES, sizes


def test_no_two_modules_define_the_same_method() -> None:
    where: dict[str, list[str]] = {}
    for path, text in _modules().items():
        for name in METHOD.findall(text):
            where.setdefault(name, []).append(path.relative_to(FRONTEND).as_posix())
    assert len(where) > 100  # the element's methods are found at all
    twice = {name: files for name, files in where.items() if len(files) > 1}
    assert not twice, twice


def test_the_served_version_changes_with_any_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND, copy)
    monkeypatch.setattr(panel, "FRONTEND_DIR", copy)
    first = panel.frontend_version()
    assert re.fullmatch(r"[0-9a-f]{12}", first) and panel.frontend_version() == first
    audit = copy / "tabs" / "audit.js"
    audit.write_text(audit.read_text() + "\n")
    second = panel.frontend_version()
    assert second != first
    audit.rename(copy / "tabs" / "audit2.js")  # a renamed module is another release too
    assert panel.frontend_version() not in (first, second)
