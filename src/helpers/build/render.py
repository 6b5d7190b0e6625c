"""Render the staged site in shards, all pages or only those whose sources changed, and assemble
one site from them.

One ``quarto render`` of the whole site runs in one process (about 3.5 s to start, then about
0.75 s a page on this kind of machine); here the staged project (``build/site``, written by
``helpers.build.site.stage_site``) is cut up:

- a *page* is a file of the project's render list; its *sources* are that file and its figures
  folder (``pdf/<id>_figures``); every other staged file is *shared* (configuration, theme,
  styles), except ``downloads/``, which is copied into the site as it is (as Quarto copies a
  resource);
- the render is *cold* (every page) when there is no earlier site or a shared file (the
  configuration without its render list, which only says which pages there are) or Quarto
  changed; otherwise only the pages whose sources changed are rendered, over a copy of the
  earlier site made of hard links, so every other file stays byte-identical, and the outputs of
  pages no longer staged are removed. The list of pages is not shared: a page's output depends
  on its sources and the configuration only (no entry per page in the navigation bar, no
  sidebar, no listing; the search index and the sitemap are merged), so adding or removing a
  town renders only the pages whose sources changed with it;
- each shard is a project of its own (``build/shards/<k>``: the shared files, its pages, a
  render list of its pages) with its own output folder, so shards render at the same time
  without colliding; pages link to each other by address (``towns/x.html``), never by source,
  so a page comes out the same in any shard; a second Quarto process only for enough pages to
  outweigh its start (``shard_count``);
- a page can be staged after planning (``later``: the comparison page, while its notebook
  still runs): the other pages' shards render meanwhile, and it renders in a shard of its own;
- assembly: the shards' outputs over the site, one ``search.json`` and one ``sitemap.xml``:
  the earlier entries of the pages not rendered now and the new entries of those that were, in
  the render list's order. (Quarto's own render of a subset keeps the search entries of a
  section a page no longer has; this drops them.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpers.build import quarto
from helpers.build.manifest import Hasher, tree_files, write_atomic
from helpers.build.site import html_name

#: Files of a site that the assembly merges from the shards instead of copying.
MERGED = ("search.json", "sitemap.xml")
#: Copied into the site as staged (a Quarto resource), never rendered.
DOWNLOADS = "downloads"
#: A shard's output folder, inside its project.
SHARD_OUTPUT = "_site"
#: A page's share of a render's cost beyond the size of its sources (bytes' worth).
PAGE_COST = 200_000
#: At most this many pages in one shard: one Quarto process holds about 4 MB more for each page
#: it renders (370 MB at 42 pages, about 850 MB at 162); its start (about 3.5 s) is shared by
#: this many pages.
PAGES_PER_SHARD = 60
#: A second Quarto process only for at least this many pages each: its start (about 3.5 s of a
#: core) is paid again, and the shard's pages must outweigh it. Measured on the shared 2-core
#: machine (load average 6–9, 2026-11-30), one process against two at the same time, three
#: rounds each: a town's page, its PDF, the index and the methods page 6.3–11.3 s against
#: 10.3–14.3 s; three towns' pages and PDFs with the index and methods (8 pages) 14.6–21.1 s
#: against 20.2–22.8 s. (On a quiet machine two shards of 42 pages each took 57.3 s against
#: 113.2 s in one.)
MIN_SHARD_PAGES = 8


@dataclass(frozen=True)
class Plan:
    """What to render: ``pages`` (the site's pages in render order), ``render`` (those to render
    now), ``cold`` (every page, into an empty site), ``removed`` (pages of the earlier site no
    longer staged, whose outputs go), ``later`` (pages staged after planning: always rendered)
    and the keys to remember afterwards."""

    pages: list[str]
    render: list[str]
    cold: bool
    shared: str
    keys: dict[str, str]
    removed: list[str] = field(default_factory=list)
    later: tuple[str, ...] = ()

    def save(self, state: Path, stage: Path) -> None:
        """Remember what the site was rendered from (after the site is in place)."""
        keys = {p: self.keys.get(p) or page_key(stage, p) for p in self.pages}
        write_atomic(state, json.dumps({"shared": self.shared, "pages": keys}, indent=1))


def render_list(stage: Path) -> list[str]:
    """The pages of a staged project, in its render order."""
    config = yaml.safe_load((stage / "_quarto.yml").read_text(encoding="utf-8"))
    return list(config["project"]["render"])


def page_sources(stage: Path, page: str) -> list[Path]:
    """A page's source file and its figures folder's files."""
    source = stage / page
    return [source, *tree_files(source.with_name(f"{source.stem}_figures"))]


def page_outputs(site: Path, page: str) -> list[Path]:
    """Where a page's outputs are in a rendered site (those that exist)."""
    base = site / Path(page).parent
    stem = Path(page).stem
    found = [base / f"{stem}{suffix}" for suffix in (".html", ".pdf", "_files", "_figures")]
    return [p for p in found if p.exists()]


