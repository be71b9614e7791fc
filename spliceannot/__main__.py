"""``python -m spliceannot``: the same entry point as the ``spliceannot`` command."""

from spliceannot.cli import main

if __name__ == "__main__":
    main()
