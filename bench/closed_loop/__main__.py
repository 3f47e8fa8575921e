from bench.closed_loop.run import main

main()