def page_key(stage: Path, page: str) -> str:
    """The key of a page's sources."""
    return Hasher("page").files(page_sources(stage, page)).key()


def _shared_files(stage: Path, pages: Iterable[str]) -> list[Path]:
    owned = {f for p in pages for f in page_sources(stage, p)}
    return [f for f in tree_files(stage)
            if f not in owned and f.relative_to(stage).parts[0] != DOWNLOADS]


def _quarto_version(exe: Path | None) -> str:
    """Quarto's version file next to its executable (the installers' layout), else its path."""
    if exe is None:
        return "no quarto"
    version = exe.resolve().parent.parent / "share" / "version"
    return version.read_text(encoding="utf-8") if version.is_file() else str(exe.resolve())


def shared_config(stage: Path) -> str:
    """The staged ``_quarto.yml`` as every page is rendered with it: without its render list."""
    config = yaml.safe_load((stage / "_quarto.yml").read_text(encoding="utf-8"))
    config["project"].pop("render", None)
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=True)


def plan(
    stage: Path, site: Path, state: Path, exe: Path | None, later: Sequence[str] = ()
) -> Plan:
    """Which pages of ``stage`` to render, given the site rendered earlier and its ``state``;
    the pages ``later`` are staged after this (they are rendered in any case)."""
    pages = render_list(stage)
    config = stage / "_quarto.yml"
    shared = (
        Hasher("site-shared")
        .text(shared_config(stage) + _quarto_version(exe))
        .files([Path(__file__), *(f for f in _shared_files(stage, pages) if f != config)])
        .key()
    )
    keys = {p: page_key(stage, p) for p in pages if p not in later}
    try:
        earlier = json.loads(state.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        earlier = {}
    cold = earlier.get("shared") != shared or not (site / "index.html").exists()
    old = {} if cold else earlier.get("pages", {})
    redo = [p for p in pages if p in later or old.get(p) != keys[p]]
    return Plan(pages, redo, cold, shared, keys, [p for p in old if p not in pages],
                tuple(p for p in later if p in pages))


def shard_count(pages: Sequence[str], slots: int) -> int:
    """How many Quarto processes to render ``pages`` in: one per ``MIN_SHARD_PAGES`` pages, at
    most ``slots``, at least one."""
    return max(1, min(slots, len(pages) // MIN_SHARD_PAGES))


def split(
    stage: Path, pages: Sequence[str], n: int, most: int = PAGES_PER_SHARD
) -> list[list[str]]:
    """``pages`` in ``n`` shards of about equal cost (largest first onto the lightest shard
    with room), more if a shard would hold over ``most`` pages; each in render order."""
    cost = {p: PAGE_COST + sum(f.stat().st_size for f in page_sources(stage, p)) for p in pages}
    count = max(n, -(-len(pages) // most))
    shards: list[list[str]] = [[] for _ in range(max(1, min(count, len(pages))))]
    load = [0] * len(shards)
    for p in sorted(pages, key=lambda p: -cost[p]):
        i = min((k for k in range(len(shards)) if len(shards[k]) < most), key=load.__getitem__)
        shards[i].append(p)
        load[i] += cost[p]
    order = {p: i for i, p in enumerate(pages)}
    return [sorted(s, key=order.__getitem__) for s in shards if s]


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:  # another file system
        shutil.copy2(src, dest)


def stage_shards(stage: Path, shards: Sequence[Sequence[str]], folder: Path) -> list[Path]:
    """One project per shard in ``folder/<k>`` (``folder`` emptied first)."""
    shutil.rmtree(folder, ignore_errors=True)
    return [stage_shard(stage, pages, folder / str(k)) for k, pages in enumerate(shards)]


def stage_shard(stage: Path, pages: Sequence[str], dest: Path) -> Path:
    """A project of its own in ``dest`` (emptied first) that renders ``pages`` of ``stage``
    into ``dest/_site``: the shared files and the pages' sources (hard links)."""
    shutil.rmtree(dest, ignore_errors=True)
    everything = render_list(stage)
    for f in _shared_files(stage, everything):
        if f.name != "_quarto.yml" or f.parent != stage:
            _link(f, dest / f.relative_to(stage))
    for p in pages:
        for f in page_sources(stage, p):
            _link(f, dest / f.relative_to(stage))
    config = yaml.safe_load((stage / "_quarto.yml").read_text(encoding="utf-8"))
    config["project"]["render"] = list(pages)
    config["project"]["output-dir"] = SHARD_OUTPUT
    config["project"]["resources"] = [r for r in config["project"].get("resources", [])
                                      if r.rstrip("/") != DOWNLOADS]
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    (dest / "_quarto.yml").write_text(text, encoding="utf-8")
    return dest


def render_shard(project: Path) -> str | None:
    """Render one shard with the Quarto found here (a Dask worker finds its own); the error,
    or None."""
    exe = quarto.find_quarto()
    if exe is None:
        return f"Quarto not found where {project} was to be rendered"
    try:
        quarto.render(exe, project, project / "quarto.log")
    except quarto.QuartoError as exc:
        return str(exc)
    return None


def render_shards(projects: list[Path], run: Callable[..., list[str | None]]) -> list[str]:
    """Render the shard projects with ``run`` (a parallel map); the errors."""
    return [e for e in run(render_shard, projects) if e]


# --- assembly ---


def _page_of(href: str) -> str:
    return href.split("#", 1)[0]


def merge_search(
    earlier: list[dict], rendered: Iterable[list[dict]], pages: Sequence[str], redone: Iterable[str]
) -> list[dict]:
    """One search index: the earlier entries of pages not rendered again (``redone``), the new
    entries of those that were, page by page in the order of ``pages``."""
    redone_html = {html_name(p) for p in redone}
    by_page: dict[str, list[dict]] = {}
    for entry in earlier:
        if _page_of(entry["href"]) not in redone_html:
            by_page.setdefault(_page_of(entry["href"]), []).append(entry)
    for entries in rendered:
        for entry in entries:
            by_page.setdefault(_page_of(entry["href"]), []).append(entry)
    return [e for p in pages for e in by_page.get(html_name(p), [])]


_URL = re.compile(r"\s*<url>\s*<loc>(?P<loc>[^<]*)</loc>.*?</url>", re.S)
SITEMAP_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')


def sitemap_urls(text: str) -> dict[str, str]:
    """A sitemap's ``<url>`` blocks by address, as written."""
    return {m["loc"]: m[0].strip() for m in _URL.finditer(text)}


def merge_sitemap(
    earlier: str, rendered: Iterable[str], pages: Sequence[str], redone: Iterable[str],
    site_url: str,
) -> str:
    """One sitemap, merged as ``merge_search`` merges the search index (pages by address)."""
    redone_urls = {site_url + html_name(p) for p in redone}
    urls = {loc: block for loc, block in sitemap_urls(earlier).items() if loc not in redone_urls}
    for text in rendered:
        urls.update(sitemap_urls(text))
    blocks = [urls[u] for u in (site_url + html_name(p) for p in pages) if u in urls]
    return SITEMAP_HEAD + "".join(f"  {b}\n" for b in blocks) + "</urlset>\n"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def assemble(
    stage: Path, plan: Plan, shards: Sequence[Path], earlier: Path, new: Path, site_url: str
) -> None:
    """Write the site into ``new``: ``earlier`` (hard links) unless the render is cold, without
    the outputs of the pages rendered again or removed, then the shards' outputs, the downloads,
    and the merged search index and sitemap."""
    shutil.rmtree(new, ignore_errors=True)
    if plan.cold or not earlier.exists():
        new.mkdir(parents=True)
    else:
        shutil.copytree(earlier, new, copy_function=os.link)
        for page in [*plan.render, *plan.removed]:
            for out in page_outputs(new, page):
                shutil.rmtree(out) if out.is_dir() else out.unlink()
    outputs = [s / SHARD_OUTPUT for s in shards]
    for shard, out in zip(shards, outputs, strict=True):
        own = {html_name(p) for p in render_list(shard)}
        for f in tree_files(out):
            rel = f.relative_to(out)
            if rel.as_posix() in MERGED or (f.suffix == ".html" and rel.as_posix() not in own):
                continue  # merged below, or a page of another shard (Quarto writes a redirect
                # index.html into a project that has no index page)
            dest = new / rel
            dest.unlink(missing_ok=True)  # a hard link to the earlier site: never write through
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
    shutil.rmtree(new / DOWNLOADS, ignore_errors=True)
    if (stage / DOWNLOADS).exists():
        shutil.copytree(stage / DOWNLOADS, new / DOWNLOADS, copy_function=os.link)
    old_search = json.loads(_read(new / "search.json") or "[]")
    found = [json.loads(_read(o / "search.json") or "[]") for o in outputs]
    search = merge_search(old_search, found, plan.pages, plan.render)
    (new / "search.json").unlink(missing_ok=True)
    write_atomic(new / "search.json", json.dumps(search, ensure_ascii=False, indent=2))
    maps = [_read(o / "sitemap.xml") for o in outputs]
    if site_url and any(maps):
        text = merge_sitemap(_read(new / "sitemap.xml"), maps, plan.pages, plan.render, site_url)
        (new / "sitemap.xml").unlink(missing_ok=True)
        write_atomic(new / "sitemap.xml", text)
