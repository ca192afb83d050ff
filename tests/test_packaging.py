"""The engine stays free of widgets (the set-up files are checked in test_hub_files.py)."""

import subprocess
import sys


def test_the_engine_trains_with_ipywidgets_blocked():
    code = (
        "import sys; sys.modules['ipywidgets'] = None; sys.modules['IPython'] = None\n"
        "import vilab, vilab.engine, vilab.cli\n"
        "from vilab.exercises import temperature\n"
        "t = temperature.make_trainer(); t.run(5, progress=True)\n"
        "assert len(t.history) == 5\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
