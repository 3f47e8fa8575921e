from bench.journeys.run import main

main()
