"""Run the arbqos command line with `python -m arbqos`."""

from arbqos.cli import main

if __name__ == "__main__":
    main()
