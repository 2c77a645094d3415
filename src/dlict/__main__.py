from dlict.cli.entry import main

main()
