#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/ from the repository's own samples:
the RFC 4475 torture messages (tests/data/rfc4475/*.dat), the messages of
src/sip/testdata.rs, the shipped config and tests/data/config/**/*.toml.

Run from anywhere: python3 fuzz/make_seeds.py. Seeds are plain files named by content hash,
so re-running is idempotent.
"""

import ast
import hashlib
import pathlib
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"


def testdata_messages():
    """Every `concat!(...)` byte-string constant of src/sip/testdata.rs that is a message."""
    text = (ROOT / "src/sip/testdata.rs").read_text()
    out = []
    for m in re.finditer(r"pub\(crate\) const (\w+): &\[u8\] = concat!\((.*?)\)\s*\.as_bytes\(\);", text, re.S):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        body = "".join(ast.literal_eval('"' + p + '"') for p in parts)
        out.append((m.group(1).lower(), body.encode()))
    return out


def torture_messages():
    return [(p.stem, p.read_bytes()) for p in sorted((ROOT / "tests/data/rfc4475").glob("*.dat"))]


def configs():
    files = [ROOT / "config/trunkgate.toml"] + sorted((ROOT / "tests/data/config").rglob("*.toml"))
    return [(p.stem, p.read_bytes()) for p in files]


def write(target, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def main():
    msgs = testdata_messages() + torture_messages()
    small = [m for _, m in msgs if len(m) <= 4096]
    for m in small:
        write("parse", m)
    # framing: limit (u16 LE), then the stream; arbitrary takes the cut list's length from
    # the tail, so a trailing 0 byte means "no cuts" for short inputs.
    td = [m for _, m in testdata_messages()]
    for i, m in enumerate(td):
        nxt = td[(i + 1) % len(td)]
        write("framing", struct.pack("<H", 4000) + b"\r\n\r\n" + m + b"\r\n" + nxt + b"\x00")
    # digest: the credentials / challenge values of the samples, as the `raw` field.
    creds = [
        b'Digest username="pbx1", realm="edge.test", nonce="abc", uri="sips:edge.test", '
        b'response="0123456789abcdef0123456789abcdef", algorithm=MD5',
        b'Digest realm="edge.test", nonce="00", opaque="11", algorithm=SHA-256, qop="auth", stale=true',
        b'Digest username="a\\"b", realm="r", nonce="n", uri="sip:x", response="y", qop=auth, '
        b'nc=00000001, cnonce="c"',
    ]
    for c in creds:
        write("digest", c + bytes(64) + bytes([len(c)]))
    for _, t in configs():
        write("config", t)
    for m in td:
        write("core", m)
    for name, n in (("parse", len(small)), ("framing", len(td)), ("digest", len(creds)),
                    ("config", len(configs())), ("core", len(td))):
        print(f"{name}: {n} seeds")


if __name__ == "__main__":
    main()
