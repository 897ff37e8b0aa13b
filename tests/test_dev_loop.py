"""The developer's loop of the README: an editable install that runs the checkout's code, sees an
edit at once, and that mypy follows.

setuptools' default editable install is an import hook, which mypy cannot follow; the strict
mode that ``pyproject.toml`` sets makes it a tree of links to the checkout's files on
``sys.path`` instead. Here a copy of the sources is installed as the README says, offline, into
a throwaway environment that borrows this one's tools (pip, setuptools, mypy).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tests.helpers import CHECKOUT, library_sources

pytestmark = pytest.mark.timeout(240)

SOURCES = ("core", "adapters", "pyproject.toml", "README.md", "LICENSE")


def _installed_name(path: Path) -> str:
    """The module a file of the checkout is installed as."""
    folder, *rest = path.relative_to(CHECKOUT).with_suffix("").parts
    if rest[:1] == ["_package"]:  # brokerwire itself
        folder, rest = "", rest[1:]
    if rest[-1:] == ["__init__"]:
        rest = rest[:-1]
    return ".".join(["brokerwire", *([folder] if folder else []), *rest])


def test_the_brokerwire_these_tests_import_is_this_checkout() -> None:
    """File for file: an install made from another tree, or before a module was added, would
    have the tests pass or fail on code that is not the one being changed."""
    sources = library_sources("core", "adapters")
    assert len(sources) > 50
    differ = []
    for path in sources:
        name = _installed_name(path)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            differ.append(f"{name} is not installed")
        elif Path(spec.origin).read_bytes() != path.read_bytes():
            differ.append(f"{name} is not {path.relative_to(CHECKOUT)}")
    assert differ == [], "install the checkout again (see the README's Development section)"


def _run(*command: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - interpreters and tools of this test's own making
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=check,
        timeout=180,
    )


@pytest.fixture(scope="module")
def editable(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the copy of the checkout, the python of an environment it is installed in, editable)."""
    tree = tmp_path_factory.mktemp("checkout")
    for name in SOURCES:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / name)
    env = tmp_path_factory.mktemp("env")
    _run(sys.executable, "-m", "venv", "--without-pip", env, cwd=env)
    python = env / "bin" / "python"
    shown = _run(python, "-c", "import site; print(site.getsitepackages()[0])", cwd=env)
    # This environment's packages come after the editable install's own path entry: ".pth"
    # files are read in name order, and "__editable__..." sorts before "_tools".
    site_packages = Path(shown.stdout.strip())
    (site_packages / "_tools.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--editable",
        tree,
        cwd=env,
    )
    return tree, python


def test_the_editable_install_runs_the_checkouts_files(editable: tuple[Path, Path]) -> None:
    tree, python = editable
    shown = _run(python, "-c", "import brokerwire.core.errors as m; print(m.__file__)", cwd=tree)
    assert Path(shown.stdout.strip()).resolve() == (tree / "core" / "errors.py").resolve()


def test_an_edit_is_seen_without_installing_again(editable: tuple[Path, Path]) -> None:
    tree, python = editable
    with (tree / "adapters" / "errors.py").open("a", encoding="utf-8") as module:
        module.write("\nEDITED_IN_PLACE = 'yes'\n")
    shown = _run(
        python, "-c", "import brokerwire.adapters.errors as m; print(m.EDITED_IN_PLACE)", cwd=tree
    )
    assert shown.stdout.strip() == "yes"


def test_mypy_follows_the_editable_install(editable: tuple[Path, Path]) -> None:
    """mypy reads the checkout's own files through the install: a name that only the copy has
    is found, with its type, and the one error is the probe's own (behind an import hook the
    import would not be found at all)."""
    tree, python = editable
    with (tree / "core" / "errors.py").open("a", encoding="utf-8") as module:
        module.write("\nONLY_IN_THIS_COPY: int = 1\n")
    (tree / "probe.py").write_text(
        textwrap.dedent(
            """
            from brokerwire.core.errors import ONLY_IN_THIS_COPY

            wrong: str = ONLY_IN_THIS_COPY
            """
        )
    )
    checked = _run(
        python, "-m", "mypy", "--strict", "--no-incremental", "probe.py", cwd=tree, check=False
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, checked.stdout + checked.stderr
    assert 'expression has type "int", variable has type "str"' in errors[0]
