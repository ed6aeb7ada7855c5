import numpy as np
import plotly.graph_objects as go
import pytest

from musicinterp.report import Audio, Provenance, Report

SR = 8000


def tone(freq: float, seconds: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def sample_report(**kwargs) -> Report:
    """A few figures, a table and two short clips: what the browser test and others open."""
    prov = Provenance(model="organism", fingerprint="abc123", store_digest="d" * 64, seeds=[0, 7],
                      versions={"musicinterp": "0.test"}, command="musicinterp demo --quick")
    r = Report("sample report", prov, **kwargs)
    r.add("Notes with **bold**, `code` and a [link](#sec-figures).", section="Intro")
    r.add(go.Figure(go.Heatmap(z=[[0.5, 0.9], [0.7, 0.6]])), section="Figures", title="heatmap",
          caption="layer x head")
    r.add(go.Figure(go.Scatter(x=[0, 1, 2], y=[0.1, 0.5, 0.4], mode="lines+markers"),
                    layout_title_text="a line"), section="Figures")
    r.add(go.Figure(go.Bar(x=["a", "b"], y=[3, 1])), section="Figures", title="bars")
    r.add([{"method": "iti", "success": 0.75, "nll": 0.12}, {"method": "smitin", "success": 0.5, "nll": 0.3},
           {"method": "none", "success": 0.0, "nll": None}], section="Tables", title="comparison")
    r.add([Audio(tone(440), SR, "unsteered"), Audio(tone(660, 0.25), SR, "steered")], section="Audio",
          title="continuation 0")
    return r


@pytest.fixture
def report() -> Report:
    return sample_report()
