"""The package imports from the build tree as installed, with its stubs and docs."""

import pathlib

import syncstream


def test_exports():
    for name in syncstream.__all__:
        assert hasattr(syncstream, name), name
    assert syncstream.LineBuffer is syncstream.mproc.LineBuffer
    assert syncstream.GroupedMessage is syncstream.base.GroupedMessage


def test_version_is_the_library_version():
    assert syncstream.__version__ == syncstream._core.library_version
    assert syncstream.__version__.count(".") == 2


def test_typed_package():
    package = pathlib.Path(syncstream.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_core.pyi").is_file()


def test_help_teaches():
    doc = syncstream.LineBuffer.__doc__
    assert "per_thread" in doc and "sys.stdout" in doc
    for method in ("write", "read", "clear", "new_line", "flush", "close"):
        assert getattr(syncstream.LineBuffer, method).__doc__, method


def test_pyproject_has_sync_streams_extras():
    # The seed's install line, `pip install syncstream[option1,option2...]`,
    # names four extras; pip only warns about an extra the package lacks.
    import tomllib

    pyproject = pathlib.Path(__file__).resolve().parents[2] / "pyproject.toml"
    with pyproject.open("rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    assert {"file", "host", "test", "dev"} <= set(extras)
