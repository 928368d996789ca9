"""One module per CLI command, each with its own argparse parser and `main(argv) -> int`."""
