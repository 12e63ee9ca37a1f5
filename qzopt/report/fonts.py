"""The CJK font reports use, so that Chinese names never render as tofu boxes.

qzopt ships "Qzopt Sans CJK" (``qzopt/report/fonts/QzoptSansCJK.ttf``: WenQuanYi Micro Hei cut
down to Latin, punctuation and the 6,763 hanzi of GB 2312; Apache-2.0; rebuilt by
``tools/make_cjk_font.py``).  Charts draw with it through matplotlib's per-glyph font fallback;
HTML pages embed a subset holding only the characters the page uses, so they render the same
on a machine without any Chinese font and need nothing from the network.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

FONT_PATH = Path(__file__).with_name("fonts") / "QzoptSansCJK.ttf"
FAMILY = "Qzopt Sans CJK"
#: CSS font stack: the embedded font first for CJK, then what the reader's machine has.
CSS_STACK = f'"{FAMILY}", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(FONT_PATH, lazy=True) as font:  # closes the file (a lazy font keeps it open)
        return frozenset(font.getBestCmap())


def uncovered(text: str) -> str:
    """The CJK characters of ``text`` the shipped font lacks (they fall back to system fonts)."""
    cmap = _cmap()
    return "".join(sorted({c for c in text if ord(c) >= 0x2E80 and ord(c) not in cmap}))


def use_in_matplotlib() -> None:
    """Register the font with matplotlib and put it behind DejaVu Sans in the fallback list."""
    import matplotlib
    from matplotlib import font_manager

    if FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(FONT_PATH))
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", FAMILY]


def css_font_face(text: str) -> str:
    """An ``@font-face`` rule embedding the glyphs ``text`` needs (a data: URL, base64 TrueType)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    wanted = {ord(c) for c in text} | set(range(0x20, 0x7F))
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(unicodes=sorted(wanted & _cmap()))
    buf = io.BytesIO()
    # recalcTimestamp=False: the subset keeps the shipped font's date, so the same page gives
    # the same bytes on every run (saving stamped the time of day into the subset's 'head')
    with TTFont(FONT_PATH, recalcTimestamp=False) as font:
        sub.subset(font)
        font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: 400; '
            f'src: url(data:font/ttf;base64,{data}) format("truetype"); }}')
