"""The exceptions the command line reports as plain errors (no traceback)."""

from harness.build_stamp import StaleBuildError
from harness.kbuild import BuildError
from harness.kconfig import ConfigError
from harness.series import SeriesError
from harness.submission import SubmissionError
from harness.tools import ToolError
from harness.tree import AssemblyError
from harness.vm import GuestError

HARNESS_ERRORS = (AssemblyError, BuildError, ConfigError, GuestError, SeriesError,
                  StaleBuildError, SubmissionError, ToolError)
