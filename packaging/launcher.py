"""PyInstaller's entry script: the same `monitor` command as the installed console script."""

import sys

from monitor.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
