#!/usr/bin/env python3
"""Lists the translation units tools/check-tidy checks.

  tidy-units.py DB ROOT             every project unit of the compile db
  tidy-units.py DB ROOT CHANGED...  the units affected by the changed files:
                                    a unit whose own file, or any file its
                                    depfile lists (the build's record of
                                    what the object included), changed. A
                                    unit without a depfile is taken.

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


def affected(unit, objects, changed, root):
    if unit in changed:
        return True
    depfiles = [obj + ".d" for obj in objects]
    if not depfiles or not all(os.path.isfile(d) for d in depfiles):
        return True
    return any(dependencies(d, root) & changed for d in depfiles)


def main():
    db, root = sys.argv[1], os.path.realpath(sys.argv[2])
    units = units_with_objects(db, root)
    if len(sys.argv) == 3:
        for unit in units:
            print(unit)
        return
    changed = {os.path.normpath(path) for path in sys.argv[3:]}
    for unit, objects in units.items():
        if affected(unit, objects, changed, root):
            print(unit)


if __name__ == "__main__":
    main()
