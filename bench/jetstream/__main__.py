from bench.jetstream.run import main

main()
