import plotly

from musicinterp.report.page import CSS, document, fragment, plotly_script, toc_html


def test_document_inlines_the_installed_plotly_once_and_loads_nothing():
    page = document("A <b>title</b>", "<p>h</p>", "", "<p>body</p>")
    assert page.startswith("<!DOCTYPE html>") and page.count(f"plotly.js v{plotly.__version__}") <= 1
    assert page.count('<script type="text/javascript">') == 1 and "<script src" not in page
    assert "<title>A &lt;b&gt;title&lt;/b&gt;</title>" in page and "<p>body</p>" in page


def test_fragment_scopes_the_style_and_hides_plotly_from_requirejs():
    assert all(rule.strip().startswith(".mi-report") for rule in CSS.split("}") if rule.strip() and "{" in rule
               and not rule.strip().startswith("@"))
    assert "window.Plotly" not in fragment("t", "", "", "")  # plotly.js only in a notebook fragment
    nb = plotly_script(notebook=True)
    assert nb.index("window.define = undefined") < nb.index("window.define = window.__miDefine")


def test_contents_nest_titled_items_under_sections():
    html = toc_html([("sec-a", "A & B", [("i1", "first"), ("i2", "")]), ("sec-c", "C", [])])
    assert html == ('<nav class="mi-toc"><strong>Contents</strong><ol><li><a href="#sec-a">A &amp; B</a>'
                    '<ol><li><a href="#i1">first</a></li></ol></li><li><a href="#sec-c">C</a></li></ol></nav>')
