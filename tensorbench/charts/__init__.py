"""Altair charts drawn from the tables `tensorbench.analysis` computes; no Streamlit here.

Every chart function takes the results table (and optional filters) and returns an Altair
chart; drawing is the caller's business: the dashboard shows it, :func:`save_chart` writes
SVG/PNG/PDF. Charts are unstyled; :func:`style` applies the "screen" or "talk" look. Every
chart takes ``machine`` to filter and splits by machine when more than one is shown.
"""

from .coverage import coverage_chart, latest_values_chart, status_chart
from .export import EXPORT_FORMATS, chart_bytes, save_chart
from .figures import compare_chart, heatmap_chart, param_scaling_chart, scaling_chart
from .roofline import roofline_chart
from .theme import FRAMEWORK_COLORS, empty_chart, empty_chart_message, style
from .trends import history_chart, thread_scaling_chart

__all__ = [
    "EXPORT_FORMATS",
    "FRAMEWORK_COLORS",
    "chart_bytes",
    "compare_chart",
    "coverage_chart",
    "empty_chart",
    "empty_chart_message",
    "heatmap_chart",
    "history_chart",
    "latest_values_chart",
    "param_scaling_chart",
    "roofline_chart",
    "save_chart",
    "scaling_chart",
    "status_chart",
    "style",
    "thread_scaling_chart",
]
