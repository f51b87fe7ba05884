"""Bundle layout: run-dir name, container log file names (three variants), test-log placement."""

from __future__ import annotations

from dataclasses import dataclass

CONTAINERS = ("datastorage", "postgres", "redis")


@dataclass(frozen=True)
class BundleNames:
    """File names for one bundle."""

    service: str
    naming: str
    test_log: str

    def container(self, short: str) -> str:
        """The container's name, e.g. `signalprocessing_datastorage_test`."""
        return f"{self.service}_{short}_test"

    def log_stem(self, short: str) -> str:
        """File stem of a container's log: real double prefix, the DD doc's, or the code comment's."""
        if self.naming == "double":
            return f"{self.service}_{self.container(short)}"
        if self.naming == "single":
            return f"{self.service}_{short}_test"
        return f"{self.service}_sp_{short}"

    def run_dir(self, stamp: str) -> str:
        """`{service}-integration-{YYYYMMDD-HHMMSS}` from the local collection time."""
        return f"{self.service}-integration-{stamp}"

    def test_log_path(self, run_dir: str) -> str | None:
        """Bundle-relative path of the Ginkgo log, or None when none is written."""
        if self.test_log == "ci":
            return f"integration-{self.service}.log"
        if self.test_log == "local":
            return f"{run_dir}/sp-integration-test-run.log"
        return None
