from scigan.cli import main

main()
