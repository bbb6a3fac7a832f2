#!/usr/bin/env python3
"""Checks that every public item of the crate has an example or a link to one.

Reads the rustdoc JSON of the crate (see tools/doc-examples, which builds it)
and walks the public API from the crate root. An item passes when

* its own documentation has a Rust code block (a doctest: not `text`, not
  `ignore`) that names the item, or
* its documentation links (an intra-doc link) to an item or module whose
  Rust code blocks name it.

Checked items: modules, structs, enums, traits, free functions, trait
methods and inherent methods. Not checked: fields, variants, constants and
associated items, and the flag-set methods `bitflags!` generates (they carry
the bitflags crate's documentation). A module passes with any code block.

Usage: doc_examples.py RUSTDOC_JSON [--file SRC_PATH ...] [--list]
Exit status 1 when an item fails.
"""
import json
import re
import sys

NOT_RUST = {"text", "console", "sh", "bash", "toml", "json", "ignore", "compile_fail"}


def code_blocks(doc):
    """The Rust code blocks of a doc comment that rustdoc runs (or compiles)."""
    out, cur = [], None
    for line in (doc or "").split("\n"):
        s = line.strip()
        if s.startswith("```"):
            if cur is None:
                cur = ([], {t.strip() for t in s[3:].split(",") if t.strip()})
            else:
                if not (cur[1] & NOT_RUST):
                    out.append("\n".join(cur[0]))
                cur = None
        elif cur is not None:
            cur[0].append(line)
    return out


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    doc = json.load(open(args[0]))
    files = [args[i + 1] for i, a in enumerate(args) if a == "--file"]
    listing = "--list" in args
    idx, root = doc["index"], doc["root"]

    def kind(v):
        return next(iter(v["inner"]))

    items = {}  # id -> path
    seen = set()

    def add_impl_methods(owner_path, impl_ids):
        for iid in impl_ids:
            imp = idx[str(iid)]["inner"]["impl"]
            if imp["trait"] is not None:
                continue
            for fid in imp["items"]:
                f = idx[str(fid)]
                if f["visibility"] == "public" and kind(f) == "function":
                    items[fid] = owner_path + "::" + f["name"]

    def walk(mid, path):
        if mid in seen:
            return
        seen.add(mid)
        items[mid] = path
        for cid in idx[str(mid)]["inner"]["module"]["items"]:
            c = idx.get(str(cid))
            if c is None or c["crate_id"] != 0:
                continue
            name = c["name"]
            if kind(c) == "use":
                target = c["inner"]["use"]["id"]
                if target is None or str(target) not in idx or idx[str(target)]["crate_id"] != 0:
                    continue
                name = c["inner"]["use"]["name"]
                cid, c = target, idx[str(target)]
            elif c["visibility"] != "public":
                continue
            k = kind(c)
            p = path + "::" + name
            if k == "module":
                walk(cid, p)
            elif k in ("struct", "enum"):
                items[cid] = p
                impls = c["inner"][k]["impls"]
                flags = any(
                    (idx[str(i)]["inner"]["impl"]["trait"] or {}).get("path", "").endswith("Flags")
                    for i in impls
                )
                if not flags:
                    add_impl_methods(p, impls)
            elif k == "trait":
                items[cid] = p
                for fid in c["inner"]["trait"]["items"]:
                    if kind(idx[str(fid)]) == "function":
                        items[fid] = p + "::" + idx[str(fid)]["name"]
            elif k == "function":
                items[cid] = p

    walk(root, idx[str(root)]["name"])

    def names(block, name):
        return re.search(r"\b" + re.escape(name) + r"\b", block) is not None

    missing, own, linked = [], 0, 0
    for iid, path in items.items():
        it = idx[str(iid)]
        span = (it.get("span") or {}).get("filename", "?")
        if files and span not in files:
            continue
        name = path.split("::")[-1]
        is_module = kind(it) == "module"
        if any(is_module or names(b, name) for b in code_blocks(it["docs"])):
            own += 1
            continue
        if any(
            str(t) in idx and any(names(b, name) for b in code_blocks(idx[str(t)]["docs"]))
            for t in it.get("links", {}).values()
        ):
            linked += 1
            continue
        missing.append((span, (it.get("span") or {}).get("begin", [0])[0], path))
    total = own + linked + len(missing)
    print(f"{total} items: {own} with an example, {linked} linking to one, {len(missing)} with neither")
    if missing and (listing or files):
        for span, line, path in sorted(missing):
            print(f"  {span}:{line}: {path}")
    elif missing:
        print("  (--list shows them)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
