"""Training loss curve: the steps and losses given, on labelled axes."""

from musicinterp.views.training import loss_curve_figure


def test_loss_curve_plots_the_given_points():
    fig = loss_curve_figure(range(0, 30, 10), [2.5, 1.25, 0.75], title="run 1")
    (trace,) = fig.data
    assert list(trace.x) == [0, 10, 20] and list(trace.y) == [2.5, 1.25, 0.75]
    assert trace.mode == "lines" and trace.name == "loss"
    assert fig.layout.title.text == "run 1"
    assert fig.layout.xaxis.title.text == "step"
    assert fig.layout.yaxis.title.text == "cross-entropy (nats)"


def test_loss_curve_default_title_and_empty_input():
    fig = loss_curve_figure([], [])
    assert fig.layout.title.text == "Organism training loss"
    assert list(fig.data[0].x) == [] and list(fig.data[0].y) == []
