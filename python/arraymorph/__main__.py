"""``python -m arraymorph ...`` runs the ``arraymorph`` command (see arraymorph.cli)."""

from arraymorph.cli import main

if __name__ == "__main__":
    main()
