#!/usr/bin/env python3
"""Lists the translation units tools/check-tidy checks.

  tidy-units.py DB ROOT             every project unit of the compile db
  tidy-units.py DB ROOT CHANGED...  the units that check the changed files:
                                    each changed unit, and for each changed
                                    header one unit that includes it (its
                                    own .cc when that does, else the first
                                    in path order), which reports the
                                    header's findings. Includes are read
                                    from the depfiles (the build's record
                                    of what each object included); a unit
                                    without a depfile counts as including
                                    every header.

Checking one includer per header keeps the check of a change to a widely
included header to seconds rather than every unit again (tens of
minutes). What it can miss, a finding in an unchanged unit that only a
header's change provokes, the full run (tools/check-tidy, --record)
finds.

Paths are relative to ROOT. The server's generated protobuf and gRPC stubs
live in the build tree, so they are never among the units.
"""
import json
import os
import shlex
import sys

FOLDERS = ("engine/", "index/", "segment/", "inspect/", "server/",
           "testing/", "tools/", "bindings/", "tests/", "bench/")


def units_with_objects(db, root):
    """Each project unit that exists, with the objects the build makes."""
    units = {}
    for entry in json.load(open(db)):
        path = os.path.relpath(os.path.join(entry["directory"], entry["file"]),
                               root)
        if not path.startswith(FOLDERS):
            continue
        if not os.path.isfile(os.path.join(root, path)):
            continue
        objects = units.setdefault(path, [])
        words = shlex.split(entry.get("command", ""))
        if "-o" in words:
            objects.append(os.path.join(entry["directory"],
                                        words[words.index("-o") + 1]))
    return units


def dependencies(depfile, root):
    """The files a make-style depfile lists, relative to root."""
    text = open(depfile).read().replace("\\\n", " ")
    deps = set()
    for word in text.split()[1:]:
        if os.path.isabs(word):
            word = os.path.relpath(word, root)
        deps.add(os.path.normpath(word))
    return deps


def includes(objects, root):
    """The files a unit's objects included, or None when unknown."""
    depfiles = [obj + ".d" for obj in objects]
    if not depfiles or not all(os.path.isfile(d) for d in depfiles):
        return None
    deps = set()
    for depfile in depfiles:
        deps |= dependencies(depfile, root)
    return deps


def checking_units(units, changed, root):
    """Changed units, and one includer of each changed header."""
    chosen = {unit for unit in units if unit in changed}
    headers = sorted(path for path in changed
                     if path.endswith(".h") and path.startswith(FOLDERS))
    included = {unit: includes(objects, root)
                for unit, objects in units.items()}
    for header in headers:
        includers = sorted(unit for unit, deps in included.items()
                           if deps is None or header in deps)
        if not includers or chosen & set(includers):
            continue
        own = os.path.splitext(header)[0] + ".cc"
        chosen.add(own if own in includers else includers[0])
    return sorted(chosen)


def main():
    db, root = sys.argv[1], os.path.realpath(sys.argv[2])
    units = units_with_objects(db, root)
    if len(sys.argv) == 3:
        for unit in units:
            print(unit)
        return
    changed = {os.path.normpath(path) for path in sys.argv[3:]}
    for unit in checking_units(units, changed, root):
        print(unit)


if __name__ == "__main__":
    main()
