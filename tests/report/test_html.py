import json

import pytest

from musicinterp.report.html import esc, json_script, markdown_to_html, slug


def test_markdown_blocks_and_inline():
    md = ("## Results *now*\n\nA paragraph with **bold**, _italic_, `x < y` and a [link](https://a.org/x?a=1&b=2).\n"
          "continued line\n\n- one\n- two\n  more\n\n1. first\n2. second\n\n```python\nif a < b:\n    pass\n```")
    assert markdown_to_html(md) == (
        "<h2>Results <em>now</em></h2>\n"
        "<p>A paragraph with <strong>bold</strong>, <em>italic</em>, <code>x &lt; y</code> and a "
        '<a href="https://a.org/x?a=1&amp;b=2">link</a>. continued line</p>\n'
        "<ul><li>one</li><li>two more</li></ul>\n"
        "<ol><li>first</li><li>second</li></ol>\n"
        '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>')


def test_markdown_escapes_html_and_refuses_unsafe_links():
    out = markdown_to_html('<img src=x onerror="alert(1)"> [a](javascript:alert(1)) [b](data:text/html,x) [c](#sec)')
    assert "<img" not in out and "&lt;img" in out
    assert "href" in out and out.count("<a ") == 1 and 'href="#sec"' in out


def test_heading_offset():
    assert markdown_to_html("# A\n###### B", heading_offset=2) == "<h3>A</h3>\n<h6>B</h6>"


def test_snake_case_words_are_not_italic():
    assert markdown_to_html("use attn_z and my_var_name") == "<p>use attn_z and my_var_name</p>"


@pytest.mark.parametrize("text", ["</script>", "a</b", "<!--<script>", "plain"])
def test_json_script_round_trips_and_cannot_close_early(text):
    block = json_script({"v": text}, "d")
    inner = block[len('<script type="application/json" id="d">'):-len("</script>")]
    assert "</" not in inner and "<!--" not in inner
    assert json.loads(inner) == {"v": text}


def test_json_script_refuses_nan():
    with pytest.raises(ValueError):
        json_script({"v": float("nan")}, "d")


def test_esc_and_slug():
    assert esc('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert slug("Success vs. fidelity (drums)") == "success-vs-fidelity-drums"
    assert slug("!!!", "section") == "section"
