from casechain.cli import main

main()
