"""What the distribution ships: the license, every package, the version, and quiet logging."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import textwrap
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

import brokerwire

ROOT = Path(__file__).resolve().parent.parent
#: What a wheel is built from (the rest of the repository is not shipped).
SOURCES = ("core", "adapters", "pyproject.toml", "README.md", "LICENSE")
#: Source folders and the package each one is installed as.
PACKAGE_ROOTS = {"core": "brokerwire/core", "adapters": "brokerwire/adapters"}
TOP_PACKAGE = Path("adapters/_package")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built, without network access, from a copy of the sources."""
    tree = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(  # noqa: S603 - pip, from this Python
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(dist),
            str(tree),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = dist.glob("brokerwire-*.whl")
    return built


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_the_repository_has_an_mit_license() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the brokerwire authors" in text


def test_the_wheel_carries_the_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        licenses = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert len(licenses) == 1
        assert archive.read(licenses[0]).decode() == (ROOT / "LICENSE").read_text()
    metadata = _metadata(wheel)
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_the_wheel_says_which_pythons_it_supports(wheel: Path) -> None:
    metadata = _metadata(wheel)
    classifiers = set(metadata.get_all("Classifier") or [])
    for minor in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {minor}" in classifiers
    assert metadata["Requires-Python"] == ">=3.11"
    # No project address is given until the project has a public one.
    assert metadata.get_all("Project-URL") is None


def _installed_as(folder: Path) -> str:
    if folder == TOP_PACKAGE:
        return "brokerwire"
    root, *rest = folder.parts
    return "/".join([PACKAGE_ROOTS[root], *rest])


def test_the_wheel_holds_every_package(wheel: Path) -> None:
    expected = {
        _installed_as(init.parent.relative_to(ROOT)) + "/__init__.py"
        for root in PACKAGE_ROOTS
        for init in (ROOT / root).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.endswith("/__init__.py")}
        names = set(archive.namelist())
    assert expected - shipped == set(), "a package is missing from [tool.setuptools] packages"
    assert "brokerwire/__init__.py" in shipped
    assert {"brokerwire/py.typed", "brokerwire/core/py.typed"} <= names
    assert not any("_package" in n for n in names)  # installed as brokerwire/, not twice


def test_the_version_of_the_built_wheel(wheel: Path, tmp_path: Path) -> None:
    """Unpacked alone (no site-packages), the wheel knows its version from its metadata."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        import brokerwire, brokerwire.adapters
        print(brokerwire.__version__)
        print(brokerwire.__file__)
        """
    )
    done = subprocess.run(  # noqa: S603 - this Python
        [sys.executable, "-S", "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    shown, location = done.stdout.splitlines()
    assert shown == _metadata(wheel)["Version"]
    assert Path(location).is_relative_to(tmp_path)
    assert done.stderr == ""


def test_the_version_of_the_installed_package() -> None:
    assert brokerwire.__version__ == version("brokerwire")
    assert brokerwire.__version__[0].isdigit()


QUIET_CLIENT = """
from brokerwire.adapters.events import Disconnected
from brokerwire.adapters.simulators import TradovateSimulator
from brokerwire.adapters.threaded import TradovateClient

with TradovateSimulator(quote_rate=50) as sim:
    client = TradovateClient(sim.url, token=sim.token, connect_timeout=20)
    client.connect()
    client.subscribe_quote("ESZ6")
    next(iter(client.events(timeout=20)))
# The simulator has stopped: the client logs a warning and tries to reconnect.
for event in client.events(timeout=20):
    if isinstance(event, Disconnected):
        print("Disconnected")
        break
client.close()
"""


def test_a_program_that_sets_up_no_logging_prints_nothing_it_did_not_ask_for() -> None:
    """The client logs a warning when the link drops; with no logging configured, Python
    would print it on stderr."""
    done = subprocess.run(  # noqa: S603 - this Python
        [sys.executable, "-c", QUIET_CLIENT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Disconnected"
    assert done.stderr == ""
