from dlict.cli.app import main

main()
