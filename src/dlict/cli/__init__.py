"""The command line: parsing and printing only; the work is done in the other packages."""
