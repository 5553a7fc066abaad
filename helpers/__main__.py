"""``python -m helpers fashion [digits] [--download]``: fetch and verify the data sets."""

from helpers.data import main

main()
