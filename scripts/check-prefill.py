#!/usr/bin/env python3
"""Checks Sources/AmtswegWeb/Resources/data/prefill.json against every shipped assistant version.

prefill.json says, per assistant id (all versions share it), which fields may be prefilled from which item of the
citizen's profile: {"profileItems": [...], "assistants": {id: {page id: {field id: profile item}}}}.

Checks: every shipped assistant id is listed (and no other); every item is one of profileItems; every page and field
exists in the highest version; in every other version that has the page the field exists too; a date field takes
only birthDate and birthDate goes only into a date field; other items go only into text-like fields (text, textarea,
email, postalCode); no field is hidden or locked; no page repeats (the file cannot say which item is the applicant).
Prints a table per assistant and exits 1 on any problem.
"""
import json
import pathlib
import sys

RESOURCES = pathlib.Path(__file__).resolve().parent.parent / "Sources" / "AmtswegWeb" / "Resources"
PREFILL = RESOURCES / "data" / "prefill.json"
ITEMS = ["givenNames", "familyName", "birthName", "birthDate", "birthPlace", "street", "houseNumber", "postalCode",
         "city", "email", "phone"]
TEXT_KINDS = {"text", "textarea", "email", "postalCode"}


def version_key(version):
    return [int(part) if part.isdigit() else 0 for part in version.split(".")]


def german(text):
    return text.get("de", next(iter(text.values()), "")) if isinstance(text, dict) else (text or "")


def main():
    versions = {}
    for path in sorted((RESOURCES / "assistants").rglob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        versions.setdefault(definition["id"], {})[definition["version"]] = definition
    prefill = json.loads(PREFILL.read_text(encoding="utf-8"))
    errors = []
    if prefill.get("profileItems") != ITEMS:
        errors.append(f"profileItems must be exactly {ITEMS}")
    items = set(prefill.get("profileItems", []))
    mapping = prefill.get("assistants", {})
    for missing in sorted(set(versions) - set(mapping)):
        errors.append(f"{missing}: shipped assistant is not listed (use {{}} when nothing is prefilled)")
    for unknown in sorted(set(mapping) - set(versions)):
        errors.append(f"{unknown}: no such assistant")

    for assistant_id in sorted(set(mapping) & set(versions)):
        by_version = versions[assistant_id]
        ordered = sorted(by_version, key=version_key)
        highest = by_version[ordered[-1]]
        rows = []
        for page_id, fields in mapping[assistant_id].items():
            pages = {version: {p["id"]: p for p in by_version[version]["pages"]}.get(page_id) for version in ordered}
            page = pages[ordered[-1]]
            if page is None:
                errors.append(f"{assistant_id}: page {page_id} not in {highest['version']}")
                continue
            if page.get("repeat"):
                errors.append(f"{assistant_id}: page {page_id} repeats; prefilling it is not allowed")
            if not fields:
                errors.append(f"{assistant_id}: page {page_id} has no fields (leave the page out)")
            for field_id, item in fields.items():
                if item not in items:
                    errors.append(f"{assistant_id}: {page_id}.{field_id}: unknown profile item {item!r}")
                for version in ordered:
                    if pages[version] is None:
                        continue
                    field = {f["id"]: f for f in pages[version]["fields"]}.get(field_id)
                    where = f"{assistant_id} {version}: {page_id}.{field_id}"
                    if field is None:
                        errors.append(f"{where}: no such field")
                        continue
                    kind = field["kind"]
                    if kind == "date" and item != "birthDate":
                        errors.append(f"{where}: date field takes only birthDate, not {item}")
                    elif item == "birthDate" and kind != "date":
                        errors.append(f"{where}: birthDate goes only into a date field, not {kind}")
                    elif item != "birthDate" and kind not in TEXT_KINDS:
                        errors.append(f"{where}: {item} does not fit a {kind} field")
                    if field.get("display"):
                        errors.append(f"{where}: field is {field['display']}")
                field = {f["id"]: f for f in page["fields"]}.get(field_id)
                if field:
                    rows.append((page_id, field_id, field["kind"], german(field.get("legend")) or "", german(field["label"]), item))
        print(f"\n{assistant_id}  ({', '.join(ordered)})  {german(highest['title'])}")
        if not rows:
            print("  (nothing prefilled)")
            continue
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for page_id, field_id, kind, legend, label, item in rows:
            label = f"{legend}: {label}" if legend else label
            print(f"  {page_id:<{widths[0]}}  {field_id:<{widths[1]}}  {kind:<{widths[2]}}  {item:<11}  {label}")

    print()
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    total = sum(len(fields) for pages in mapping.values() for fields in pages.values())
    print(f"{len(mapping)} assistants, {total} prefilled fields: {'FAILED' if errors else 'ok'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
