"""Run-wide test settings, for tests/ and notebooks/ alike (pytest loads this file whichever
of them is collected, so `pytest notebooks/NAME.ipynb` runs in smoke mode too).

Notebooks run under nbval in a kernel that inherits this process's environment, so the
variables set here reach them: smoke mode (export VILAB_SMOKE=0 to run the full class-sized
notebooks) and one thread per process (on 2 cores, several threads per process
oversubscribe and run 3x slower; vilab itself also defaults to one thread).
"""

import os

os.environ.setdefault("VILAB_SMOKE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
