"""``python -m catenax``: the same as the ``catenax`` command."""

from catenax.cli import main

if __name__ == "__main__":
    main()
