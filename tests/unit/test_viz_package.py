"""The figure package tells what to install when plotly is missing."""

import subprocess
import sys


def test_viz_without_plotly_says_which_extra_to_install(tmp_path):
    """Importing the figure package where plotly is missing names the extra to install."""
    (tmp_path / "plotly.py").write_text("raise ModuleNotFoundError(\"No module named 'plotly'\", name='plotly')\n")
    code = "import landscape_lib.viz"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "pip install 'landscape_lib[book]'" in result.stderr
