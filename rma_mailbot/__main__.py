from rma_mailbot.cli import main

main()
