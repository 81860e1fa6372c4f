#!/usr/bin/python3
"""Check what `pkg-config syncstream` hands a program, and build one with it.

    check_pkgconfig.py PC_DIR PROGRAM.C READELF -- CC [FLAGS...]

PC_DIR holds syncstream-uninstalled.pc (the build tree's syncstream.pc, from
the same template as the installed one); PROGRAM.C is the program to build;
CC and FLAGS compile it (FLAGS: only the sanitizer options of this build,
which a sanitized library needs in the program too).

Fails (exit 1, saying what is wrong) unless:
  - `pkg-config --cflags syncstream` is only -I options of our own include
    directories (no -D_FILE_OFFSET_BITS, no dependency's include path);
  - `pkg-config --libs syncstream` is only -L and -lsyncstream, and
    `--static --libs` also works;
  - no public header uses a type whose size _FILE_OFFSET_BITS or _TIME_BITS
    changes, since a program compiles them with its own settings;
  - PROGRAM.C, built with the compiler, those flags and nothing else, links the
    shared library and runs, printing "ok".
"""
import os
import re
import subprocess
import sys
import tempfile

from check_exports import public_text

# glibc's types that a program's -D_FILE_OFFSET_BITS=64 (or -D_TIME_BITS=64)
# widens on 32-bit systems: in a public header, the program and the library
# could disagree on them. File offsets in the API are int64_t / uint64_t.
SIZE_VARIES = re.compile(
    r"\b(off_t|ino_t|blkcnt_t|fsblkcnt_t|fsfilcnt_t|rlim_t|fpos_t|glob_t|time_t"
    r"|struct\s+(stat|statfs|statvfs|dirent|rlimit|flock|timespec|timeval))\b")


def pkg_config(pc_dir, *args):
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
    env.pop("PKG_CONFIG_DISABLE_UNINSTALLED", None)
    out = subprocess.run(["pkg-config", *args, "syncstream"], env=env, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise RuntimeError("pkg-config %s syncstream: %s" % (" ".join(args), out.stderr.strip()))
    return out.stdout.split()


def main(argv):
    if "--" not in argv or len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    pc_dir, program, readelf = argv[1:4]
    cc = argv[argv.index("--") + 1:]
    problems = []

    cflags = pkg_config(pc_dir, "--cflags")
    libs = pkg_config(pc_dir, "--libs")
    pkg_config(pc_dir, "--static", "--libs")
    include_dirs = []
    for flag in cflags:
        path = flag[2:] if flag.startswith("-I") else None
        if path is None or not os.path.isdir(os.path.join(path, "syncstream")):
            problems.append("--cflags gives a program more than our include path: %s" % flag)
        else:
            include_dirs.append(path)
    for flag in libs:
        if not (flag.startswith("-L") or flag == "-lsyncstream"):
            problems.append("--libs gives a program more than -lsyncstream: %s" % flag)

    text, _ = public_text(cc + sum((["-I", d] for d in include_dirs), []), include_dirs)
    for found in sorted(set(m.group(0) for m in SIZE_VARIES.finditer(text))):
        problems.append("a public header uses %s, whose size depends on _FILE_OFFSET_BITS "
                        "or _TIME_BITS" % found)

    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "program")
        build = subprocess.run(cc + ["-o", exe, program] + cflags + libs, capture_output=True,
                               text=True)
        if build.returncode != 0:
            problems.append("the program does not build with pkg-config's flags alone:\n"
                            + build.stderr)
        else:
            needed = subprocess.run([readelf, "-d", exe], capture_output=True, text=True,
                                    check=True).stdout
            if "libsyncstream.so" not in needed:
                problems.append("the program did not link the shared library")
            libdirs = [f[2:] for f in libs if f.startswith("-L")]
            env = dict(os.environ, LD_LIBRARY_PATH=":".join(libdirs))
            run = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=60)
            if run.returncode != 0 or not run.stdout.startswith("ok"):
                problems.append("the program failed (status %d): %s%s"
                                % (run.returncode, run.stdout, run.stderr))

    for p in problems:
        print(p)
    print("pkg-config --cflags: %s; --libs: %s: %s"
          % (" ".join(cflags), " ".join(libs), "FAIL" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
