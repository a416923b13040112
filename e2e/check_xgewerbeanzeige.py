"""Checks an XGewerbeanzeige 2.2 message against the KoSIT sample (shared/data/xgewerbeanzeige/xgwa2.2-valid.xml)
with Python's ElementTree, independently of Amtsweg's writer:

    python3 e2e/check_xgewerbeanzeige.py MESSAGE.xml

- the root element, its namespace and the version attributes are the sample's;
- every element path exists in the sample, except the few that other KoSIT samples of 2.1/2.2 show (listed below);
- siblings that also occur together in the sample come in the sample's order;
- `code` children are unqualified, everything else is in the xga namespace.
Prints what is wrong and exits 1, or prints OK.
"""
from __future__ import annotations

import pathlib
import sys
import xml.etree.ElementTree as ET

NS = "http://www.xgewerbeanzeige.de/spezifikation/2.2"
SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "shared/data/xgewerbeanzeige/xgwa2.2-valid.xml"
# Elements of other KoSIT 2.x samples (docs/xgewerbeanzeige-mapping.md §A.4): unregistered businesses, branches,
# the business's own contact details.
ALLOWED_EXTRA = {"geschaeftsbezeichnung", "hauptniederlassung", "gewerbe/erreichbarkeit",
                 "weitereTaetigkeiten/taetigkeitenZusammengefasst"}


def local(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def paths(element, prefix=""):
    result = {}
    for child in element:
        path = f"{prefix}/{local(child.tag)}" if prefix else local(child.tag)
        result.setdefault(path, []).append(child)
        result.update({k: result.get(k, []) + v for k, v in paths(child, path).items()})
    return result


def order(element, prefix=""):
    """For every parent path, the order in which child names first appear."""
    result = {}
    names = []
    for child in element:
        name = local(child.tag)
        if name not in names:
            names.append(name)
        child_path = f"{prefix}/{name}" if prefix else name
        for key, value in order(child, child_path).items():
            merged = result.setdefault(key, [])
            merged.extend(n for n in value if n not in merged)
    result.setdefault(prefix, []).extend(n for n in names if n not in result.get(prefix, []))
    return result


def main() -> int:
    ours = ET.parse(sys.argv[1]).getroot()
    sample = ET.parse(SAMPLE).getroot()
    problems = []
    if ours.tag != sample.tag:
        problems.append(f"root {ours.tag} != {sample.tag}")
    for attribute in ("standard", "version"):
        if ours.get(attribute) != sample.get(attribute):
            problems.append(f"root @{attribute} {ours.get(attribute)!r} != {sample.get(attribute)!r}")
    for element in ours.iter():
        name = local(element.tag)
        namespace = element.tag[1:].split("}")[0] if element.tag.startswith("{") else ""
        if name == "code" and namespace:
            problems.append("a code element is namespace-qualified")
        if name != "code" and namespace != NS:
            problems.append(f"{name} is not in the xga namespace")
    sample_paths = set(paths(sample))
    for path in paths(ours):
        if path not in sample_paths and not any(path.endswith(extra) or f"/{extra}/" in path for extra in ALLOWED_EXTRA):
            problems.append(f"element path not in the sample: {path}")
    sample_order = order(sample)
    for parent, names in order(ours).items():
        reference = [n for n in sample_order.get(parent, []) if n in names]
        mine = [n for n in names if n in reference]
        if mine != reference:
            problems.append(f"order under {parent or 'root'}: {mine} != sample {reference}")
    for problem in problems:
        print(problem)
    if not problems:
        print("OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
