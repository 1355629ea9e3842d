"""``python -m catenax``: the same as the ``catenax`` command."""

from .cli import main

if __name__ == "__main__":
    main()
