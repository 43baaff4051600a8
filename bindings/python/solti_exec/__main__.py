"""``python -m solti_exec run [options] -- CMD [ARGS...]``; see :mod:`solti_exec.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
