"""MkDocs hooks: pages and files the site gets from the code and the benchmark records.

- ``reference/config.md`` is generated at build time from the config dataclasses
  (``gen_reference.config_page``), so it can never go stale;
- the images under ``benchmarks/results/`` are served under ``results/`` (the benchmark pages
  link them as ``../results/...``) without copying them into ``docs/``;
- the navigation: a fixed order for the main pages, and every page of a section folder
  (``models/``, ``benchmarks/``, ...) listed from the folder, so a page added there appears
  without editing ``mkdocs.yml``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.structure.files import File, Files

DOCS = Path(__file__).resolve().parent
BENCHMARKS = DOCS.parent / "benchmarks"
IMAGE_SUFFIXES = {".png", ".gif", ".jpg", ".svg"}


# (title, page or folder); a folder lists its index.md first, then its pages by title
NAV = [
    ("Home", "index.md"),
    ("Getting started", "getting-started.md"),
    ("Concepts", "concepts"),
    ("Models", "models"),
    ("Metrics", "metrics.md"),
    ("Datasets", "datasets.md"),
    ("Write your own recipe", "tutorial.md"),
    ("CLI reference", "cli.md"),
    ("Reference", "reference"),
    ("Benchmarks", "benchmarks"),
]
GENERATED_PAGES = ["reference/config.md"]


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").capitalize()


def _folder_nav(folder: str) -> list:
    pages = sorted((DOCS / folder).glob("*.md"))
    rel = [f"{folder}/{p.name}" for p in pages]
    rel += [g for g in GENERATED_PAGES if g.startswith(f"{folder}/") and g not in rel]
    index = [r for r in rel if r.endswith("/index.md")]
    others = sorted((r for r in rel if r not in index), key=lambda r: _title(DOCS / r).lower()
                    if (DOCS / r).is_file() else r)
    return index + [{_title(DOCS / r) if (DOCS / r).is_file() else "Config reference": r} for r in others]


def _guides() -> list:
    """Top-level pages not in ``NAV`` (sharing a model, reliability, ...), by title, so a new guide
    appears without editing this file."""
    listed = {target for _, target in NAV}
    pages = [p for p in sorted(DOCS.glob("*.md")) if p.name not in listed]
    return [{_title(p): p.name} for p in sorted(pages, key=lambda p: _title(p).lower())]


def on_config(config):
    nav = [{title: _folder_nav(target) if (DOCS / target).is_dir() else target} for title, target in NAV]
    guides = _guides()
    if guides:
        nav.insert(len(nav) - 3, {"Guides": guides})  # before the references and benchmarks
    config["nav"] = nav
    return config


def _gen_reference():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, "reference/config.md", content=_gen_reference().config_page()))
    for path in sorted((BENCHMARKS / "results").rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            rel = path.relative_to(BENCHMARKS).as_posix()
            files.append(File(rel, src_dir=str(BENCHMARKS), dest_dir=config["site_dir"],
                              use_directory_urls=config["use_directory_urls"]))
    return files
