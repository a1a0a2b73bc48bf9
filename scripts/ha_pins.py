"""Write into a pyproject.toml the pins a Home Assistant release applies to this library's requirements.

    python scripts/ha_pins.py SITE_PACKAGES PYPROJECT

SITE_PACKAGES holds that Home Assistant (``homeassistant/``). Its installer resolves every integration
requirement under ``package_constraints.txt``, its modbus integration pins pymodbus, and its frontend
integration pins the frontend package the demo serves: those pins become the pyproject's
``[tool.uv] constraint-dependencies`` (between the marker lines), so the lock resolves what a user of that
release gets. Called by ``scripts/newest-ha.sh lock``; standard library only.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

BEGIN = "# BEGIN pins of that Home Assistant (scripts/ha_pins.py writes this block)"
END = "# END pins"
# (integration, the one package of it to pin or None for all): modbus pins pymodbus, which a user's HA may load
# beside ours; camera, frontend and zeroconf are integrations ours depends on.
# conversation, assist_pipeline, tts and ffmpeg: Home Assistant 2026.x imports them whenever it describes services
# to the frontend (helpers/service.py, _base_components), so the demo's frontend needs them installed.
COMPONENT_PINS = (
    ("modbus", "pymodbus"), ("frontend", None), ("camera", None), ("zeroconf", None),
    ("conversation", None), ("assist_pipeline", None), ("tts", None), ("ffmpeg", None),
)


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def main(site: Path, pyproject: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    library = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in library["dependencies"]}
    for extra in library.get("optional-dependencies", {}).values():
        wanted |= {_name(r) for r in extra}
    ha = site / "homeassistant"
    pins: dict[str, str] = {}
    for line in (ha / "package_constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and _name(line) in wanted:
            pins[_name(line)] = line
    # What Home Assistant's own integrations that ours uses (or sits beside, as modbus) pin; the test environment
    # has them installed, as Home Assistant's installer would at run time.
    for component, package in COMPONENT_PINS:
        for requirement in json.loads((ha / "components" / component / "manifest.json").read_text())["requirements"]:
            if package is None or _name(requirement) == package:
                pins[_name(requirement)] = requirement
    block = [BEGIN, "constraint-dependencies = ["]
    block += [f'    "{pins[name]}",' for name in sorted(pins)]
    block += ["]", END]
    text = pyproject.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{pyproject}: no '{BEGIN}' block to fill")
    pyproject.write_text(pattern.sub("\n".join(block), text))
    print(f"{pyproject}: {len(pins)} pins from {ha}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
