"""Every exception and warning of vilab lives in vilab.errors, is exported from vilab, and is
the same class under its older import paths (so existing ``except`` clauses keep working)."""

import importlib
import inspect
import warnings

import pytest

import vilab
import vilab.errors as errors

# class name -> (the built-in it still is, the older import paths that must give the same class)
CLASSES = {
    "VilabError": (Exception, []),
    "ModelGuideMismatch": (ValueError, ["vilab.inf.errors", "vilab.checks.messages"]),
    "TrainingDiverged": (FloatingPointError, []),
    "CheckpointError": (ValueError, []),
    "GraphvizMissing": (RuntimeError, []),
    "InfError": (ValueError, ["vilab.inf", "vilab.inf.errors"]),
    "DatasetUnavailable": (RuntimeError, ["vilab.datasets", "vilab.datasets.download"]),
    "DownloadError": (RuntimeError, ["vilab.datasets", "vilab.datasets.download"]),
    "DataSourceNotice": (UserWarning, ["vilab.datasets", "vilab.datasets.mnist"]),
    "SolutionMarkerError": (ValueError, ["vilab.course.build", "vilab.course.cli"]),
    "CommandLineError": (Exception, ["vilab.cli"]),
    "VilabWarning": (UserWarning, ["vilab.checks", "vilab.checks.messages"]),
}


def _defined_here(module):
    return {
        name
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == module.__name__
    }


def test_the_table_lists_every_class_of_vilab_errors():
    assert _defined_here(errors) == set(CLASSES)
    assert sorted(errors.__all__) == sorted(CLASSES)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_is_exported_and_keeps_its_builtin_base(name):
    cls = getattr(errors, name)
    builtin, _ = CLASSES[name]
    assert getattr(vilab, name) is cls
    assert name in vilab.__all__
    assert issubclass(cls, builtin)
    family = errors.VilabWarning if issubclass(cls, Warning) else errors.VilabError
    assert issubclass(cls, family)


@pytest.mark.parametrize(
    "name, path", [(name, path) for name, (_, paths) in CLASSES.items() for path in paths]
)
def test_old_import_path_gives_the_same_class(name, path):
    assert getattr(importlib.import_module(path), name) is getattr(errors, name)


@pytest.mark.parametrize(
    "path",
    [
        "vilab.checks.messages",
        "vilab.inf.errors",
        "vilab.datasets.download",
        "vilab.datasets.mnist",
        "vilab.course.build",
        "vilab.cli",
    ],
)
def test_old_modules_define_no_public_exception_of_their_own(path):
    """No duplicate definitions: private helpers (``_TransferFailed``) may stay."""
    module = importlib.import_module(path)
    assert {n for n in _defined_here(module) if not n.startswith("_")} == set()


def test_except_valueerror_still_catches_inf_errors():
    from vilab import inf

    with pytest.raises(ValueError, match="Expected loss='ELBO'"):
        inf.inference.VI(loss="KL")


def test_vilab_warning_carries_its_diagnostic():
    from vilab.checks import Diagnostic

    diagnostic = Diagnostic("missing-plate", "x", "data dimension outside any plate", fix="plate")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(errors.VilabWarning(diagnostic), stacklevel=1)
    assert caught[0].message.diagnostic is diagnostic
    assert str(caught[0].message) == str(diagnostic)
    assert "[V8 missing-plate] warning at 'x'" in str(caught[0].message)


def test_command_line_error_reads_as_one_line_without_the_notebook_hint():
    from vilab.cli import _one_line

    line = _one_line(errors.CommandLineError("cannot write to runs/x. Fix: pass --out."))
    assert line == "cannot write to runs/x. Fix: pass --out."
    line = _one_line(errors.CheckpointError("wrong sites. Fix: load the right file."))
    assert line.endswith("(train it in a notebook to read the whole explanation and fixes)")
