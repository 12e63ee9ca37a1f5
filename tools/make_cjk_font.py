"""Build the CJK font qzopt ships for reports (run once by a maintainer; the output is committed).

Source: WenQuanYi Micro Hei 0.2.0-beta (Debian package fonts-wqy-microhei, Apache-2.0), itself
based on Droid Sans Fallback.  Kept: ASCII, Latin-1, general punctuation, CJK symbols and
punctuation, full-width forms and all 6,763 hanzi of GB 2312 (which covers every county and
district name of Guizhou), plus any character found in the bundled scenarios and data.  The
family is renamed "Qzopt Sans CJK" (a modified version must not pose as the original).

    apt-get install fonts-wqy-microhei
    python tools/make_cjk_font.py [/usr/share/fonts/truetype/wqy/wqy-microhei.ttc]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "qzopt" / "report" / "fonts" / "QzoptSansCJK.ttf"
FAMILY = "Qzopt Sans CJK"


def gb2312_hanzi() -> set[str]:
    chars = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def project_chars() -> set[str]:
    chars: set[str] = set()
    for pattern in ("scenarios/**/*.yaml", "scenarios/**/*.csv", "qzopt/data/**/*.csv", "qzopt/data/**/*.yaml"):
        for f in ROOT.glob(pattern):
            chars |= set(f.read_text(encoding="utf-8", errors="ignore"))
    return {c for c in chars if ord(c) >= 0x2E80}


def main(source: str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc") -> None:
    font = TTCollection(source).fonts[0]
    ranges = [(0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2190, 0x21FF), (0x3000, 0x303F), (0xFF00, 0xFFEF)]
    codepoints = {c for a, b in ranges for c in range(a, b + 1)}
    wanted = gb2312_hanzi() | project_chars()
    codepoints |= {ord(c) for c in wanted}
    cmap = font.getBestCmap()
    missing = sorted(c for c in wanted if ord(c) not in cmap)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = ["*"]
    sub = subset.Subsetter(options)
    sub.populate(unicodes=sorted(c for c in codepoints if c in cmap))
    sub.subset(font)
    for rec in font["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = FAMILY
        elif rec.nameID == 6:
            rec.string = FAMILY.replace(" ", "")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, {len(font.getBestCmap())} characters)")
    if missing:
        print(f"not in the source font: {''.join(missing)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
