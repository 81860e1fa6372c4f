#!/usr/bin/python3
"""Check that libsyncstream.so exports exactly the public API.

    check_exports.py LIB MAP NM -- CC [CC_ARGS...] -I DIR...

LIB is the shared library, MAP its linker version script, NM the nm program,
and CC (with the -I options of the public headers: the source tree's and the
build tree's, where syncstream/version.h is generated) the C compiler whose
preprocessor reads the headers.

Fails (exit 1, saying what is wrong) unless:
  - every symbol the library exports is a public name (ss_ or SS_, never the
    internal ss__) and carries a symbol version;
  - the exported functions are exactly the functions the public headers
    (include/syncstream/*.h and the generated version.h) declare;
  - the version script lists exactly those functions, so it cannot drift from
    the headers either way (GNU ld ignores a listed name that is not defined).
"""
import glob
import os
import re
import subprocess
import sys

PUBLIC = re.compile(r"^(ss|SS)_(?!_)\w+$")


def header_paths(include_dirs):
    """Every public header found under the include directories."""
    paths = []
    for d in include_dirs:
        paths += glob.glob(os.path.join(d, "syncstream.h"))
        paths += glob.glob(os.path.join(d, "syncstream", "*.h"))
    return sorted(set(os.path.realpath(p) for p in paths))


def public_text(cc, include_dirs):
    """The preprocessed text of the public headers, without the system headers
    they include."""
    headers = header_paths(include_dirs)
    source = "".join('#include "%s"\n' % p for p in headers)
    out = subprocess.run(cc + ["-E", "-x", "c", "-"], input=source, capture_output=True,
                         text=True, check=True).stdout
    roots = tuple(os.path.realpath(d) + os.sep for d in include_dirs)
    keep = False
    text = []
    for line in out.splitlines():
        marker = re.match(r'^# \d+ "([^"]+)"', line)
        if marker:
            keep = os.path.realpath(marker.group(1)).startswith(roots)
        elif keep:
            text.append(line)
    return "\n".join(text), headers


def declared_functions(text):
    """Names of the functions declared at file scope in C text: struct, union
    and enum bodies are dropped, typedefs skipped (their function pointers are
    types, not symbols)."""
    flat = []
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            flat.append(ch)
    names = set()
    for statement in "".join(flat).split(";"):
        statement = " ".join(statement.split())
        if statement.startswith("typedef") or "(" not in statement:
            continue
        name = re.search(r"([A-Za-z_]\w*)\s*\(", statement)
        if name:
            names.add(name.group(1))
    return names


def exported_symbols(nm, lib):
    """{name: version} of the symbols lib defines in its dynamic symbol table,
    version None when unversioned, and the names of the version nodes."""
    out = subprocess.run([nm, "-D", "--defined-only", lib], capture_output=True, text=True,
                         check=True).stdout
    symbols = {}
    nodes = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        kind, full = fields[-2], fields[-1]
        name, _, version = full.partition("@")
        if kind == "A":
            nodes.add(name)
            continue
        symbols[name] = version.lstrip("@") or None
    return symbols, nodes


def script_globals(path):
    """The names the version script exports, and its node names."""
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    names = set()
    nodes = set()
    for node, body in re.findall(r"([\w.]+)\s*\{(.*?)\}", text, flags=re.S):
        nodes.add(node)
        exported = re.split(r"\blocal\s*:", body)[0].replace("global:", " ")
        names.update(re.findall(r"([A-Za-z_]\w*)\s*;", exported))
    return names, nodes


def main(argv):
    if "--" not in argv or len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    lib, vscript, nm = argv[1:4]
    cc = argv[argv.index("--") + 1:]
    include_dirs = [cc[i + 1] for i, a in enumerate(cc) if a == "-I" and i + 1 < len(cc)]

    text, headers = public_text(cc, include_dirs)
    declared = declared_functions(text)
    exported, lib_nodes = exported_symbols(nm, lib)
    listed, script_nodes = script_globals(vscript)

    problems = []
    if not headers:
        problems.append("no public header found under %s" % include_dirs)
    for name in sorted(n for n in exported if not PUBLIC.match(n)):
        problems.append("exported but not a public name: %s" % name)
    for name in sorted(n for n in declared if not PUBLIC.match(n)):
        problems.append("declared in a public header but not a public name: %s" % name)
    for name in sorted(n for n, v in exported.items() if PUBLIC.match(n) and v is None):
        problems.append("exported without a symbol version: %s" % name)
    for name in sorted(declared - set(exported)):
        problems.append("declared in a public header but not exported: %s" % name)
    for name in sorted(n for n in set(exported) - declared if PUBLIC.match(n)):
        problems.append("exported but declared in no public header: %s" % name)
    for name in sorted(declared - listed):
        problems.append("declared in a public header but missing from %s: %s;"
                        % (os.path.basename(vscript), name))
    for name in sorted(listed - declared):
        problems.append("listed in %s but declared in no public header: %s"
                        % (os.path.basename(vscript), name))
    for node in sorted(lib_nodes - script_nodes):
        problems.append("version node %s is not in %s" % (node, os.path.basename(vscript)))

    for p in problems:
        print(p)
    print("%d functions declared in %d public headers, %d symbols exported: %s"
          % (len(declared), len(headers), len(exported), "FAIL" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
