"""Offline Data Docs: the CSS, JS and fonts that GE's pages load from CDNs come from the package instead.

``docs_assets/`` holds those files as published on the npm registry, at the versions GE's templates name
(see its README for versions, licences and tarball checksums). :func:`make_offline` copies them once per
lake, beside the runs' quality folders (``<lake>/_quality/_docs_assets/``: one copy shared by every run's
pages), rewrites each page's CDN links into relative links to them, and points GE's logo (an S3 URL) at the
copy in the site's own ``static/images``. Where GE pins a file's Subresource Integrity hash, the packaged
file is checked against it (Bootstrap's and Popper's JS match byte for byte). A page with a resource URL it cannot map to a local file is
reported (logged) so that a GE upgrade that adds one is noticed; links that only navigate (``<a href>``) are
left alone.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("docs_assets")
SHARED_DIR = "_docs_assets"  # beside the runs' quality folders
QUALITY_FOLDER = "_quality"  # the lake's folder of quality results (etl.lake.LakePaths.quality)

#: CDN URL in GE 1.24's Data Docs templates -> file under ``docs_assets/`` (npm package@version/path).
CDN_FILES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap@4.3.1/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap@4.3.1/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery@3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js@1.12.9/dist/umd/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker@1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker@1.9.0/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free@6.6.0/css/all.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table@1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega@5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite@5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed@6.29.0/build/vega-embed.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
}
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"'\s]*/(logo-long\.png)[^\"'\s]*")
_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.I)
_SRI = re.compile(r'\s+integrity="(sha256|sha384|sha512)-([^"]+)"')
_CORS = re.compile(r'\s+crossorigin="[^"]*"')
_LOCAL = re.compile(r'\b(?:src|href)="([^"]+)"')
# A resource the browser loads by itself: src= of any element, href= of <link>.
_RESOURCE = re.compile(r"""<(?:[a-z]+\s[^>]*?\bsrc|link\s[^>]*?\bhref)\s*=\s*["'](https?://[^"']+)["']""", re.I)


def external_resources(html: str) -> list[str]:
    """The http(s) URLs a page makes the browser load (scripts, styles, images, frames), not plain links."""
    return _RESOURCE.findall(html)


def _sync_assets(target: Path) -> None:
    """Copy ``docs_assets`` to ``target`` (files missing or of another size only; each file atomically)."""
    for src in ASSETS.rglob("*"):
        if not src.is_file():
            continue
        dest = target / src.relative_to(ASSETS)
        if dest.exists() and dest.stat().st_size == src.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)


def _rel(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def _verify_sri(html: str, page: Path) -> str:
    """Check each packaged file against the Subresource Integrity hash GE's tag pins for the CDN copy, and
    drop ``integrity``/``crossorigin`` when it matches: from ``file://`` a cross-origin-mode request is
    blocked. A file that does not match keeps both, so the browser refuses it (and it is logged)."""

    def check(m: re.Match[str]) -> str:
        tag = m.group(0)
        sri, link = _SRI.search(tag), _LOCAL.search(tag)
        if sri is None or link is None or "://" in link.group(1):
            return tag
        local = (page.parent / link.group(1)).resolve()
        if not local.is_file():
            return tag
        digest = base64.b64encode(hashlib.new(sri.group(1), local.read_bytes()).digest()).decode()
        if digest != sri.group(2):
            log.warning("%s: %s does not match the integrity hash GE pins for it", page, local)
            return tag
        return _CORS.sub("", _SRI.sub("", tag))

    return _TAG.sub(check, html)


def _shared_assets(docs_dir: Path) -> Path:
    """``<lake>/_quality/_docs_assets`` for a site anywhere under ``<lake>/_quality/`` (a run's, or a parse
    worker's ``_quality/<run>/<shard>-<part>/data_docs``): one copy for every run and worker."""
    for folder in docs_dir.parents:
        if folder.name == QUALITY_FOLDER:
            return folder / SHARED_DIR
    return docs_dir.parent.parent / SHARED_DIR


def make_offline(docs_dir: Path, shared_assets: Path | None = None) -> list[str]:
    """Make the Data Docs site in ``docs_dir`` load nothing from the network; returns the resource URLs
    that stay external (none with the GE version this package pins).

    ``shared_assets`` is where the vendor files go (default: ``_docs_assets`` in the lake's ``_quality``
    folder above ``docs_dir``, beside the runs' quality folders; else ``<docs_dir>/../../_docs_assets``).
    """
    target = shared_assets or _shared_assets(docs_dir)
    _sync_assets(target)
    logo = docs_dir / "static" / "images" / "logo-long.png"
    left: list[str] = []
    for page in sorted(docs_dir.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        for url, local in CDN_FILES.items():
            html = html.replace(f'"{url}"', f'"{_rel(target / local, page)}"')
        if logo.exists():
            html = _LOGO.sub(_rel(logo, page), html)
        html = _verify_sri(html, page)
        page.write_text(html, encoding="utf-8")
        for url in external_resources(html):
            log.warning("Data Docs page %s still loads %s (not among the packaged assets)", page, url)
            left.append(url)
    return left
