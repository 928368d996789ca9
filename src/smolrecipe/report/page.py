"""A report page as blocks, rendered twice: Markdown beside its PNGs, and one self-contained HTML file.

    page = Page("tiny: report card")
    page.h2("Training"); page.p("..."); page.table(["run", "loss"], rows); page.image(path, "loss curves")
    page.write(folder)      # folder/REPORT.md (+ the PNGs copied beside it) and folder/report.html (images inline)

The HTML embeds every image as base64 PNG data, so the file opens in a browser offline and can be sent alone.
"""
from __future__ import annotations

import base64
import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from smolrecipe.publish import atomic_write_text

CSS = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
       "th{background:#f4f4f4}img{max-width:100%;border:1px solid #eee}figcaption{color:#666;font-size:.9em}"
       "code{background:#f4f4f4;padding:0 .2em}")


@dataclass
class Page:
    title: str
    blocks: list[tuple] = field(default_factory=list)

    def h2(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, header: list[str], rows: list[list]) -> None:
        if rows:
            self.blocks.append(("table", header, [[("" if c is None else str(c)) for c in r] for r in rows]))

    def image(self, path: Path | None, caption: str) -> None:
        if path is not None and Path(path).is_file():
            self.blocks.append(("img", Path(path), caption))

    def markdown(self, image_names: dict[Path, str]) -> str:
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            if b[0] == "h2":
                out += [f"## {b[1]}", ""]
            elif b[0] == "p":
                out += [b[1], ""]
            elif b[0] == "table":
                out += ["| " + " | ".join(b[1]) + " |", "|" + "---|" * len(b[1])]
                out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in b[2]] + [""]
            elif b[0] == "img":
                out += [f"![{b[2]}]({image_names[b[1]]})", f"*{b[2]}*", ""]
        return "\n".join(out)

    def html(self) -> str:
        def inline(text: str) -> str:  # `code` and **bold**, everything else escaped
            text = html.escape(text)
            text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
            return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)

        out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{html.escape(self.title)}</title>",
               f"<style>{CSS}</style></head><body>", f"<h1>{html.escape(self.title)}</h1>"]
        for b in self.blocks:
            if b[0] == "h2":
                out.append(f"<h2>{inline(b[1])}</h2>")
            elif b[0] == "p":
                out.append(f"<p>{inline(b[1])}</p>")
            elif b[0] == "table":
                out.append("<table><tr>" + "".join(f"<th>{inline(h)}</th>" for h in b[1]) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in b[2]]
                out.append("</table>")
            elif b[0] == "img":
                data = base64.b64encode(b[1].read_bytes()).decode()
                out.append(f'<figure><img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}">'
                           f"<figcaption>{inline(b[2])}</figcaption></figure>")
        return "\n".join(out + ["</body></html>"]) + "\n"

    def write(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        names: dict[Path, str] = {}
        for b in self.blocks:
            if b[0] == "img" and b[1] not in names:
                name = f"{len(names) + 1:02d}-{b[1].name}"
                if b[1].resolve() != (folder / name).resolve():
                    shutil.copyfile(b[1], folder / name)
                names[b[1]] = name
        md, page = folder / "REPORT.md", folder / "report.html"
        atomic_write_text(md, self.markdown(names))
        atomic_write_text(page, self.html())
        return md, page
