import plotly.graph_objects as go
import pytest

from musicinterp.views.offline import save_figure_html


def test_figure_html_is_offline_and_deterministic(tmp_path):
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), layout_title_text="t")
    a = save_figure_html(fig, tmp_path / "sub" / "a.html").read_text()
    b = save_figure_html(fig, tmp_path / "b.html").read_text()
    assert a == b
    assert "cdn.plot.ly" not in a.split("</script>", 1)[0][:2000]  # no CDN <script src=...>
    assert "<script src=" not in a and a.count("Copyright 2012-") == 1
    assert 'id="figure"' in a and not list(tmp_path.glob(".*tmp*"))


def test_refuses_a_non_figure(tmp_path):
    with pytest.raises(TypeError, match="fig must be a plotly"):
        save_figure_html({"data": []}, tmp_path / "x.html")
