"""HTML building blocks for the report: escaping, JSON in ``<script>``, a small safe markdown converter.

The markdown converter covers what report captions and notes need (headings,
paragraphs, lists, fenced and inline code, bold, italic, links). Every piece of
source text is HTML-escaped before any markup is added, so text cannot inject
tags; link targets are limited to safe schemes. It needs no markdown package, so the
same text gives the same HTML everywhere.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

_SAFE_URL = re.compile(r"^(https?:|mailto:|#|\.{0,2}/|[\w.-]+(/|$|#|\.))", re.IGNORECASE)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def esc(text: Any) -> str:
    """HTML-escape text for element content and quoted attributes."""
    return html.escape(str(text), quote=True)


def json_script(data: Any, element_id: str) -> str:
    """A ``<script type="application/json">`` block whose content cannot end the script early."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


def slug(text: str, fallback: str = "item") -> str:
    """A lowercase ASCII id fragment (deterministic; used for anchors and file names)."""
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return s[:48] or fallback


def _inline(text: str) -> str:
    """Escape one line of text, then apply code spans, links, bold and italic."""
    codes: list[str] = []

    def keep_code(m: re.Match) -> str:
        codes.append(f"<code>{esc(m.group(1))}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE_SPAN.sub(keep_code, text)
    text = esc(text)

    def link(m: re.Match) -> str:
        url = html.unescape(m.group(2))
        if not _SAFE_URL.match(url) or url.lower().startswith(("javascript:", "data:", "vbscript:")):
            return m.group(0)
        return f'<a href="{esc(url)}">{m.group(1)}</a>'

    text = _LINK.sub(link, text)
    text = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    text = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)


def markdown_to_html(text: str, heading_offset: int = 0) -> str:
    """Convert markdown to HTML safely (escaped source; no raw HTML passes through).

    ``heading_offset`` demotes headings (``#`` becomes ``<h3>`` with 2), so notes sit under the page's sections.
    """
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if para:
            out.append("<p>" + " ".join(_inline(p) for p in para) + "</p>")
            para.clear()
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""

    lines = str(text).replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            flush()
            lang = line.strip()[3:].strip()
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            cls = f' class="language-{esc(slug(lang))}"' if lang else ""
            out.append(f"<pre><code{cls}>{esc(chr(10).join(body))}</code></pre>")
        elif not line.strip():
            flush()
        elif m := _HEADING.match(line):
            flush()
            level = min(6, len(m.group(1)) + heading_offset)
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
        elif (m := _BULLET.match(line)) or (m := _NUMBERED.match(line)):
            tag = "ul" if _BULLET.match(line) else "ol"
            if para or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append(m.group(1))
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out)
