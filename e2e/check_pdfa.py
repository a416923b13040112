"""Checks an Antragsbestätigung for what PDF/A-3b and accessibility need, with tools that are not Amtsweg's
(qpdf, pikepdf, poppler's pdftotext and pdfinfo, Pillow's LittleCMS binding for the ICC profile):

    python3 e2e/check_pdfa.py RECEIPT.pdf [TEXT ...]

- qpdf --check finds no error; the file is PDF 1.7 with a binary header comment and a file ID;
- XMP metadata says pdfaid:part 3, conformance B, and carries the title;
- the catalog is marked (MarkInfo), has a language, a structure tree (Document with H1/H2/P) and a parent tree;
- every page has StructParents; every font is embedded (FontFile2) and has a ToUnicode map; no standard-14 fonts;
- the output intent is GTS_PDFA1 with an ICC profile LittleCMS can open;
- daten.json is attached (AF, AFRelationship Data) and parses as JSON;
- pdftotext extracts each TEXT given (so the text can be read aloud).
Prints the problems and exits 1, or prints OK.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pikepdf
from PIL import ImageCms


def main() -> int:
    path, expected = sys.argv[1], sys.argv[2:]
    problems: list[str] = []
    check = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
    if check.returncode != 0 or "No syntax or stream encoding errors" not in check.stdout:
        problems.append(f"qpdf --check: {check.stdout.strip()[-500:]} {check.stderr.strip()[-300:]}")
    head = open(path, "rb").read(32)
    if not head.startswith(b"%PDF-1.7\n%") or not all(b > 127 for b in head[10:14]):
        problems.append("header is not %PDF-1.7 with a binary comment")
    pdf = pikepdf.open(path)
    if "/ID" not in pdf.trailer:
        problems.append("trailer has no /ID")
    meta = pdf.open_metadata()
    if meta.get("pdfaid:part") != "3" or meta.get("pdfaid:conformance") != "B":
        problems.append(f"XMP pdfaid part/conformance: {meta.get('pdfaid:part')}/{meta.get('pdfaid:conformance')}")
    if not meta.get("dc:title"):
        problems.append("XMP has no dc:title")
    root = pdf.Root
    if not (root.get("/MarkInfo") and root.MarkInfo.get("/Marked") is True):
        problems.append("catalog is not marked")
    if not str(root.get("/Lang", "")):
        problems.append("catalog has no /Lang")
    tree = root.get("/StructTreeRoot")
    roles = set()
    if tree is None:
        problems.append("no structure tree")
    else:
        document = tree.K
        if document.S != "/Document":
            problems.append("structure root is not Document")
        roles = {str(kid.S) for kid in document.K}
        if not {"/H1", "/P"} <= roles:
            problems.append(f"structure roles: {sorted(roles)}")
        if "/ParentTree" not in tree:
            problems.append("no parent tree")
    for number, page in enumerate(pdf.pages):
        if "/StructParents" not in page.obj:
            problems.append(f"page {number + 1} has no StructParents")
        for name, font in page.Resources.Font.items():
            if font.Subtype != "/Type0":
                problems.append(f"font {name} is {font.Subtype}, not an embedded Type0 font")
                continue
            descendant = font.DescendantFonts[0]
            if "/FontFile2" not in descendant.FontDescriptor:
                problems.append(f"font {name} is not embedded")
            if "/ToUnicode" not in font:
                problems.append(f"font {name} has no ToUnicode map")
    intents = root.get("/OutputIntents")
    if not intents or intents[0].S != "/GTS_PDFA1":
        problems.append("no GTS_PDFA1 output intent")
    else:
        try:
            ImageCms.ImageCmsProfile(io.BytesIO(intents[0].DestOutputProfile.read_bytes()))
        except Exception as error:  # noqa: BLE001 - any failure means the profile is unusable
            problems.append(f"ICC profile does not open: {error}")
    if "daten.json" not in pdf.attachments:
        problems.append("daten.json is not attached")
    else:
        spec = pdf.attachments["daten.json"]
        json.loads(spec.get_file().read_bytes())
        if str(spec.obj.get("/AFRelationship")) != "/Data" or "/AF" not in root:
            problems.append("attachment is not an associated file (AF, AFRelationship Data)")
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    if not re.search(r"^Tagged:\s+yes$", info, re.MULTILINE):
        problems.append("pdfinfo does not see a tagged PDF")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True, text=True).stdout
    for wanted in expected:
        if wanted not in text:
            problems.append(f"pdftotext does not find {wanted!r}")
    for problem in problems:
        print(problem)
    if not problems:
        print("OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
