"""The course around the notebooks: the student editions and the answer checks.

* :mod:`vilab.course.build` writes the student edition of each notebook (``vilab course
  build``): nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions become a stub,
  ``# HINT:`` lines stay, ``# BLANK:`` lines give a ``...`` blank.
* :mod:`vilab.course.checks` holds the answer checks the notebooks call after each exercise.
"""
