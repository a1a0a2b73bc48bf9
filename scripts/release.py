"""Build what a HACS user installs: the integration with the library inside it, as one zip.

    python scripts/release.py DIST_DIR

Home Assistant imports a custom integration as the package ``custom_components.smart_community``; HACS unpacks the
release zip named in ``hacs.json`` into that folder. The library (``hub`` and ``devices``) is not on any package
index yet, and top-level ``hub``/``devices`` modules in a user's environment could collide with other packages, so
the zip carries the modules the integration imports as the subpackage ``smart_community/lib/`` and every import
of them is rewritten to a relative one. The manifest's ``requirements`` name only third-party packages. See
docs/architecture.md, "Distribution".

The rewrite is exact or it stops: an ``import hub...`` statement (not ``from``), a module imported by a string
(``importlib``), or a library module that cannot be found ends the build with an error.
"""

from __future__ import annotations

import ast
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "smart_community"
LIBRARY_PACKAGES = ("hub", "devices")
VENDOR = "lib"  # smart_community/lib/hub, smart_community/lib/devices
# A fixed timestamp, so the same sources give the same zip.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class ReleaseError(Exception):
    """The sources cannot be vendored exactly."""


@dataclass
class Vendored:
    """The zip's files: path inside the zip -> bytes."""

    files: dict[str, bytes] = field(default_factory=dict)
    library_modules: set[str] = field(default_factory=set)


def _library_file(module: str) -> Path:
    parts = module.split(".")
    base = ROOT.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    raise ReleaseError(f"library module {module} not found")


def _is_library(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in LIBRARY_PACKAGES


def _imports_by_name(call: ast.Call) -> bool:
    """``importlib.import_module(...)`` of anything but a literal third-party name: the rewrite cannot follow it."""
    function = call.func
    if not (isinstance(function, ast.Attribute) and function.attr == "import_module"):
        return False
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return _is_library(first.value) or first.value.startswith(".")
    return True


def _imports(path: Path, package: str) -> list[str]:
    """Library modules the file imports (at any depth in the file, lazily imported ones included)."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_library(alias.name):
                    raise ReleaseError(f"{path}:{node.lineno}: write 'from ... import ...' for {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module
            if node.level and _is_library(package):
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            if not _is_library(module):
                continue
            assert module is not None
            found.append(module)
            for alias in node.names:  # "from hub.faces import engine" imports a module too
                candidate = f"{module}.{alias.name}"
                try:
                    _library_file(candidate)
                except ReleaseError:
                    continue
                found.append(candidate)
        elif isinstance(node, ast.Call) and _is_library(package) and _imports_by_name(node):
            raise ReleaseError(f"{path}:{node.lineno}: a module imported by name cannot be vendored")
    return found


def library_closure() -> set[str]:
    """Every library module the integration needs, with the packages that contain them."""
    todo = [m for f in sorted(INTEGRATION.rglob("*.py")) for m in _imports(f, "custom_components.smart_community")]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name in seen:
                continue
            seen.add(name)
            path = _library_file(name)
            package = name if path.name == "__init__.py" else ".".join(name.split(".")[:-1])
            todo.extend(_imports(path, package))
    return seen


def _relative(from_package: list[str], target: list[str]) -> str:
    common = 0
    while common < min(len(from_package), len(target)) and from_package[common] == target[common]:
        common += 1
    return "." * (len(from_package) - common + 1) + ".".join(target[common:])


def rewrite(source: str, path: str, zip_package: list[str]) -> str:
    """The source with every absolute library import made relative to its place in the zip.

    ``zip_package`` is the package the file is in, as seen from the zip's root (``smart_community``...).
    """
    tree = ast.parse(source, path)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(_is_library(a.name) for a in node.names):
            raise ReleaseError(f"{path}:{node.lineno}: write 'from ... import ...' for the library")
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _is_library(node.module):
            assert node.module is not None
            line = lines[node.lineno - 1]
            start = node.col_offset + len("from")
            while line[start] in " \t":
                start += 1
            if not line.startswith(node.module, start):
                raise ReleaseError(f"{path}:{node.lineno}: unusual import statement")
            target = ["smart_community", VENDOR, *node.module.split(".")]
            edits.append((node.lineno - 1, start, start + len(node.module), _relative(zip_package, target)))
    for row, begin, end, text in sorted(edits, reverse=True):
        lines[row] = lines[row][:begin] + text + lines[row][end:]
    return "".join(lines)


def _release_manifest() -> bytes:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    # The vendored modules log as custom_components.smart_community.lib...: children of the integration's logger.
    manifest["loggers"] = [name for name in manifest["loggers"] if name not in LIBRARY_PACKAGES]
    for requirement in manifest["requirements"]:
        if requirement.split("=")[0].split(">")[0].split("<")[0].strip() in ("smart-community-hub",):
            raise ReleaseError("the manifest may name only third-party requirements")
    return (json.dumps(manifest, indent=2) + "\n").encode()


def vendored() -> Vendored:
    """The zip's contents, in memory."""
    result = Vendored(library_modules=library_closure())
    for path in sorted(INTEGRATION.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        relative = path.relative_to(INTEGRATION)
        if relative.as_posix() == "manifest.json":
            result.files["manifest.json"] = _release_manifest()
        elif path.suffix == ".py":
            package = ["smart_community", *relative.parts[:-1]]
            result.files[relative.as_posix()] = rewrite(path.read_text(), str(path), package).encode()
        else:
            result.files[relative.as_posix()] = path.read_bytes()
    result.files[f"{VENDOR}/__init__.py"] = (
        b'"""The smart-community-hub library (hub, devices), vendored by scripts/release.py: not edited here."""\n'
    )
    for module in sorted(result.library_modules):
        source = _library_file(module)
        inside = source.relative_to(ROOT)
        package = ["smart_community", VENDOR, *inside.parts[:-1]]
        text = rewrite(source.read_text(), str(source), package)
        result.files[f"{VENDOR}/{inside.as_posix()}"] = text.encode()
    for package in LIBRARY_PACKAGES:
        if (ROOT / package / "py.typed").is_file():
            result.files[f"{VENDOR}/{package}/py.typed"] = b""
    return result


def hacs_zip_name() -> str:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    if not hacs.get("zip_release") or not hacs.get("filename"):
        raise ReleaseError("hacs.json must set zip_release and filename")
    return str(hacs["filename"])


def write_zip(dist: Path) -> Path:
    """Write the HACS zip into ``dist`` and return its path."""
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / hacs_zip_name()
    content = vendored()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(content.files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content.files[name])
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        target = write_zip(Path(argv[0]))
    except ReleaseError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    print(f"{target}: {len(names)} files, {sum(1 for n in names if n.startswith(VENDOR + '/'))} of them the library")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
