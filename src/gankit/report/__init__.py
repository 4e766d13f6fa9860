"""HTML pages about finished runs: ``gankit report`` (one run) and ``gankit compare`` (several).

Each page is one self-contained file: images are embedded as ``data:`` URIs, curves are
inline SVG, the CSS and the few lines of JavaScript (the sample-grid slider) are inline, so
it opens offline from anywhere. Built with the standard library (``html.escape``, string
joins). The report sits at the end of the data flow: it reads run directories, metrics and
plots; nothing in gankit imports it.
"""

from gankit.report.compare import config_differences, write_comparison
from gankit.report.run_files import RunFiles, read_run_files
from gankit.report.run_report import write_run_report

__all__ = ["RunFiles", "config_differences", "read_run_files", "write_comparison", "write_run_report"]
