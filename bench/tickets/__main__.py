from bench.tickets.run import main

main()
